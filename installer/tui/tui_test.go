package tui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calctl/calctl/installer/contract"
	"github.com/calctl/calctl/internal/testenv"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest"
)

// sizes are the terminal sizes every screen is drawn at.
var sizes = [][2]int{{60, 15}, {80, 24}, {120, 40}}

func testConfig(b *memBackend) Config {
	return Config{
		Answers:  &contract.Answers{InstallDir: "/opt/calcom"},
		Env:      contract.EnvSecrets{GitToken: "good-token"},
		TokenEnv: "CALCTL_GIT_TOKEN",
		Plain:    true,
		Backend:  b.backend(),
	}
}

// driver types keys into a running wizard and waits for what it draws.
type driver struct {
	t  *testing.T
	tm *teatest.TestModel
}

func start(t *testing.T, cfg Config, w, h int) *driver {
	t.Helper()
	m := New(context.Background(), cfg)
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(w, h))
	t.Cleanup(func() { _ = tm.Quit() })
	return &driver{t: t, tm: tm}
}

var keyNames = map[string]tea.KeyMsg{
	"enter":     {Type: tea.KeyEnter},
	"esc":       {Type: tea.KeyEsc},
	"down":      {Type: tea.KeyDown},
	"up":        {Type: tea.KeyUp},
	"shift+tab": {Type: tea.KeyShiftTab},
	"ctrl+c":    {Type: tea.KeyCtrlC},
	"ctrl+u":    {Type: tea.KeyCtrlU},
}

// keys sends named keys (enter, esc, ...) or, for anything else, types the
// text. It paces them: huh moves between fields with commands that run
// after the key, and a key sent before that would land in the old field.
func (d *driver) keys(ks ...string) {
	d.t.Helper()
	for _, k := range ks {
		if km, ok := keyNames[k]; ok {
			d.tm.Send(km)
		} else {
			d.tm.Type(k)
		}
		time.Sleep(30 * time.Millisecond)
	}
}

