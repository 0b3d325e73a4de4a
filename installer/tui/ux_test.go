package tui

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/calctl/calctl/installer/contract"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// TestSelectShowsEveryOption is the select fix (huh#679): at 60×15, with
// the last option chosen, every option of the select is drawn.
func TestSelectShowsEveryOption(t *testing.T) {
	cases := []struct {
		name string
		path func(d *driver)
		want []string
	}{
		{name: "select_token_60x15", path: func(d *driver) {
			toSource(d)
			d.keys("enter", "enter", "enter")
			d.see("Git token")
		}, want: []string{"use CALCTL_GIT_TOKEN", "type a token now", "no token"}},
		{name: "select_submodules_60x15", path: func(d *driver) {
			toSource(d)
			d.keys("enter", "enter")
			d.see("Private submodules")
		}, want: []string{"resolve", "flatten", "skip"}},
		{name: "select_proxy_60x15", path: func(d *driver) {
			toSite(d)
			d.keys("https://cal.example.com", "enter")
			d.see("Proxy and TLS")
		}, want: []string{"caddy", "none"}},
		{name: "select_postgres_60x15", path: toDatabase, want: []string{"bundled", "external", "rds"}},
		{name: "select_target_60x15", path: toTarget, want: []string{"compose", "pm2", "kubernetes"}},
		{name: "select_kube_tls_60x15", path: toKubeTLS, want: []string{"issuer", "secret", "none"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := start(t, testConfig(&memBackend{}), 60, 15)
			tc.path(d)
			got := ansi.Strip(d.final().View())
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("option %q is not on screen:\n%s", w, got)
				}
			}
			golden(t, tc.name, got)
		})
	}
}

// TestShiftTabWithAnErrorKeepsTheField: huh blurs a field with a
// validation error on shift+tab and then refuses to leave its group, so
// nothing had focus and typing went nowhere. The wizard keeps the field.
func TestShiftTabWithAnErrorKeepsTheField(t *testing.T) {
	d := start(t, testConfig(&memBackend{}), 80, 24)
	toSite(d)
	d.keys("https://cal.example.com", "enter", "enter")
	d.see("SMTP host")
	d.keys("smtp.example.com", "enter", "x587", "enter")
	d.see("is not a number")
	d.keys("shift+tab")
	d.keys("ctrl+u", "587", "enter")
	m := d.final()
	if got := m.v.EmailPort; got != "587" {
		t.Errorf("SMTP port = %q after shift+tab and typing: the typing was lost", got)
	}
}

// TestCtrlCAfterTheRunEndedShowsKeys: the run ends while "Stop the
// install?" is asked; answering leaves the Run screen's keys, not
// "stopping…".
func TestCtrlCAfterTheRunEndedShowsKeys(t *testing.T) {
	b := &memBackend{block: make(chan struct{})}
	d := start(t, testConfig(b), 80, 24)
	runTo(d, "building the web image")
	d.keys("ctrl+c")
	d.see("Stop the install?")
	close(b.block)
	d.see("enter summary")
	d.keys("y")
	m := d.final()
	if h := m.runHelp(); !strings.Contains(h, "enter summary") {
		t.Errorf("key line after the run ended = %q, want the Run screen's keys", h)
	}
}

// TestRunLogStopsAtItsTop: scrolling the log up past its first line keeps
// the log on screen.
func TestRunLogStopsAtItsTop(t *testing.T) {
	d := start(t, testConfig(&memBackend{failStart: 1}), 80, 24)
	runTo(d, "r retry")
	for i := 0; i < 30; i++ {
		d.keys("up")
	}
	got := ansi.Strip(d.final().View())
	if !strings.Contains(got, "docker compose -p calcom up") {
		t.Errorf("the log is blank after scrolling up:\n%s", got)
	}
}

// TestRunKeepsKeysAt60x15: twelve steps at 60×15; the outcome, its fix and
// the key line stay on screen, the step list scrolls.
func TestRunKeepsKeysAt60x15(t *testing.T) {
	m := New(t.Context(), testConfig(&memBackend{}))
	m.width, m.height, m.screen = 60, 15, screenRun
	for _, n := range []string{"preflight", "clone", "secrets", "render", "write", "start", "migrate", "verify", "check", "agent", "proxy", "backup"} {
		m.run.rows = append(m.run.rows, &stepRow{name: n, state: rowDone})
	}
	m.run.finished = true
	m.cfg.DryRun = true
	got := ansi.Strip(m.View())
	for _, w := range []string{"dry run finished", "enter summary", "12/12 steps", "more"} {
		if !strings.Contains(got, w) {
			t.Errorf("%q is not on screen:\n%s", w, got)
		}
	}
	if n := strings.Count(got, "\n") + 1; n != 15 {
		t.Errorf("%d lines, want 15", n)
	}
}

