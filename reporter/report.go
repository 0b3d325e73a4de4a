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
	Version      string `json:"version"`
	HostnameHash string `json:"hostname_hash"`
}

// Report is the JSON body POSTed to {endpoint}/v1/usage-reports, field for
// field as usage-protocol.md shows it.
type Report struct {
	Schema       string    `json:"schema"`
	DeploymentID string    `json:"deployment_id"`
	Period       string    `json:"period"`
	PeriodStart  string    `json:"period_start"`
	PeriodEnd    string    `json:"period_end"`
	Revision     int       `json:"revision"`
	Final        bool      `json:"final"`
	Correction   bool      `json:"correction"`
	Reason       string    `json:"reason"`
	Live         bool      `json:"live"`
	GeneratedAt  string    `json:"generated_at"`
	Bookings     Counts    `json:"bookings"`
	Estimate     Estimate  `json:"estimate"`
	Agent        AgentInfo `json:"agent"`
}

// Snapshot is one month's absolute count at one instant, before it is given
// a revision and becomes a Report.
type Snapshot struct {
	Period      Period
	Counts      Counts
	Live        bool
	Final       bool
	Correction  bool
	Reason      string
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
