package installer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calctl/calctl/installer/contract"
	"github.com/calctl/calctl/internal/testenv"
)

type fakeStep struct {
	name string
	err  error
	skip string
}

func (f fakeStep) Name() string { return f.name }
func (f fakeStep) Run(ctx context.Context, s *State) error {
	s.Progress(50, "half way")
	s.Logf("info", "hello from %s", f.name)
	return f.err
}
func (f fakeStep) Skip(*State) (bool, string) { return f.skip != "", f.skip }

func TestEngineEvents(t *testing.T) {
	var got []Event
	var jsonBuf, textBuf bytes.Buffer
	e := &Engine{Sink: contract.Tee(func(ev Event) { got = append(got, ev) }, contract.JSONView(&jsonBuf), contract.TextView(&textBuf))}
	boom := WithRemedy(errors.New("boom"), "do the thing")
	plan := []Step{fakeStep{name: "a"}, fakeStep{name: "b", skip: "nothing to do"}, fakeStep{name: "c", err: boom}, fakeStep{name: "d"}}
	err := e.Run(context.Background(), plan, &State{})
	if !errors.Is(err, boom) || !strings.HasPrefix(err.Error(), "c: ") {
		t.Fatalf("err = %v", err)
	}
	var types []string
	for _, ev := range got {
		types = append(types, string(ev.Type)+":"+ev.Step)
	}
	want := "plan:,step_start:a,progress:a,log:a,step_done:a,step_skip:b,step_start:c,progress:c,log:c,step_fail:c,done:"
	if strings.Join(types, ",") != want {
		t.Errorf("events = %s\nwant     %s", strings.Join(types, ","), want)
	}
	fail := got[9]
	if fail.Remedy != "do the thing" || fail.Error != "boom" || fail.Index != 3 || fail.Total != 4 {
		t.Errorf("fail event = %+v", fail)
	}
	// The JSON-lines view round-trips every event.
	lines := strings.Split(strings.TrimSpace(jsonBuf.String()), "\n")
	if len(lines) != len(got) {
		t.Fatalf("%d json lines for %d events", len(lines), len(got))
	}
	for i, l := range lines {
		var ev Event
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Type != got[i].Type || ev.Step != got[i].Step || ev.Remedy != got[i].Remedy {
			t.Errorf("line %d = %+v, want %+v", i, ev, got[i])
		}
	}
	for _, s := range []string{"[3/4] c: FAILED", "fix:   do the thing", "b: skipped (nothing to do)"} {
		if !strings.Contains(textBuf.String(), s) {
			t.Errorf("text view lacks %q:\n%s", s, textBuf.String())
		}
	}
}

func TestEngineStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := (&Engine{}).Run(ctx, []Step{fakeStep{name: "a"}}, &State{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func renderState(t testing.TB, c renderCase, dir string, dry bool, events *[]Event) (*State, *Engine) {
	a, env := loadCase(t, c)
	a.InstallDir = dir
	a.Source.Dir = filepath.Join(dir, "src")
	a.PM2.LogDir = filepath.Join(dir, "logs")
	s := &State{Answers: a, Env: env, DryRun: dry, Repo: c.repo(t)}
	return s, &Engine{Sink: func(e Event) { *events = append(*events, e) }}
}

func TestRenderPlanIdempotentAndKeepsSecrets(t *testing.T) {
	for _, c := range renderCases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "install")
			var evs []Event
			s, e := renderState(t, c, dir, false, &evs)
			if err := e.Run(context.Background(), RenderPlan(), s); err != nil {
				t.Fatal(err)
			}
			first := s.Secrets
			if len(first.EncryptionKey.Reveal()) != EncryptionKeyLen || len(first.NextAuthSecret.Reveal()) != 44 {
				t.Fatalf("generated secrets have wrong lengths")
			}
			st, err := os.Stat(filepath.Join(dir, ".env"))
			if err != nil || st.Mode().Perm() != 0o600 {
				t.Fatalf(".env: %v %v", st.Mode(), err)
			}
			before := testenv.TreeHash(t, dir)
			envBefore, _ := os.ReadFile(filepath.Join(dir, ".env"))

			// second run: nothing changes, secrets kept byte for byte
			evs = nil
			s2, e2 := renderState(t, c, dir, false, &evs)
			if err := e2.Run(context.Background(), RenderPlan(), s2); err != nil {
				t.Fatal(err)
			}
			if after := testenv.TreeHash(t, dir); after != before {
				t.Errorf("re-render changed the tree")
			}
			if len(s2.Written) != 0 || len(s2.Backups) != 0 || len(s2.Secrets.GeneratedThisRun) != 0 {
				t.Errorf("re-render wrote %v, backed up %v, generated %v", s2.Written, s2.Backups, s2.Secrets.GeneratedThisRun)
			}
			if s2.Secrets.NextAuthSecret != first.NextAuthSecret || s2.Secrets.EncryptionKey != first.EncryptionKey || s2.Secrets.DatabasePassword != first.DatabasePassword {
				t.Errorf("secrets changed on re-run")
			}
			if s.Answers.Database.Mode == DBBundled {
				assertDBTLSFiles(t, dir, first.DBTLS)
				if s2.Secrets.DBTLS != first.DBTLS {
					t.Errorf("the bundled database's TLS key or certificates changed on re-run")
				}
			}

			// change an answer: changed files are backed up, secrets still kept
			evs = nil
			s3, e3 := renderState(t, c, dir, false, &evs)
			s3.Answers.PublicURL = "https://changed.example.com"
			s3.Now = func() time.Time { return time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC) }
			if err := e3.Run(context.Background(), RenderPlan(), s3); err != nil {
				t.Fatal(err)
			}
			bak, err := os.ReadFile(filepath.Join(dir, ".env.bak-20260304T050607Z"))
			if err != nil || !bytes.Equal(bak, envBefore) {
				t.Errorf(".env backup: %v", err)
			}
			if st, _ := os.Stat(filepath.Join(dir, ".env.bak-20260304T050607Z")); st == nil || st.Mode().Perm() != 0o600 {
				t.Errorf("backup of a secret file is not 0600")
			}
			if s3.Secrets.EncryptionKey != first.EncryptionKey {
				t.Errorf("encryption key changed when public_url changed")
			}
			newEnv, _ := os.ReadFile(filepath.Join(dir, ".env"))
			if !bytes.Contains(newEnv, []byte("NEXT_PUBLIC_WEBAPP_URL=https://changed.example.com")) || !bytes.Contains(newEnv, []byte("CALENDSO_ENCRYPTION_KEY="+first.EncryptionKey.Reveal())) {
				t.Errorf(".env after change is wrong")
			}
			for _, ev := range evs {
				b, _ := json.Marshal(ev)
				for _, v := range s3.secretValues() {
					if len(v) >= 4 && bytes.Contains(b, []byte(v)) {
						t.Errorf("event %s leaks a secret", ev.Type)
					}
				}
			}
		})
	}
}