// TestFixesOnTheSameScreen: a failed live check offers its fixes as keys
// on the same screen, and each re-runs the check or lands on the field.
func TestFixesOnTheSameScreen(t *testing.T) {
	t.Run("ignore a preflight check", func(t *testing.T) {
		b := &memBackend{}
		d := start(t, testConfig(b), 80, 24)
		toTarget(d)
		d.keys("enter")
		d.see("1 error(s)", "Fix it here", "i   ignore ports")
		d.keys("i")
		d.see("(ignored: it will not", "no errors")
		m := d.final()
		if len(b.ignored) != 1 || b.ignored[0] != "ports" {
			t.Errorf("backend told to ignore %v, want [ports]", b.ignored)
		}
		golden(t, "fix_ignore_80x24", ansi.Strip(m.View()))
	})
	t.Run("edit goes to the failed field", func(t *testing.T) {
		d := start(t, testConfig(&memBackend{}), 80, 24)
		toSource(d)
		d.keys("enter", "enter", "enter", "down", "enter")
		d.see("Git token")
		d.keys("bad-token", "enter")
		d.see("token was refused", "e   edit the git token")
		d.keys("e")
		d.keys("ctrl+u", "good-token", "enter")
		d.see("✓ reachable")
		m := d.final()
		if m.v.Token != "good-token" {
			t.Errorf("token = %q: edit did not land on the token field", m.v.Token)
		}
	})
	t.Run("switch submodules", func(t *testing.T) {
		cfg := testConfig(&memBackend{})
		cfg.Answers.Source.Submodules = "resolve"
		cfg.Env.GitToken = "bad"
		d := start(t, cfg, 80, 24)
		toSource(d)
		d.keys("enter", "enter", "enter", "enter")
		d.see("token was refused", "s   switch submodules to skip")
		d.keys("s")
		d.see("Submodules   skip")
		m := d.final()
		if m.v.Submodules != "skip" {
			t.Errorf("submodules = %q after s, want skip", m.v.Submodules)
		}
		for _, f := range m.fixes() {
			if f.key == "s" {
				t.Errorf("still offers to switch to skip when submodules are skipped")
			}
		}
	})
	t.Run("database edit goes to the URL", func(t *testing.T) {
		d := start(t, testConfig(&memBackend{}), 60, 15)
		toDatabase(d)
		d.keys("down", "enter")
		d.see("Database URL")
		d.keys("postgresql://cal:pw@db.internal:5433/cal?sslmode=require", "enter", "enter")
		d.see("connection refused", "edit the database URL")
		golden(t, "fix_database_60x15", ansi.Strip(d.final().View()))
	})
}

// TestFixSSHKey: an ssh URL whose check fails offers "choose an SSH key
// file"; the path typed goes into the answers and the check runs again.
func TestFixSSHKey(t *testing.T) {
	cfg := testConfig(&memBackend{})
	cfg.Answers.Source.URL = "git@github.com:calcom/cal.com.git"
	cfg.Env.GitToken = "bad"
	d := start(t, cfg, 80, 24)
	toSource(d)
	d.keys("enter", "enter", "enter", "enter")
	d.see("token was refused", "k   choose an SSH key file")
	d.keys("k")
	d.see("SSH key file:")
	d.keys("/root/.ssh/id_ed25519", "enter")
	m := d.final()
	if got := m.answers().Source.SSHKey; got != "/root/.ssh/id_ed25519" {
		t.Errorf("source.ssh_key = %q after the fix", got)
	}
}

// TestLongCheckResultScrolls: preflight findings taller than a 60×15
// terminal scroll with ↑/↓ and say so; the last lines can be reached.
func TestLongCheckResultScrolls(t *testing.T) {
	m := New(t.Context(), testConfig(&memBackend{}))
	m.width, m.height, m.screen, m.phase, m.preflightDone, m.checkOK = 60, 15, screenTarget, phaseResult, true, true
	for i := 0; i < 8; i++ {
		m.findings = append(m.findings, contract.Finding{Check: "ports", Severity: contract.SeverityError, Message: "port 3000 (web) is in use by another process", Remedy: "stop it, or set web.port"})
	}
	got := ansi.Strip(m.View())
	if !strings.Contains(got, "↑/↓ scroll · lines 1-") {
		t.Fatalf("no scroll line:\n%s", got)
	}
	for i := 0; i < 60; i++ {
		m.Update(tea.KeyMsg{Type: tea.KeyDown})
	}
	got = ansi.Strip(m.View())
	if !strings.Contains(got, "e   edit the target") || strings.Count(got, "\n")+1 != 15 {
		t.Errorf("the end of the result cannot be reached:\n%s", got)
	}
}

