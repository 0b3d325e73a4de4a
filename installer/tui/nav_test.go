package tui

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calctl/calctl/installer/contract"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest"
)

// finished waits for the program to end by itself and returns the model.
func (d *driver) finished() *Model {
	d.t.Helper()
	return d.tm.FinalModel(d.t, teatest.WithFinalTimeout(10*time.Second)).(*Model)
}

func TestBackAndForwardKeepValues(t *testing.T) {
	d := start(t, testConfig(&memBackend{}), 80, 24)
	toSource(d)
	d.keys("enter", "ctrl+u", "v4.5.6", "enter", "enter", "enter")
	d.see("✓ reachable", "(ref v4.5.6)")
	d.keys("enter")
	d.see("Run Cal.com with")
	d.keys("esc") // Target form -> Source form
	d.see("Repository URL", "v4.5.6")
	d.keys("esc") // Source form -> Welcome
	d.see("Install Cal.com")
	d.keys("enter")
	d.see("Repository URL", "v4.5.6")
	m := d.final()
	if m.screen != screenSource || m.phase != phaseForm {
		t.Fatalf("screen %v phase %v, want the Source form", m.screen, m.phase)
	}
	if got := m.answers().Source.Ref; got != "v4.5.6" {
		t.Errorf("ref = %q after going back and forth, want v4.5.6", got)
	}
}

func TestInvalidInputStaysWithTheField(t *testing.T) {
	d := start(t, testConfig(&memBackend{}), 80, 24)
	toSite(d)
	d.keys("ftp://cal.example.com", "enter")
	d.see("not an http(s) URL")
	d.keys("enter") // still refused
	m := d.final()
	if m.screen != screenSite || m.phase != phaseForm {
		t.Fatalf("screen %v phase %v: an invalid public URL must keep the user on the field", m.screen, m.phase)
	}
	if !strings.Contains(ansi.Strip(m.View()), "not an http(s) URL") {
		t.Errorf("the error is not shown next to the field:\n%s", ansi.Strip(m.View()))
	}

	// fixing it moves on
	d = start(t, testConfig(&memBackend{}), 80, 24)
	toSite(d)
	d.keys("ftp://cal.example.com", "enter")
	d.see("not an http(s) URL")
	d.keys("ctrl+u", "https://cal.example.com", "enter", "enter")
	d.see("SMTP host")
}

func TestEmailRulesComeFromTheEngine(t *testing.T) {
	d := start(t, testConfig(&memBackend{}), 80, 24)
	toSite(d)
	d.keys("https://cal.example.com", "enter", "enter")
	d.see("SMTP host")
	d.keys("smtp.example.com", "enter", "enter", "enter", "not-an-address", "enter")
	d.see("is not an e-mail address")
}

func TestCtrlCBeforeRunQuitsCleanly(t *testing.T) {
	b := &memBackend{}
	d := start(t, testConfig(b), 80, 24)
	toDatabase(d)
	d.keys("ctrl+c")
	m := d.finished()
	if r := m.Result(); r.Outcome != Quit {
		t.Errorf("outcome %v, want Quit", r.Outcome)
	}
	if b.runs != 0 || b.planCalls.Load() != 0 {
		t.Errorf("runs=%d plans=%d: nothing may run before the Run screen", b.runs, b.planCalls.Load())
	}
}

func TestCtrlCDuringRunAsksFirst(t *testing.T) {
	b := &memBackend{block: make(chan struct{})}
	d := start(t, testConfig(b), 80, 24)
	runTo(d, "building the web image")
	d.keys("ctrl+c")
	d.see("Stop the install?")
	d.keys("n")
	d.see("ctrl+c stop")
	d.keys("ctrl+c")
	d.see("Stop the install?")
	d.keys("y")
	m := d.finished()
	r := m.Result()
	if r.Outcome != Stopped {
		t.Errorf("outcome %v, want Stopped", r.Outcome)
	}
	if err, _ := b.runCtxErr.Load().(error); !errors.Is(err, context.Canceled) {
		t.Errorf("the run's context was not cancelled: %v", err)
	}
	if !strings.Contains(r.Summary, "The install stopped") {
		t.Errorf("summary does not say the install stopped:\n%s", r.Summary)
	}
}

func TestRetryAfterFailure(t *testing.T) {
	b := &memBackend{failStart: 1}
	d := start(t, testConfig(b), 80, 24)
	toReview(d)
	d.keys("enter")
	d.see("r retry", "fix: stop what listens on port 3000")
	d.keys("r")
	d.see("enter summary")
	d.keys("enter")
	d.see("Cal.com is installed")
	d.keys("enter")
	m := d.finished()
	if r := m.Result(); r.Outcome != Finished || b.runs != 2 {
		t.Errorf("outcome %v after %d runs, want Finished after 2", r.Outcome, b.runs)
	}
}

