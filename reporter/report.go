package reporter

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// Schema is the wire schema name of a usage report.
const Schema = "calctl.usage/v1"

// AgentInfo identifies the reporting agent without naming the host.
type AgentInfo struct {
	// Version is calctl's version (internal/buildinfo.Version).
	Version string `json:"version"`
	// HostnameHash is HostnameHash(deployment_id, hostname):
	// "sha256:" + 64 hex digits; the host name never leaves in clear.
	HostnameHash string `json:"hostname_hash"`
}

// Report is the JSON body POSTed to {endpoint}/v1/usage-reports, field for
// field as usage-protocol.md shows it.
type Report struct {
	// Schema is always Schema ("calctl.usage/v1").
	Schema string `json:"schema"`
	// DeploymentID is the id the billing side gave the deployment
	// (agent config deployment_id).
	DeploymentID string `json:"deployment_id"`
	// Period is the UTC month, "YYYY-MM".
	Period string `json:"period"`
	// PeriodStart is the month's first instant, RFC 3339 UTC.
	PeriodStart string `json:"period_start"`
	// PeriodEnd is the next month's first instant (exclusive), RFC 3339 UTC.
	PeriodEnd string `json:"period_end"`
	// Revision numbers this snapshot within (deployment, period): from 1,
	// only growing; part of the Idempotency-Key.
	Revision int `json:"revision"`
	// Final is true for the snapshot sent after the month ended plus the
	// grace period, from a full recount; false while the month is open.
	Final bool `json:"final"`
	// Correction is true when a closed month's later recount differs from
	// what was sent; Reason then says why.
	Correction bool `json:"correction"`
	// Reason explains a correction; "" otherwise.
	Reason string `json:"reason"`
	// Live is false for a month that ended before live_since: its
	// estimate is 0.
	Live bool `json:"live"`
	// GeneratedAt is when the count was taken, RFC 3339 UTC to the second.
	GeneratedAt string `json:"generated_at"`
	// Bookings are the month's counts ("Booking" rows by "createdAt");
	// bookings.total is what is billed.
	Bookings Counts `json:"bookings"`
	// Estimate is the money for the month (EstimateFor).
	Estimate Estimate `json:"estimate"`
	// Agent identifies the reporting calctl without naming the host.
	Agent AgentInfo `json:"agent"`
}

// Snapshot is one month's absolute count at one instant, before it is given
// a revision and becomes a Report.
type Snapshot struct {
	// Period is the month counted.
	Period Period
	// Counts are its absolute counts at GeneratedAt.
	Counts Counts
	// Live is IsLive(Period, live_since).
	Live bool
	// Final is true once the database's clock is past the month's end
	// plus the grace period.
	Final bool
	// Correction marks a recount of a closed month that differs from the
	// final report already sent.
	Correction bool
	// Reason says why a correction was made; "" otherwise.
	Reason string
	// GeneratedAt is when the count was taken.
	GeneratedAt time.Time
}

// IsLive reports whether a month is billable: it must end after live_since
// (a zero live_since means live from the start).
func IsLive(p Period, liveSince time.Time) bool {
	return liveSince.IsZero() || p.End().After(liveSince)
}

// HostnameHash returns "sha256:" + hex(sha256(deploymentID + "\n" + hostname)).
// The deployment id salts the hash so that the same host name does not give
// the same value across customers; the host name never leaves in clear.
func HostnameHash(deploymentID, hostname string) string {
	sum := sha256.Sum256([]byte(deploymentID + "\n" + hostname))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// NewReport builds the wire document for a snapshot at a revision.
func NewReport(deploymentID string, revision int, s Snapshot, agent AgentInfo) Report {
	counts := s.Counts
	if counts.ByStatus == nil {
		counts = NewCounts().Add(counts)
	}
	return Report{
		Schema:       Schema,
		DeploymentID: deploymentID,
		Period:       s.Period.String(),
		PeriodStart:  s.Period.Start().Format(time.RFC3339),
		PeriodEnd:    s.Period.End().Format(time.RFC3339),
		Revision:     revision,
		Final:        s.Final,
		Correction:   s.Correction,
		Reason:       s.Reason,
		Live:         s.Live,
		GeneratedAt:  s.GeneratedAt.UTC().Truncate(time.Second).Format(time.RFC3339),
		Bookings:     counts,
		Estimate:     EstimateFor(counts.Total, s.Live),
		Agent:        agent,
	}
}

// Marshal returns the exact bytes that are signed and sent: compact JSON,
// no HTML escaping, no trailing newline.
func (r Report) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return nil, fmt.Errorf("encode report: %w", err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// IdempotencyKey returns "{deployment_id}:{period}:{revision}".
func IdempotencyKey(deploymentID, period string, revision int) string {
	return fmt.Sprintf("%s:%s:%d", deploymentID, period, revision)
}