func TestRenderDryRunWritesNothing(t *testing.T) {
	c := renderCases[0]
	for _, existing := range []bool{false, true} {
		dir := filepath.Join(t.TempDir(), "install")
		var evs []Event
		if existing {
			s, e := renderState(t, c, dir, false, &evs)
			if err := e.Run(context.Background(), RenderPlan(), s); err != nil {
				t.Fatal(err)
			}
		}
		before := "absent"
		if existing {
			before = testenv.TreeHash(t, dir)
		}
		evs = nil
		s, e := renderState(t, c, dir, true, &evs)
		s.Answers.PublicURL = "https://dry.example.com"
		if err := e.Run(context.Background(), RenderPlan(), s); err != nil {
			t.Fatal(err)
		}
		after := "absent"
		if _, err := os.Stat(dir); err == nil {
			after = testenv.TreeHash(t, dir)
		}
		if before != after {
			t.Errorf("existing=%v: dry run changed the tree", existing)
		}
		var diff strings.Builder
		for _, ev := range evs {
			if ev.Type == EventChange {
				diff.WriteString(ev.Path + " " + ev.Action + "\n" + ev.Diff)
			}
		}
		out := diff.String()
		if !strings.Contains(out, "https://dry.example.com") || !existing && !strings.Contains(out, "NEXTAUTH_SECRET=********") {
			t.Errorf("existing=%v: diff lacks the change or the mask:\n%s", existing, out)
		}
		for _, v := range s.secretValues() {
			if len(v) >= 4 && strings.Contains(out, v) {
				t.Errorf("existing=%v: dry-run diff leaks a secret", existing)
			}
		}
	}
}

func TestWriteUnwritableInstallDir(t *testing.T) {
	parent := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(parent, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	var evs []Event
	s, e := renderState(t, renderCases[1], filepath.Join(parent, "install"), false, &evs)
	err := e.Run(context.Background(), RenderPlan(), s)
	if err == nil || RemedyOf(err) == "" || !strings.Contains(err.Error(), "install_dir") {
		t.Fatalf("err = %v (remedy %q)", err, RemedyOf(err))
	}
}

func TestSecretsKeptEvenIfWrongLength(t *testing.T) {
	dir := t.TempDir()
	old := "NEXTAUTH_SECRET=old-secret\nCALENDSO_ENCRYPTION_KEY=secret\n"
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	var evs []Event
	s, e := renderState(t, renderCases[1], dir, false, &evs)
	if err := e.Run(context.Background(), []Step{secretsStep{}}, s); err != nil {
		t.Fatal(err)
	}
	if s.Secrets.EncryptionKey != "secret" || s.Secrets.NextAuthSecret != "old-secret" {
		t.Errorf("existing secrets were not kept")
	}
	warned := false
	for _, ev := range evs {
		if ev.Level == "warn" && strings.Contains(ev.Message, "6 characters") {
			warned = true
		}
	}
	if !warned {
		t.Errorf("no warning about the 6-character key")
	}
}

type urlStep struct{}

func (urlStep) Name() string { return "clone" }
func (urlStep) Run(ctx context.Context, s *State) error {
	s.Logf("info", "fetching https://user:pw-in-url-1@h/x%%zz")
	s.Emit(Event{Type: EventLog, Level: "warn", Message: "x", Finding: &contract.Finding{Check: "c", Message: "git://u:pw-in-url-2@h/x"}})
	return WithRemedy(errors.New("clone ssh://u:pw-in-url-3@h:22/x failed"), "check postgres://u:pw-in-url-4@db/cal")
}

// TestEventsNeverCarryURLPasswords: whatever a step writes, its events
// leave the engine without URL credentials (issue 11.7), for every view.
func TestEventsNeverCarryURLPasswords(t *testing.T) {
	var buf bytes.Buffer
	e := &Engine{Sink: contract.Tee(contract.JSONView(&buf), contract.TextView(&buf))}
	if err := e.Run(context.Background(), []Step{urlStep{}}, &State{}); err == nil {
		t.Fatal("the step's failure was lost")
	}
	if strings.Contains(buf.String(), "pw-in-url") || !strings.Contains(buf.String(), "https://user:REDACTED@h/x%zz") {
		t.Errorf("events:\n%s", buf.String())
	}
}