func TestSaveAnswersLeavesSecretsOut(t *testing.T) {
	b := &memBackend{}
	cfg := testConfig(b)
	cfg.Env = contract.EnvSecrets{} // the token is typed
	d := start(t, cfg, 120, 40)
	toSource(d)
	d.keys("enter", "enter", "enter", "up", "enter")
	d.see("read access")
	d.keys("good-token", "enter")
	d.see("✓ reachable")
	d.keys("enter")
	d.see("Run Cal.com with")
	d.keys("enter")
	d.see("1 error(s)")
	d.keys("enter")
	d.see("Postgres")
	d.keys("down", "enter")
	d.see("Database URL")
	d.keys("postgresql://cal:pw@db.internal:5432/cal?sslmode=require", "enter", "enter")
	d.see("connected: PostgreSQL 16.4")
	d.keys("enter")
	d.see("Public URL")
	d.keys("https://cal.example.com", "enter", "enter")
	d.see("SMTP host")
	d.keys("enter", "enter", "enter", "enter")
	d.see("deployment id")
	d.keys("enter")
	d.see("docker-compose.yml", "URL ••••••••")
	path := filepath.Join(t.TempDir(), "answers.yaml")
	d.keys("s")
	d.see("save answers to:")
	d.keys(path, "enter")
	d.see("saved to")
	m := d.final()
	if strings.Contains(ansi.Strip(m.View()), "good-token") {
		t.Error("the review screen shows the token")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"good-token", "cal:pw", "db.internal"} {
		if strings.Contains(string(data), s) {
			t.Errorf("saved answers hold the secret %q:\n%s", s, data)
		}
	}
	a, err := contract.DecodeAnswers(data)
	if err != nil {
		t.Fatalf("saved answers do not load: %v", err)
	}
	if a.Source.TokenEnv != "CALCTL_GIT_TOKEN" || a.Database.URLEnv != "DATABASE_URL" || a.Database.Mode != "external" {
		t.Errorf("saved answers: token_env %q url_env %q mode %q", a.Source.TokenEnv, a.Database.URLEnv, a.Database.Mode)
	}
	if err := a.Finish(); err != nil {
		t.Errorf("saved answers do not validate: %v", err)
	}
}

func TestResize(t *testing.T) {
	d := start(t, testConfig(&memBackend{}), 80, 24)
	runTo(d, "enter summary")
	d.tm.Send(tea.WindowSizeMsg{Width: 120, Height: 40})
	d.tm.Send(tea.WindowSizeMsg{Width: 60, Height: 20})
	m := d.final()
	got := ansi.Strip(m.View())
	if n := strings.Count(got, "\n") + 1; n != 20 {
		t.Errorf("after resizing to 60x20 the view has %d lines", n)
	}
	for _, l := range strings.Split(got, "\n") {
		if ansi.StringWidth(l) > 60 {
			t.Errorf("line wider than 60 cells after resize: %q", l)
		}
	}
}

func TestProblemAt(t *testing.T) {
	base := &contract.Answers{InstallDir: "/opt/calcom", PublicURL: "https://cal.example.com"}
	cases := []struct {
		name string
		set  func(v *values)
		path string
		want string // "" means no problem
	}{
		{"good defaults", func(v *values) {}, "public_url", ""},
		{"public url path", func(v *values) { v.PublicURL = "https://cal.example.com/app" }, "public_url", "has a path"},
		{"pm2 with bundled db", func(v *values) { v.Target, v.DBMode = "pm2", "bundled" }, "database.mode", "only with target compose"},
		{"rds needs ca", func(v *values) { v.DBMode, v.DBURL = "rds", "postgresql://u:p@x.rds.amazonaws.com/db" }, "database.ca_file", "RDS CA bundle"},
		{"db url in clear text", func(v *values) {
			v.DBMode, v.DBURL = "external", "postgresql://u:hunter2@db.example.com/db?sslmode=disable"
		}, "database.url_env", "clear text"},
		{"db url missing", func(v *values) { v.DBMode = "external" }, "database.url_env", "required"},
		{"smtp user needs password", func(v *values) {
			v.EmailHost, v.EmailUser, v.EmailFrom = "smtp.example.com", "cal", "cal@example.com"
		}, "email.password_env", "required"},
		{"billing id", func(v *values) { v.DeploymentID = "has space" }, "billing.deployment_id", "not a deployment id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := newValues(base, contract.EnvSecrets{}, "CALCTL_GIT_TOKEN", "")
			tc.set(&v)
			err := problemAt(v.answers(base, "CALCTL_GIT_TOKEN"), v.env(contract.EnvSecrets{}), tc.path)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("unexpected problem: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("problem = %v, want one containing %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the message shows the password: %v", err)
			}
		})
	}
}

// BenchmarkRunView measures drawing the Run screen while a step has logged
// b.N lines (compose build output), as the TUI does after every event.
func BenchmarkRunView(b *testing.B) {
	m := New(context.Background(), Config{Answers: &contract.Answers{}, Plain: true})
	m.screen = screenRun
	m.run.apply(contract.Event{Type: contract.EventPlan, Steps: []string{"preflight", "clone", "secrets", "render", "write", "start", "migrate", "verify", "agent"}})
	m.run.apply(contract.Event{Type: contract.EventStepStart, Step: "start"})
	m.run.running = true
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		m.run.apply(contract.Event{Type: contract.EventLog, Step: "start", Message: "#12 [web 5/9] RUN yarn install --immutable  12.3s"})
		_ = m.View()
	}
}

func TestPM2PreselectsAnExternalDatabase(t *testing.T) {
	d := start(t, testConfig(&memBackend{}), 80, 24)
	toTarget(d)
	d.keys("down", "enter")
	d.see("1 error(s)")
	d.keys("enter")
	d.see("> external")
	m := d.final()
	if a := m.answers(); a.Target != "pm2" || a.Database.Mode != "external" {
		t.Errorf("target %q database %q, want pm2 with external", a.Target, a.Database.Mode)
	}
}
