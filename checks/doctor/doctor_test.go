package doctor

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/reporter/outbox"
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

// Doctor shows each reported month: the newest revision, the last accepted
// one, what billing holds, superseded revisions and the fix command.
func TestUsagePeriods(t *testing.T) {
	sum := &outbox.Summary{Parked: 1, Acked: 1, Superseded: 1, Periods: []outbox.PeriodStatus{
		{Period: "2026-10", Revision: 3, State: outbox.StateAcked, Final: true, Total: 601,
			Accepted:   &outbox.Accepted{Revision: 3, Total: 601},
			Billing:    &outbox.BillingView{Found: true, LatestRevision: 3, Total: 601, Final: true},
			Superseded: []outbox.Superseded{{Revision: 2, By: 3, Note: "renumbered to 3"}}},
		{Period: "2026-11", Revision: 1, State: outbox.StateParked, Final: true, Total: 602, LastStatus: 401,
			LastError: "401 Unauthorized: bad token", Billing: &outbox.BillingView{},
			Fix: "the endpoint refused the credentials (401): ...; or run: calctl report retry --period 2026-11"},
	}}
	d := Build(context.Background(), &checks.Facts{}, &checks.Report{}, Options{Usage: sum})
	var b strings.Builder
	if err := d.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"1 parked, 1 acked, 1 superseded",
		"2026-10  latest r3 acked final 601",
		"accepted r3 601",
		"billing holds r3 601 final",
		"superseded r2 by r3: renumbered to 3",
		"2026-11  latest r1 parked final 602",
		"accepted none",
		"billing holds nothing",
		"parked: 401 Unauthorized: bad token",
		"next: the endpoint refused the credentials (401): ...; or run: calctl report retry --period 2026-11",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("doctor text lacks %q:\n%s", want, b.String())
		}
	}
	if len(d.Outbox.Periods) != 2 || d.Outbox.Periods[1].Fix == "" {
		t.Fatalf("doctor JSON periods: %+v", d.Outbox.Periods)
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
