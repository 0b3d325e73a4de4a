package installer

import (
	"context"
	"testing"

	"github.com/calctl/calctl/installer/contract"
	"github.com/calctl/calctl/installer/preflight"
)

// TestPreflightEventsCarryTheFinding: a view reads a preflight finding as
// data from the log event, not by parsing its message.
func TestPreflightEventsCarryTheFinding(t *testing.T) {
	checks := []preflight.Check{
		{Name: "memory", Run: func(context.Context, *preflight.Input) []preflight.Finding {
			return []preflight.Finding{{Severity: preflight.Warning, Message: "2.0 GiB RAM: with: colons", Remedy: "add swap"}}
		}},
		{Name: "ports", Run: func(context.Context, *preflight.Input) []preflight.Finding {
			return []preflight.Finding{{Severity: preflight.Error, Message: "port 3000 is in use"}}
		}},
	}
	a := &Answers{Target: TargetPM2, Database: Database{Mode: DBBundled}, InstallDir: t.TempDir()}
	var got []contract.Finding
	var levels []string
	e := &Engine{Sink: func(ev Event) {
		if ev.Finding != nil {
			got = append(got, *ev.Finding)
			levels = append(levels, ev.Level)
		}
	}}
	err := e.Run(context.Background(), []Step{preflightStep{checks: checks}}, &State{Answers: a, IgnorePreflight: []string{"ports"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []contract.Finding{
		{Check: "memory", Severity: contract.SeverityWarning, Message: "2.0 GiB RAM: with: colons", Remedy: "add swap"},
		{Check: "ports", Severity: contract.SeverityError, Message: "port 3000 is in use", Ignored: true},
	}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("findings %+v, want %+v", got, want)
	}
	if levels[0] != "warn" || levels[1] != "warn" || got[1].Blocking() {
		t.Errorf("levels %q: an ignored error is a warning", levels)
	}
}
