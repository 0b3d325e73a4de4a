package output_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/checks/catalog"
	"github.com/calctl/calctl/checks/output"
	"github.com/calctl/calctl/internal/testenv"
)

// fixture is a fixed report: a FAIL with a file location, a waived WARN,
// a runtime WARN, a PASS, a SKIP, a MANUAL and an ERROR.
func fixture() *checks.Report {
	t0 := time.Date(2026, 11, 24, 1, 0, 0, 0, time.UTC)
	mk := func(id string, st checks.Status, res, msg string, loc *checks.Location) checks.Result {
		for _, c := range catalog.All() {
			if c.ID() == id {
				m, _ := checks.MetaOf(c)
				cites := checks.HIPAAFor(id)
				return checks.Result{ID: id, Title: c.Title(), Group: checks.Group(id), Status: st, Severity: m.Severity,
					HIPAA: cites, HIPAAIDs: checks.HIPAAIDs(cites), Resource: res, Message: msg, Remediation: m.Remediation, Location: loc}
			}
		}
		panic(id)
	}
	rs := []checks.Result{
		mk("CF-002", checks.Fail, "CALENDSO_ENCRYPTION_KEY", "CALENDSO_ENCRYPTION_KEY is 6 characters", &checks.Location{Path: "/opt/calcom/.env", Line: 4}),
		mk("DK-002", checks.Warn, "calcom-db", "runs as root (no USER set)", nil),
		mk("DK-003", checks.Warn, "calcom-app", "app port 3000 is published on all interfaces", nil),
		mk("PG-001", checks.Pass, "postgres:db", "ssl=on and this session is encrypted (TLSv1.3)", nil),
		mk("NET-001", checks.Skip, "net", "net: no public URL", nil),
		mk("BK-005", checks.Manual, "contingency", "no restore test recorded", nil),
		mk("PG-004", checks.Error, "postgres", "postgres collector failed: connection refused", nil),
	}
	rs[0].Evidence = checks.Ev("length", "6")
	rs[1].Waiver = &checks.Waiver{ID: "DK-002", Resources: []string{"^calcom-db$"}, Reason: "postgres drops to uid 999 via gosu", Expires: "2026-12-31", ApprovedBy: "Security Officer"}
	rep := &checks.Report{SchemaVersion: checks.ReportSchemaVersion, Tool: checks.Tool{Name: "calctl", Version: "1.2.3"},
		Target:    checks.Target{Profile: "compose", Dir: "/opt/calcom", EnvFile: "/opt/calcom/.env", ComposeFile: "/opt/calcom/docker-compose.yml"},
		StartedAt: t0, FinishedAt: t0.Add(1500 * time.Millisecond), Results: rs,
		ExpiredWaivers: []checks.ExpiredWaiver{{ID: "CF-008", Expires: "2026-01-31", Reason: "old BAA"}}}
	rep.Summary = checks.Summarize(rs)
	return rep
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	testenv.Golden(t, filepath.Join("testdata", name), got)
}

func TestGolden(t *testing.T) {
	for _, f := range output.Formats {
		t.Run(f, func(t *testing.T) {
			var buf bytes.Buffer
			if err := output.Write(&buf, f, fixture(), catalog.All()); err != nil {
				t.Fatal(err)
			}
			ext := map[string]string{"table": "txt", "json": "json", "sarif": "sarif", "junit": "xml", "html": "html"}[f]
			golden(t, "report."+ext, buf.Bytes())
		})
	}
	if err := output.Write(&bytes.Buffer{}, "csv", fixture(), nil); err == nil {
		t.Error("unknown format accepted")
	}
}

