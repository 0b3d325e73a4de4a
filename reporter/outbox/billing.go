package outbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/calctl/calctl/internal/atomicfile"
	"github.com/calctl/calctl/internal/safefile"
)

// BillingView is what the billing endpoint said it holds for one period
// (GET {endpoint}/v1/usage-reports/{deployment_id}/{period}), as last seen.
// It is kept in state_dir/billing/YYYY-MM.json.
type BillingView struct {
	// Period is the month; CheckedAt when the endpoint was asked.
	Period string `json:"period"`
	// CheckedAt is when the endpoint was asked (the agent's clock).
	CheckedAt time.Time `json:"checked_at"`
	// Found is false when the endpoint answered 404 or 405: nothing
	// accepted (or an endpoint without the GET).
	Found bool `json:"found"`
	// LatestRevision, Final, Total and BodySHA256 describe the accepted
	// report with the highest revision: the one billed.
	LatestRevision int `json:"latest_revision,omitempty"`
	// Final is whether that report is the month's final one.
	Final bool `json:"final,omitempty"`
	// Total is its billed bookings total.
	Total int64 `json:"total,omitempty"`
	// BodySHA256 is the hex SHA-256 of its body as billing stored it.
	BodySHA256 string `json:"body_sha256,omitempty"`
	// AdoptedFinal is set when billing holds a final report, not sent from
	// this state dir, whose total equals this agent's full recount: the
	// month needs nothing more and is not counted again.
	AdoptedFinal bool `json:"adopted_final,omitempty"`
}

var billingNameRE = regexp.MustCompile(`^(\d{4}-\d{2})\.json$`)

func billingDir(stateDir string) string { return filepath.Join(stateDir, "billing") }

// SaveBillingView writes v atomically (mode 0600).
func SaveBillingView(stateDir string, v BillingView) error {
	if !billingNameRE.MatchString(v.Period + ".json") {
		return fmt.Errorf("billing view: bad period %q", v.Period)
	}
	if err := os.MkdirAll(billingDir(stateDir), 0o700); err != nil {
		return fmt.Errorf("billing view: %w", err)
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(billingDir(stateDir), v.Period+".json"), append(b, '\n'), 0o600)
}

// LoadBillingViews reads every saved view, by period. Unreadable files are
// skipped: a view is only a cache of what the endpoint says.
func LoadBillingViews(stateDir string) map[string]BillingView {
	out := map[string]BillingView{}
	des, err := safefile.ReadDir(billingDir(stateDir))
	if err != nil {
		return out
	}
	for _, de := range des {
		m := billingNameRE.FindStringSubmatch(de.Name())
		if m == nil {
			continue
		}
		b, err := safefile.Read(filepath.Join(billingDir(stateDir), de.Name()), maxStateFile, safefile.Options{NoFollow: true})
		if err != nil {
			continue
		}
		var v BillingView
		if json.Unmarshal(b, &v) == nil && v.Period == m[1] {
			out[v.Period] = v
		}
	}
	return out
}

// HasState reports whether stateDir holds anything about period: an outbox
// entry (also a quarantined one) or a billing view. A period without state
// is resynced from the endpoint before its first report.
func HasState(stateDir, period string) (bool, error) {
	if _, ok := LoadBillingViews(stateDir)[period]; ok {
		return true, nil
	}
	for _, d := range []string{Dir(stateDir), filepath.Join(Dir(stateDir), "quarantine")} {
		des, err := safefile.ReadDir(d)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("outbox: %w", err)
		}
		for _, de := range des {
			if strings.HasPrefix(de.Name(), period+".r") {
				return true, nil
			}
		}
	}
	return false, nil
}
