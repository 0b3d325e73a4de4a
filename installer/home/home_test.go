package home

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/calctl/calctl/installer/contract"
)

func TestInstallsFile(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	if got := InstallsFile(env(map[string]string{InstallsEnv: "/x/i.json"})); got != "/x/i.json" {
		t.Errorf("env override: %s", got)
	}
	want := "/etc/calctl/installs.json"
	if os.Geteuid() != 0 {
		want = "/s/calctl/installs.json"
	}
	if got := InstallsFile(env(map[string]string{"XDG_STATE_HOME": "/s"})); got != want {
		t.Errorf("default: %s, want %s", got, want)
	}
}

// TestRecorded: the newest recorded install that still exists (or that
// keep accepts); it says which, and how many the list names.
func TestRecorded(t *testing.T) {
	base := t.TempDir()
	getenv := func(k string) string {
		if k == InstallsEnv {
			return filepath.Join(base, "installs.json")
		}
		return ""
	}
	old, newer, gone := filepath.Join(base, "old"), filepath.Join(base, "new"), filepath.Join(base, "gone")
	for _, d := range []string{old, newer} {
		if err := SaveAnswers(d, &contract.Answers{InstallDir: d}); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	Record(getenv, old, OutcomeFinished, now.Add(-2*time.Hour))
	Record(getenv, newer, OutcomeFailed, now.Add(-time.Hour))
	Record(getenv, gone, OutcomeFinished, now)
	if f, n, ok, err := Recorded(getenv, nil); !ok || err != nil || n != 3 || f.Dir != newer || !strings.Contains(f.Why, "installs.json") {
		t.Errorf("Recorded = %+v %d %v %v; want the newest existing recorded install of 3", f, n, ok, err)
	}
	if f, _, ok, _ := Recorded(getenv, func(d string) bool { return d == gone }); !ok || f.Dir != gone {
		t.Errorf("Recorded with keep = %+v %v; want the one keep accepts", f, ok)
	}
	if _, _, ok, _ := Recorded(getenv, func(string) bool { return false }); ok {
		t.Errorf("Recorded found an install keep refused")
	}
	list, _ := Installs(getenv)
	if len(list) != 3 || list[0].Dir != gone {
		t.Errorf("list %+v", list)
	}
}

// TestRunLog: install-YYYYmmdd-HHMMSS.log, 0600, secrets masked (also
// inside URLs), the last run recorded with its failed step.
func TestRunLog(t *testing.T) {
	dir := t.TempDir()
	l, err := OpenRunLog(dir, time.Date(2026, 12, 7, 9, 30, 1, 0, time.UTC), false, "tok-123456", "postgresql://u:p%40ss-word@h/db")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`/logs/install-20261207-093001\.log$`).MatchString(l.Path) {
		t.Errorf("log name %s", l.Path)
	}
	s := l.Sink()
	s(contract.Event{Type: contract.EventStepStart, Step: "clone"})
	s(contract.Event{Type: contract.EventLog, Step: "clone", Message: "cloning with tok-123456 from https://x:tok-123456@github.com/calcom/cal.com"})
	s(contract.Event{Type: contract.EventStepFail, Step: "migrate", Error: "connect postgresql://u:p@ss-word@h/db: refused", Remedy: "start Postgres"})
	r, err := l.Close(dir, os.ErrClosed, false)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(l.Path)
	st, _ := os.Stat(l.Path)
	if st.Mode().Perm() != 0o600 || strings.Contains(string(b), "tok-123456") || strings.Contains(string(b), "ss-word") {
		t.Errorf("mode %v; log:\n%s", st.Mode().Perm(), b)
	}
	if r.Outcome != OutcomeFailed || r.Step != "migrate" || strings.Contains(r.Error, "ss-word") {
		t.Errorf("last run %+v", r)
	}
	back, err := LoadLastRun(dir)
	if err != nil || back.Step != "migrate" {
		t.Errorf("load last run: %+v %v", back, err)
	}
}