func TestJSONShape(t *testing.T) {
	var buf bytes.Buffer
	if err := output.JSON(&buf, fixture()); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"schema_version", "tool", "target", "started_at", "finished_at", "summary", "results"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("report lacks %q", k)
		}
	}
	r0 := doc["results"].([]any)[0].(map[string]any)
	for _, k := range []string{"id", "title", "group", "status", "severity", "hipaa", "resource", "message", "evidence", "remediation", "waiver"} {
		if _, ok := r0[k]; !ok {
			t.Errorf("result lacks %q", k)
		}
	}
	if r0["hipaa"].([]any)[0] != "164.312(a)(2)(iv)" || r0["waiver"] != nil {
		t.Errorf("result 0 = %v", r0)
	}
}

func TestSARIFValidatesAgainstSchema(t *testing.T) {
	c := jsonschema.NewCompiler()
	schema, err := c.Compile("testdata/sarif-schema-2.1.0.json")
	if err != nil {
		t.Fatalf("compile the vendored SARIF schema: %v", err)
	}
	var buf bytes.Buffer
	if err := output.SARIF(&buf, fixture(), catalog.All()); err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(inst); err != nil {
		t.Fatalf("SARIF output does not validate: %v", err)
	}
	// And a broken document must not validate (the schema is really applied).
	bad, _ := jsonschema.UnmarshalJSON(strings.NewReader(`{"version":"2.1.0","runs":[{"tool":{"driver":{}}}]}`))
	if schema.Validate(bad) == nil {
		t.Error("a driver without a name validated")
	}
	var log struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Rules []struct {
						ID         string         `json:"id"`
						Properties map[string]any `json:"properties"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID       string           `json:"ruleId"`
				Suppressions []map[string]any `json:"suppressions"`
				Locations    []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string } `json:"artifactLocation"`
						Region           struct{ StartLine int }
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	run := log.Runs[0]
	if n := len(run.Tool.Driver.Rules); n != len(catalog.All()) {
		t.Errorf("%d rules, want one per check (%d)", n, len(catalog.All()))
	}
	if run.Tool.Driver.Rules[0].Properties["security-severity"] == nil {
		t.Error("rules lack security-severity")
	}
	if len(run.Results) != 3 {
		t.Fatalf("%d results, want 3 (WARN and FAIL only)", len(run.Results))
	}
	r := run.Results[0]
	if r.RuleID != "CF-002" || r.Locations[0].PhysicalLocation.ArtifactLocation.URI != ".env" || r.Locations[0].PhysicalLocation.Region.StartLine != 4 {
		t.Errorf("file location: %+v", r)
	}
	if len(run.Results[1].Suppressions) != 1 || run.Results[2].Suppressions != nil {
		t.Errorf("suppressions: %+v / %+v", run.Results[1].Suppressions, run.Results[2].Suppressions)
	}
}

func TestJUnitParses(t *testing.T) {
	var buf bytes.Buffer
	if err := output.JUnit(&buf, fixture()); err != nil {
		t.Fatal(err)
	}
	var doc output.JUnitSuites
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("JUnit does not parse: %v", err)
	}
	skipped := 0
	for _, s := range doc.Suites {
		skipped += s.Skipped
	}
	if doc.Tests != 7 || doc.Failures != 1 || doc.Errors != 1 || skipped != 4 {
		t.Errorf("totals tests=%d failures=%d errors=%d skipped=%d", doc.Tests, doc.Failures, doc.Errors, skipped)
	}
	groups := map[string]bool{}
	for _, s := range doc.Suites {
		groups[strings.Fields(s.Name)[0]] = true
		for _, c := range s.Cases {
			var r checks.Result
			if err := json.Unmarshal([]byte(c.SystemOut), &r); err != nil {
				t.Errorf("system-out of %s is not the result JSON: %v", c.Name, err)
			}
			switch {
			case r.Waiver != nil && c.Skipped == nil:
				t.Errorf("%s waived but not skipped", c.Name)
			case r.Status == checks.Fail && c.Failure == nil:
				t.Errorf("%s FAIL without <failure>", c.Name)
			case (r.Status == checks.Skip || r.Status == checks.Manual) && c.Skipped == nil:
				t.Errorf("%s %s not skipped", c.Name, r.Status)
			}
		}
	}
	if len(groups) != 5 {
		t.Errorf("suites per group: %v", groups)
	}
}

// TestJUnitValidatesAgainstJenkinsXSD validates the JUnit report with
// xmllint (libxml2) against Jenkins' junit-10.xsd (testdata), the schema
// the xunit plugin applies. It once failed: <testsuites skipped="…"> is not
// allowed there.
func TestJUnitValidatesAgainstJenkinsXSD(t *testing.T) {
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		testenv.Unavailable(t, "xmllint (Debian libxml2-utils)", err)
	}
	var buf bytes.Buffer
	if err := output.JUnit(&buf, fixture()); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "junit.xml")
	os.WriteFile(good, buf.Bytes(), 0o644)
	if out, err := exec.Command(xmllint, "--noout", "--schema", "testdata/junit-10.xsd", good).CombinedOutput(); err != nil {
		t.Fatalf("JUnit output is not valid against junit-10.xsd: %v\n%s", err, out)
	}
	// The schema is really applied: a testcase without a name is refused.
	bad := filepath.Join(dir, "bad.xml")
	os.WriteFile(bad, []byte(`<testsuites><testsuite name="x" tests="1" failures="0" errors="0"><testcase/></testsuite></testsuites>`), 0o644)
	if exec.Command(xmllint, "--noout", "--schema", "testdata/junit-10.xsd", bad).Run() == nil {
		t.Error("a testcase without a name validated")
	}
}

// Every SARIF result has a partialFingerprint, and no two results of a run
// share one (GitHub code scanning would merge them into one alert).
func TestSARIFFingerprintsDistinct(t *testing.T) {
	rep := fixture()
	// Two runtime findings of one rule on different containers, no file location.
	extra := rep.Results[2]
	extra.Resource = "calcom-api"
	rep.Results = append(rep.Results, extra)
	var buf bytes.Buffer
	if err := output.SARIF(&buf, rep, catalog.All()); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Runs []struct {
			Results []struct {
				RuleID string            `json:"ruleId"`
				FP     map[string]string `json:"partialFingerprints"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, r := range log.Runs[0].Results {
		fp := r.FP["calctlFinding/v1"]
		if fp == "" {
			t.Fatalf("%s has no partialFingerprints", r.RuleID)
		}
		if prev, ok := seen[fp]; ok {
			t.Errorf("%s and %s share fingerprint %s", prev, r.RuleID, fp)
		}
		seen[fp] = r.RuleID
	}
	if len(seen) != 4 {
		t.Errorf("%d distinct fingerprints, want 4", len(seen))
	}
}

func TestTableHidesPassAndShowsFix(t *testing.T) {
	var buf bytes.Buffer
	if err := output.Table(&buf, fixture(), output.Options{}); err != nil {
		t.Fatal(err)
	}
	s := buf.String()
	if strings.Contains(s, "PG-001") || !strings.Contains(s, "1 PASS results hidden (--all shows them)") {
		t.Errorf("PASS not hidden:\n%s", s)
	}
	if !strings.Contains(s, "fix:") || !strings.Contains(s, "Set a random 32-character key") {
		t.Errorf("no fix shown for the FAIL:\n%s", s)
	}
	buf.Reset()
	output.Table(&buf, fixture(), output.Options{ShowPass: true})
	if !strings.Contains(buf.String(), "PG-001") {
		t.Errorf("--all does not show PASS:\n%s", buf.String())
	}
	// Escape sequences from collected data never reach the terminal.
	rep := fixture()
	rep.Results[0].Message = "evil \x1b]0;pwned\x07 \x1b[2J name"
	buf.Reset()
	output.Table(&buf, rep, output.Options{})
	if strings.ContainsAny(buf.String(), "\x1b\x07") {
		t.Errorf("control characters reached the table: %q", buf.String())
	}
}
