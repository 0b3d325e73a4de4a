package checks_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calctl/calctl/checks"
)

func fixed(id string, sev checks.Severity, needs []checks.Source, fs ...checks.Finding) checks.Check {
	return checks.New(checks.Meta{ID: id, Title: id + " title", Severity: sev, Needs: needs, Remediation: "fix " + id},
		func(*checks.Facts) []checks.Finding { return fs })
}

func statuses(rs []checks.Result) string {
	var b []string
	for _, r := range rs {
		s := r.ID + "=" + string(r.Status)
		if r.Waiver != nil {
			s += "(waived)"
		}
		b = append(b, s)
	}
	return strings.Join(b, " ")
}

func TestRunSelectionAndMetadata(t *testing.T) {
	list := []checks.Check{
		fixed("PG-001", checks.High, nil, checks.Finding{Status: checks.Fail, Resource: "db"}),
		fixed("PG-002", checks.Medium, nil, checks.Finding{Status: checks.Pass}),
		fixed("NET-001", checks.High, nil, checks.Finding{Status: checks.Warn}),
		fixed("DK-007", checks.Low, nil, checks.Finding{Status: checks.Pass}),
	}
	tests := []struct {
		name       string
		only, skip []string
		want       string
	}{
		{"all", nil, nil, "PG-001=FAIL PG-002=PASS NET-001=WARN DK-007=PASS"},
		{"only glob", []string{"PG-*"}, nil, "PG-001=FAIL PG-002=PASS"},
		{"only list", []string{"pg-002", "NET-001"}, nil, "PG-002=PASS NET-001=WARN"},
		{"skip", nil, []string{"DK-007"}, "PG-001=FAIL PG-002=PASS NET-001=WARN"},
		{"only and skip", []string{"PG-*"}, []string{"PG-001"}, "PG-002=PASS"},
		{"comma list", checks.SplitList([]string{"PG-001,NET-*"}), nil, "PG-001=FAIL NET-001=WARN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := checks.Run(&checks.Facts{}, list, checks.Selection{Only: tt.only, Skip: tt.skip}, nil)
			if got := statuses(rep.Results); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	rep := checks.Run(&checks.Facts{}, list[:1], checks.Selection{}, nil)
	r := rep.Results[0]
	if r.Group != "PG" || r.Severity != checks.High || r.Remediation != "fix PG-001" || r.Resource != "db" {
		t.Errorf("metadata not filled: %+v", r)
	}
	if strings.Join(r.HIPAA, ",") != "164.312(e)(1),164.312(e)(2)(ii)" || r.HIPAAIDs[0] != "164_312_e_1" {
		t.Errorf("HIPAA cites: %v %v", r.HIPAA, r.HIPAAIDs)
	}
	if rep.Summary.Fail != 1 || rep.Summary.BySeverity["high"] != 1 {
		t.Errorf("summary: %+v", rep.Summary)
	}
	if err := (checks.Selection{Only: []string{"["}}).Validate(); err == nil {
		t.Error("bad glob accepted")
	}
}

func TestRunCollectorStates(t *testing.T) {
	f := &checks.Facts{}
	f.SetSource(checks.SourcePG, checks.SourceState{Error: "connection refused"})
	f.SetSource(checks.SourceDocker, checks.SourceState{Skipped: "--docker=false"})
	f.SetSource(checks.SourceFiles, checks.SourceState{Collected: true})
	list := []checks.Check{
		fixed("PG-001", checks.High, []checks.Source{checks.SourcePG}, checks.Finding{Status: checks.Pass}),
		fixed("DK-013", checks.High, []checks.Source{checks.SourceDocker}, checks.Finding{Status: checks.Pass}),
		fixed("CF-001", checks.High, []checks.Source{checks.SourceFiles}, checks.Finding{Status: checks.Pass}),
		fixed("NET-001", checks.High, []checks.Source{checks.SourceNet}, checks.Finding{Status: checks.Pass}),
		checks.New(checks.Meta{ID: "BK-001"}, func(*checks.Facts) []checks.Finding { panic("boom") }),
	}
	rep := checks.Run(f, list, checks.Selection{}, nil)
	if got, want := statuses(rep.Results), "PG-001=ERROR DK-013=SKIP CF-001=PASS NET-001=SKIP BK-001=ERROR"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if !strings.Contains(rep.Results[0].Message, "connection refused") || !strings.Contains(rep.Results[1].Message, "--docker=false") {
		t.Errorf("causes missing: %q / %q", rep.Results[0].Message, rep.Results[1].Message)
	}
	if !strings.Contains(rep.Results[4].Message, "panicked: boom") {
		t.Errorf("panic message: %q", rep.Results[4].Message)
	}
}

func TestWaivers(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	yaml := `
waivers:
  - id: DK-002
    resources: ["^calcom-db$"]
    reason: postgres drops to uid 999 via gosu
    expires: 2026-12-31
    approved_by: Security Officer
  - id: "NET-*"
    resource: "^https://"
    reason: behind a corporate proxy
  - id: CF-008
    reason: old BAA
    expires: 2026-05-31
`
	w, err := checks.ParseWaivers(strings.NewReader(yaml))
	if err != nil {
		t.Fatal(err)
	}
	rs := []checks.Result{
		{ID: "DK-002", Status: checks.Warn, Resource: "calcom-db"},
		{ID: "DK-002", Status: checks.Warn, Resource: "calcom-app"},
		{ID: "NET-003", Status: checks.Fail, Resource: "https://x"},
		{ID: "NET-001", Status: checks.Pass},
		{ID: "CF-008", Status: checks.Warn},
	}
	expired := w.Apply(rs, now)
	if got, want := statuses(rs), "DK-002=WARN(waived) DK-002=WARN NET-003=FAIL(waived) NET-001=PASS CF-008=WARN"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if len(expired) != 1 || expired[0].ID != "CF-008" {
		t.Errorf("expired = %+v", expired)
	}
	if rs[0].Waiver.ApprovedBy != "Security Officer" {
		t.Errorf("waiver not attached: %+v", rs[0].Waiver)
	}
	// Valid through the whole expiry day, ignored the day after.
	rs2 := []checks.Result{{ID: "DK-002", Status: checks.Warn, Resource: "calcom-db"}}
	if w.Apply(rs2, time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC)); rs2[0].Waiver == nil {
		t.Error("waiver should hold on its expiry day")
	}
	rs3 := []checks.Result{{ID: "DK-002", Status: checks.Warn, Resource: "calcom-db"}}
	if w.Apply(rs3, time.Date(2027, 1, 1, 0, 0, 1, 0, time.UTC)); rs3[0].Waiver != nil {
		t.Error("expired waiver applied")
	}
	// Waived findings do not count towards the exit code.
	if fs := checks.Findings(rs, checks.High, false); len(fs) != 0 {
		t.Errorf("findings = %v", statuses(fs))
	}
}

func TestParseWaiversErrors(t *testing.T) {
	tests := map[string]string{
		"waivers:\n  - reason: x\n":                                          "id is required",
		"waivers:\n  - id: PG-001\n":                                         "reason is required",
		"waivers:\n  - id: PG-001\n    reason: r\n    expires: 31/12/2026\n": "YYYY-MM-DD",
		"waivers:\n  - id: PG-001\n    reason: r\n    resources: ['(']\n":    "bad resource regex",
		"waivers:\n  - id: PG-001\n    reason: r\n    colour: red\n":         "colour",
		"waivers: [": "parse waivers",
	}
	for in, want := range tests {
		_, err := checks.ParseWaivers(strings.NewReader(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseWaivers(%q) = %v, want error containing %q", in, err, want)
		}
	}
}

// TestWaiversOverTheCapAreRefused: a waivers file over 4 MiB used to be cut
// off silently, so waivers past the cut did not apply.
func TestWaiversOverTheCapAreRefused(t *testing.T) {
	big := "waivers:\n" + strings.Repeat("  # padding padding padding padding padding padding padding\n", checks.MaxWaiversBytes/60+1) +
		"  - id: PG-001\n    reason: accepted\n"
	_, err := checks.ParseWaivers(strings.NewReader(big))
	if err == nil || !strings.Contains(err.Error(), "more than 4.0 MiB") || !strings.Contains(err.Error(), "refused, not cut off") {
		t.Fatalf("ParseWaivers(%d bytes) = %v", len(big), err)
	}
	p := filepath.Join(t.TempDir(), "waivers.yaml")
	if err := os.WriteFile(p, []byte(big), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := checks.LoadWaivers(p); err == nil || !strings.Contains(err.Error(), "read waivers: "+p+": (file): ") {
		t.Fatalf("LoadWaivers = %v", err)
	}
}

func TestFindingsThreshold(t *testing.T) {
	rs := []checks.Result{
		{ID: "A", Status: checks.Fail, Severity: checks.Medium},
		{ID: "B", Status: checks.Warn, Severity: checks.Critical},
		{ID: "C", Status: checks.Fail, Severity: checks.Critical},
	}
	for _, tt := range []struct {
		sev  checks.Severity
		warn bool
		want int
	}{{checks.High, false, 1}, {checks.Medium, false, 2}, {checks.High, true, 2}, {checks.Info, true, 3}} {
		if got := len(checks.Findings(rs, tt.sev, tt.warn)); got != tt.want {
			t.Errorf("Findings(%s,%v) = %d, want %d", tt.sev, tt.warn, got, tt.want)
		}
	}
	if _, err := checks.ParseSeverity("urgent"); err == nil {
		t.Error("bad severity accepted")
	}
}

func TestHIPAATableCoversIDs(t *testing.T) {
	for id, cites := range checks.HIPAATable {
		for _, c := range cites {
			if !strings.HasPrefix(c, "164.3") {
				t.Errorf("%s: bad cite %q", id, c)
			}
		}
	}
	if got := checks.HIPAAID("164.308(a)(7)(ii)(A)"); got != "164_308_a_7_ii_a" {
		t.Errorf("HIPAAID = %q, want the catalog's lower-case form", got)
	}
	for id, cites := range checks.HIPAATable {
		for _, c := range checks.HIPAAIDs(cites) {
			if c != strings.ToLower(c) {
				t.Errorf("%s: hipaa_id %q is not lower case", id, c)
			}
		}
		for _, c := range cites {
			if checks.HIPAASafeguards[c] == "" {
				t.Errorf("%s cites %s, which has no safeguard name", id, c)
			}
		}
	}
}

func FuzzParseWaivers(f *testing.F) {
	f.Add("waivers:\n  - id: DK-002\n    resources: [\"^db$\"]\n    reason: r\n    expires: 2026-12-31\n")
	f.Add("waivers:\n  - id: '*'\n    reason: all\n")
	f.Add("waivers: []\n")
	f.Add("")
	f.Add("waivers:\n  - id: [\n")
	f.Fuzz(func(t *testing.T, s string) {
		w, err := checks.ParseWaivers(strings.NewReader(s))
		if err != nil {
			return
		}
		rs := []checks.Result{{ID: "DK-002", Status: checks.Warn, Resource: "db"}, {ID: "PG-001", Status: checks.Fail}}
		w.Apply(rs, time.Now())
		for _, r := range rs {
			if r.Waiver != nil && r.Waiver.Reason == "" {
				t.Fatalf("waiver without reason applied: %+v", r.Waiver)
			}
		}
	})
}

// A runtime finding without a file location points at the setting that
// names its subject, so SARIF does not stack every one on line 1.
func TestDefaultLocation(t *testing.T) {
	c := checks.New(checks.Meta{ID: "PG-999", Title: "t", Severity: checks.Low, Needs: []checks.Source{checks.SourcePG}},
		func(f *checks.Facts) []checks.Finding {
			return []checks.Finding{{Status: checks.Warn, Resource: "postgres:db"}}
		})
	f := &checks.Facts{PG: &checks.PGFacts{}, Files: &checks.FileFacts{AppEnv: map[string]checks.EnvVar{
		"DATABASE_URL": {File: "/opt/calcom/.env", Line: 7}}}}
	f.SetSource(checks.SourcePG, checks.SourceState{Collected: true})
	r := c.Run(f)[0]
	if r.Location == nil || r.Location.Path != "/opt/calcom/.env" || r.Location.Line != 7 {
		t.Errorf("location = %+v, want .env:7", r.Location)
	}
}
