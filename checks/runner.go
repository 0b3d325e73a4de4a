package checks

import (
	"fmt"
	"path"
	"runtime/debug"
	"strings"
	"time"
)

// ReportSchemaVersion is the version of the JSON report.
const ReportSchemaVersion = "1.0"

// Tool names the program that made a report.
type Tool struct {
	// Name is the program's name ("calctl").
	Name string `json:"name"`
	// Version is its version (internal/buildinfo.Version).
	Version string `json:"version"`
}

// Summary counts results.
type Summary struct {
	// Pass counts PASS results.
	Pass int `json:"pass"`
	// Warn counts WARN results, waived ones included.
	Warn int `json:"warn"`
	// Fail counts FAIL results, waived ones included.
	Fail int `json:"fail"`
	// Skip counts SKIP results.
	Skip int `json:"skip"`
	// Manual counts MANUAL results.
	Manual int `json:"manual"`
	// Error counts ERROR results.
	Error int `json:"error"`
	// Waived counts results a waiver accepted (also in Warn or Fail).
	Waived     int            `json:"waived"`
	BySeverity map[string]int `json:"by_severity"` // unwaived WARN and FAIL
}

// Report is the outcome of a run: what `-o json` prints.
type Report struct {
	// SchemaVersion is ReportSchemaVersion.
	SchemaVersion string `json:"schema_version"`
	// Tool is the program that judged (set by the caller of Run).
	Tool Tool `json:"tool"`
	// Target is Facts.Target: what was checked.
	Target Target `json:"target"`
	// StartedAt is when judging began (UTC; not the collection time,
	// which is Facts.CollectedAt).
	StartedAt time.Time `json:"started_at"`
	// FinishedAt is when judging ended (UTC).
	FinishedAt time.Time `json:"finished_at"`
	// Summary counts Results.
	Summary Summary `json:"summary"`
	// ExpiredWaivers are the waivers past their expiry at collection
	// time, which were not applied.
	ExpiredWaivers []ExpiredWaiver `json:"expired_waivers,omitempty"`
	// Results are every selected check's results, in the order of the
	// check list (checks/catalog).
	Results []Result `json:"results"`
}

// Selection picks checks by ID globs (`PG-*`, `NET-001`).
type Selection struct {
	// Only, when not empty, keeps just the checks matching one of these
	// globs (path.Match, case-insensitive).
	Only []string
	// Skip drops the checks matching one of these globs, after Only.
	Skip []string
}

// Validate reports a malformed glob.
func (s Selection) Validate() error {
	for _, g := range append(append([]string(nil), s.Only...), s.Skip...) {
		if _, err := path.Match(g, "X"); err != nil {
			return fmt.Errorf("bad check pattern %q: %w", g, err)
		}
	}
	return nil
}

// Match reports whether a check ID is selected.
func (s Selection) Match(id string) bool {
	if len(s.Only) > 0 && !globAny(s.Only, id) {
		return false
	}
	return !globAny(s.Skip, id)
}

func globAny(globs []string, id string) bool {
	for _, g := range globs {
		g = strings.TrimSpace(g)
		if ok, _ := path.Match(strings.ToUpper(g), strings.ToUpper(id)); ok {
			return true
		}
	}
	return false
}

// SplitList splits comma-separated flag values.
func SplitList(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// Run judges facts with the selected checks, applies waivers (as of the
// facts' collection time) and returns the report. A check that panics gives
// ERROR; the run always completes.
func Run(f *Facts, list []Check, sel Selection, w *Waivers) *Report {
	rep := &Report{SchemaVersion: ReportSchemaVersion, Target: f.Target, StartedAt: time.Now().UTC()}
	for _, c := range list {
		if !sel.Match(c.ID()) {
			continue
		}
		rep.Results = append(rep.Results, runOne(c, f)...)
	}
	if w != nil {
		rep.ExpiredWaivers = w.Apply(rep.Results, f.Now())
	}
	rep.Summary = Summarize(rep.Results)
	rep.FinishedAt = time.Now().UTC()
	return rep
}

func runOne(c Check, f *Facts) (out []Result) {
	defer func() {
		if r := recover(); r != nil {
			m, _ := MetaOf(c)
			out = []Result{{ID: c.ID(), Title: c.Title(), Group: Group(c.ID()), Status: Error, Severity: m.Severity,
				HIPAA: HIPAAFor(c.ID()), HIPAAIDs: HIPAAIDs(HIPAAFor(c.ID())), Remediation: m.Remediation,
				Message: fmt.Sprintf("check panicked: %v", r), Evidence: Ev("stack", firstLines(string(debug.Stack()), 6))}}
		}
	}()
	return c.Run(f)
}

func firstLines(s string, n int) string {
	ls := strings.SplitN(s, "\n", n+1)
	if len(ls) > n {
		ls = ls[:n]
	}
	return strings.Join(ls, "\n")
}

// Summarize counts results by status and, for unwaived WARN/FAIL, by severity.
func Summarize(rs []Result) Summary {
	s := Summary{BySeverity: map[string]int{}}
	for _, sev := range Severities {
		s.BySeverity[string(sev)] = 0
	}
	for _, r := range rs {
		switch r.Status {
		case Pass:
			s.Pass++
		case Warn:
			s.Warn++
		case Fail:
			s.Fail++
		case Skip:
			s.Skip++
		case Manual:
			s.Manual++
		case Error:
			s.Error++
		}
		if r.Waiver != nil {
			s.Waived++
			continue
		}
		if r.Status == Warn || r.Status == Fail {
			s.BySeverity[string(r.Severity)]++
		}
	}
	return s
}

// Findings returns the unwaived FAIL results at or above threshold; these
// decide exit code 3. WARN counts too when warnAsFinding is set.
func Findings(rs []Result, threshold Severity, warnAsFinding bool) []Result {
	var out []Result
	for _, r := range rs {
		if r.Waiver != nil || r.Severity.Rank() < threshold.Rank() {
			continue
		}
		if r.Status == Fail || (warnAsFinding && r.Status == Warn) {
			out = append(out, r)
		}
	}
	return out
}
