package tui

import (
	"context"
	"strings"
	"testing"

	"github.com/calctl/calctl/installer/contract"
)

// The wizard's last screen shows what the install's check step found: the
// counts and the top findings with their fix (issue 13 item 6).
func TestSummaryShowsChecks(t *testing.T) {
	m := New(context.Background(), Config{Answers: &contract.Answers{InstallDir: "/opt/calcom"}, Plain: true})
	sum := contract.CheckSummary{Pass: 40, Warn: 9, Fail: 2, FailOn: "none",
		Top:     []contract.CheckFinding{{ID: "PG-006", Status: "FAIL", Severity: "high", Resource: "role:calcom", Message: "the app role calcom is a superuser", Fix: "Create a NOSUPERUSER owner role"}},
		Command: "calctl check --dir /opt/calcom -o html --out hardening-report.html"}
	m.run.apply(contract.Event{Type: contract.EventLog, Step: contract.StepCheck, Message: sum.Text(), Check: &sum})
	m.run.finish(nil)
	got := m.summaryText()
	for _, want := range []string{"Hardening checks", "2 fail, 9 warn", "PG-006", "fix: Create a NOSUPERUSER owner role", "full report: calctl check --dir /opt/calcom"} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
}