// see waits until the screen shows every one of texts.
func (d *driver) see(texts ...string) {
	d.t.Helper()
	var seen bytes.Buffer
	teatest.WaitFor(d.t, d.tm.Output(), func(b []byte) bool {
		seen.Write(b)
		s := ansi.Strip(seen.String())
		for _, t := range texts {
			if !strings.Contains(s, t) {
				return false
			}
		}
		return true
	}, teatest.WithDuration(10*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
}

// final stops the program and returns the model.
func (d *driver) final() *Model {
	d.t.Helper()
	_ = d.tm.Quit()
	return d.tm.FinalModel(d.t, teatest.WithFinalTimeout(10*time.Second)).(*Model)
}

// golden compares a screen with testdata/NAME.golden (go test -update
// rewrites it).
func golden(t *testing.T, name, got string) {
	t.Helper()
	testenv.Golden(t, filepath.Join("testdata", name+".golden"), []byte(got))
}

// Paths through the wizard, reused by the screen tests.
func toSource(d *driver) { d.see("Install Cal.com"); d.keys("enter"); d.see("Repository URL") }
func sourceOK(d *driver) {
	toSource(d)
	d.keys("enter", "enter", "enter", "enter")
	d.see("✓ reachable")
}
func toTarget(d *driver) { sourceOK(d); d.keys("enter"); d.see("Run Cal.com with") }
func targetDone(d *driver) {
	toTarget(d)
	d.keys("enter")
	d.see("1 error(s), 1 warning(s)")
}
func toDatabase(d *driver) { targetDone(d); d.keys("enter"); d.see("Postgres") }
func toSite(d *driver)     { toDatabase(d); d.keys("enter"); d.see("Public URL") }
func toReview(d *driver) {
	toSite(d)
	d.keys("https://cal.example.com", "enter", "enter")
	d.see("SMTP host")
	d.keys("enter", "enter", "enter", "enter")
	d.see("deployment id")
	d.keys("enter")
	d.see("plan ready")
}
func runTo(d *driver, text string) { toReview(d); d.keys("enter"); d.see(text) }

func TestScreens(t *testing.T) {
	cases := []struct {
		name    string
		fail    int
		cfg     func(*Config)
		backend func(*memBackend)
		path    func(d *driver)
	}{
		{name: "welcome", path: func(d *driver) { d.see("Install Cal.com") }},
		{name: "welcome_existing_dryrun", cfg: func(c *Config) {
			c.Existing, c.DryRun, c.Found = true, true, "the saved answers of the last run (calctl-answers.yaml)"
		}, path: func(d *driver) { d.see("upgrades or repairs", "is written") }},
		// an existing install: the Welcome choice and the upgrade path
		// (upgrade_test.go)
		{name: "welcome_upgrade_choice", cfg: existingCfg, path: func(d *driver) { d.see("Upgrade this install") }},
		{name: "welcome_upgrade_ref", cfg: existingCfg, path: toUpgradeRef},
		{name: "welcome_upgrade_confirm", cfg: existingCfg, path: func(d *driver) {
			toUpgradeRef(d)
			d.keys("ctrl+u", "v5.9.0", "enter")
			d.see("verified backup")
		}},
		{name: "source", path: toSource},
		{name: "source_ok", path: sourceOK},
		{name: "source_token_refused", path: func(d *driver) {
			toSource(d)
			d.keys("enter", "enter", "enter", "down", "enter")
			d.see("Git token")
			d.keys("bad-token", "enter")
			d.see("token was refused")
		}},
		{name: "target", path: toTarget},
		{name: "target_findings", path: targetDone},
		{name: "database", path: toDatabase},
		{name: "database_external", path: func(d *driver) {
			toDatabase(d)
			d.keys("down", "enter")
			d.see("Database URL")
		}},
		{name: "database_connected", path: func(d *driver) {
			toDatabase(d)
			d.keys("down", "enter")
			d.see("Database URL")
			d.keys("postgresql://cal:pw@db.internal:5432/cal?sslmode=require", "enter", "enter")
			d.see("connected: PostgreSQL 16.4")
		}},
		{name: "database_refused", path: func(d *driver) {
			toDatabase(d)
			d.keys("down", "enter")
			d.see("Database URL")
			d.keys("postgresql://cal:pw@db.internal:5433/cal?sslmode=require", "enter", "enter")
			d.see("connection refused")
		}},
		{name: "database_rds_needs_ca", path: func(d *driver) {
			toDatabase(d)
			d.keys("down", "down", "enter")
			d.see("Database URL")
			d.keys("postgresql://cal:pw@x.rds.amazonaws.com:5432/cal", "enter", "enter")
			d.see("RDS CA bundle")
		}},
		{name: "site", path: toSite},
		{name: "site_invalid_url", path: func(d *driver) {
			toSite(d)
			d.keys("cal.example.com", "enter")
			d.see("not an http(s) URL")
		}},
		{name: "review", path: toReview},
		{name: "review_plan_failed", backend: func(b *memBackend) {
			b.planErr = fmt.Errorf("render: %w", contract.WithRemedy(errors.New("web.dockerfile docker/Dockerfile does not exist in the checkout"), "set web.dockerfile to a Dockerfile in the repository, or leave it empty"))
		}, path: func(d *driver) {
			toSite(d)
			d.keys("https://cal.example.com", "enter", "enter")
			d.see("SMTP host")
			d.keys("enter", "enter", "enter", "enter")
			d.see("deployment id")
			d.keys("enter")
			d.see("esc back to fix")
		}},
		{name: "run_failed", fail: 1, path: func(d *driver) { runTo(d, "r retry") }},
		{name: "run_done", path: func(d *driver) { runTo(d, "enter summary") }},
		{name: "summary", path: func(d *driver) { runTo(d, "enter summary"); d.keys("enter"); d.see("quit") }},
		// notes, errors and fixes longer than a line wrap under their
		// step, the outcome and the log line they belong to: nothing is cut
		{name: "run_long_note", backend: func(b *memBackend) { b.long = true }, path: func(d *driver) { runTo(d, "enter summary") }},
		{name: "run_long_error", fail: 1, backend: func(b *memBackend) { b.long = true }, path: func(d *driver) { runTo(d, "r retry") }},
		// target kubernetes: its pages on the Target screen, and the Review
		// that hands the run to calctl-kubernetes (kube_test.go)
		{name: "kube_cluster", cfg: kubeCfg, path: toKube},
		{name: "kube_names", cfg: kubeCfg, path: toKubeNames},
		{name: "kube_invalid_namespace", cfg: kubeCfg, path: func(d *driver) {
			toKubeNames(d)
			d.keys("ctrl+u", "kube-system", "enter")
			d.see("is a system namespace")
		}},
		{name: "kube_registry_missing", cfg: kubeCfg, path: func(d *driver) {
			toKubeRegistry(d)
			d.keys("enter")
			d.see("missing")
		}},
		{name: "kube_tls", cfg: kubeCfg, path: toKubeTLS},
		{name: "kube_site", cfg: kubeCfg, path: toKubeSite},
		{name: "kube_review", cfg: kubeCfg, path: toKubeReview},
		// a dry run keeps no answers: the Review says so
		{name: "kube_review_dryrun", cfg: func(c *Config) { kubeCfg(c); c.DryRun = true }, path: toKubeReview},
		{name: "kube_https_without_tls", cfg: kubeCfg, path: func(d *driver) {
			toKubeTLS(d)
			d.keys("down", "down", "enter")
			d.see("Postgres")
			d.keys("enter")
			d.see("Public URL")
			d.keys("https://cal.example.com", "enter")
			d.see("no certificate source")
		}},
	}
	for _, tc := range cases {
		for _, sz := range sizes {
			t.Run(fmt.Sprintf("%s_%dx%d", tc.name, sz[0], sz[1]), func(t *testing.T) {
				b := &memBackend{failStart: tc.fail}
				if tc.backend != nil {
					tc.backend(b)
				}
				cfg := testConfig(b)
				if tc.cfg != nil {
					tc.cfg(&cfg)
				}
				d := start(t, cfg, sz[0], sz[1])
				tc.path(d)
				m := d.final()
				got := ansi.Strip(m.View())
				if n := strings.Count(got, "\n") + 1; n != sz[1] {
					t.Errorf("view has %d lines, want exactly the terminal's %d", n, sz[1])
				}
				for i, l := range strings.Split(got, "\n") {
					if w := ansi.StringWidth(l); w > sz[0] {
						t.Errorf("line %d is %d cells wide, more than the terminal's %d: %q", i+1, w, sz[0], l)
					}
				}
				golden(t, fmt.Sprintf("%s_%dx%d", tc.name, sz[0], sz[1]), got)
			})
		}
	}
}