// TestRunScreenTallOutcome: an outcome taller than a 60×15 terminal is not
// cut: the screen keeps its size and its key line, says it scrolls, and
// ↓ brings the end of the fix into view.
func TestRunScreenTallOutcome(t *testing.T) {
	m := New(context.Background(), testConfig(&memBackend{}))
	m.Update(tea.WindowSizeMsg{Width: 60, Height: 15})
	m.screen = screenRun
	long := strings.Repeat(longStartErr+" ", 3)
	fix := strings.Repeat(longStartFix+" ", 2) + "THE-END-OF-THE-FIX"
	for _, e := range []contract.Event{
		{Type: contract.EventPlan, Steps: []string{"preflight", "clone", "start", "verify"}},
		{Type: contract.EventStepDone, Step: "preflight"},
		{Type: contract.EventStepSkip, Step: "clone", Message: longCloneNote},
		{Type: contract.EventStepStart, Step: "start"},
		{Type: contract.EventStepFail, Step: "start", Error: long, Remedy: fix},
	} {
		m.run.apply(e)
	}
	m.run.finish(errors.New(long))
	view := func() string {
		v := ansi.Strip(m.View())
		if n := strings.Count(v, "\n") + 1; n != 15 {
			t.Fatalf("view has %d lines, want 15:\n%s", n, v)
		}
		for _, l := range strings.Split(v, "\n") {
			if ansi.StringWidth(l) > 60 {
				t.Fatalf("line wider than 60: %q", l)
			}
		}
		if !strings.Contains(v, "r retry") {
			t.Fatalf("the key line is gone:\n%s", v)
		}
		return v
	}
	if v := view(); !strings.Contains(v, "↑/↓ scroll") || strings.Contains(v, "THE-END-OF-THE-FIX") {
		t.Fatalf("a tall outcome is not scrolled from its top:\n%s", v)
	}
	for i := 0; i < 30 && !strings.Contains(view(), "THE-END-OF-THE-FIX"); i++ {
		m.Update(tea.KeyMsg{Type: tea.KeyDown})
	}
	if v := view(); !strings.Contains(v, "THE-END-OF-THE-FIX") {
		t.Fatalf("↓ never showed the end of the fix:\n%s", v)
	}
}

// TestRunLogPages: pgup and pgdn page the Run screen's log ten lines at a
// time, as the Keys table of docs/wizard.md says, and ↑/↓ a line.
func TestRunLogPages(t *testing.T) {
	m := New(context.Background(), testConfig(&memBackend{}))
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	m.screen = screenRun
	m.run.apply(contract.Event{Type: contract.EventPlan, Steps: []string{"start"}})
	m.run.apply(contract.Event{Type: contract.EventStepStart, Step: "start"})
	for i := 0; i < 50; i++ {
		m.run.apply(contract.Event{Type: contract.EventLog, Step: "start", Message: "#" + strings.Repeat("x", i%7) + " build line"})
	}
	for _, tc := range []struct {
		key  tea.KeyType
		want string
	}{
		{tea.KeyPgUp, ", 10 below)"},
		{tea.KeyPgUp, ", 20 below)"},
		{tea.KeyUp, ", 21 below)"},
		{tea.KeyPgDown, ", 11 below)"},
		{tea.KeyDown, ", 10 below)"},
	} {
		m.Update(tea.KeyMsg{Type: tc.key})
		if v := ansi.Strip(m.View()); !strings.Contains(v, tc.want) {
			t.Fatalf("after %s the log title lacks %q:\n%s", tea.KeyMsg{Type: tc.key}, tc.want, v)
		}
	}
}

// TestWrapCommand: a command line wraps at its spaces only, so no argument
// (--dry-run, a path) is split across lines unless it is longer than one.
func TestWrapCommand(t *testing.T) {
	for _, tc := range []struct {
		in    string
		width int
		want  []string
	}{
		{"Runs: calctl upgrade --ref v5.9.0 --dir /opt/calcom --dry-run", 60, []string{"Runs: calctl upgrade --ref v5.9.0 --dir /opt/calcom", "--dry-run"}},
		{"a --dry-run", 20, []string{"a --dry-run"}},
		{"x /a/very/long/path/that/is/longer/than/a/line y", 20, []string{"x", "/a/very/long/path/th", "at/is/longer/than/a/", "line y"}},
	} {
		if got := wrapCommand(tc.in, tc.width); strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("wrapCommand(%q, %d) = %q, want %q", tc.in, tc.width, got, tc.want)
		}
	}
}
