package doctor

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/calctl/calctl/checks"
)

func TestBuildAndWriteText(t *testing.T) {
	facts := &checks.Facts{CollectedAt: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC), Target: checks.Target{Database: "postgres://calcom:REDACTED@db/cal"}}
	facts.SetSource(checks.SourcePG, checks.SourceState{Error: "connection refused"})
	facts.SetSource(checks.SourceDocker, checks.SourceState{Skipped: "no engine"})
	rep := &checks.Report{Results: []checks.Result{
		{ID: "CF-001", Status: checks.Warn, Severity: checks.Medium, Resource: "a", Message: "low", Remediation: "Do a. Then b."},
		{ID: "PG-001", Status: checks.Fail, Severity: checks.High, Resource: "db", Message: "ssl off", Remediation: "Set ssl=on. Restart."},
		{ID: "PG-002", Status: checks.Pass, Severity: checks.High},
	}}
	d := Build(context.Background(), facts, rep, Options{StateDir: t.TempDir() + "/none", Top: 1})
	if len(d.Findings) != 1 || d.Findings[0].ID != "PG-001" || d.Findings[0].Next != "Set ssl=on.  → then: calctl check --only PG-001" {
		t.Errorf("findings %+v: want the worst one with its next command", d.Findings)
	}
	if d.Outbox == nil || d.OutboxSummary == nil || d.Outbox.Pending != d.OutboxSummary.Pending {
		t.Errorf("outbox %+v, summary %+v: the bundle's outbox.json needs both", d.Outbox, d.OutboxSummary)
	}
	var b strings.Builder
	if err := d.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"calctl doctor — 2026-03-04T05:06:07Z", "[ERR] database          connection refused",
		"[ok ] docker            not checked: no engine", "FAIL high     PG-001  db: ssl off", "Preflight:  not run"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, b.String())
		}
	}
}

// The billing probe prints the endpoint without its credentials.
func TestProbeBillingRedactsTheURL(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
	defer srv.Close()
	u := strings.Replace(srv.URL, "http://", "http://user:s3cret-pw@", 1)
	p := probeBilling(context.Background(), u)
	if !p.OK || strings.Contains(p.Detail+p.Next, "s3cret-pw") || !strings.Contains(p.Detail, "user:REDACTED@") {
		t.Errorf("probe %+v", p)
	}
	p = probeBilling(context.Background(), "http://user:s3cret-pw@127.0.0.1:1/x")
	if p.OK || strings.Contains(p.Detail+p.Next, "s3cret-pw") {
		t.Errorf("failed probe %+v", p)
	}
}

// Nothing doctor prints holds URL credentials, whatever the facts hold.
func TestReportIsScrubbed(t *testing.T) {
	facts := &checks.Facts{Net: &checks.NetFacts{URL: "https://u:pw-in-facts@cal.example.com"}}
	facts.SetSource(checks.SourceNet, checks.SourceState{Collected: true})
	rep := &checks.Report{Results: []checks.Result{{ID: "CF-005", Status: checks.Fail, Severity: checks.High,
		Resource: "NEXT_PUBLIC_WEBAPP_URL", Message: "http://u:pw-in-result@cal.example.com%zz is plain"}}}
	d := Build(context.Background(), facts, rep, Options{StateDir: t.TempDir()})
	var b strings.Builder
	d.WriteText(&b)
	if strings.Contains(b.String(), "pw-in-") {
		t.Errorf("doctor shows a password:\n%s", b.String())
	}
}
