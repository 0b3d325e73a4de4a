package tui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/calctl/calctl/installer"
	"github.com/calctl/calctl/installer/contract"
	"github.com/calctl/calctl/internal/secret"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
	"gopkg.in/yaml.v3"
)

func TestMain(m *testing.M) {
	// stable goldens: no colour, and never huh's accessible fallback
	lipgloss.SetColorProfile(termenv.Ascii)
	os.Setenv("TERM", "xterm-256color")
	os.Unsetenv("NO_COLOR")
	os.Exit(m.Run())
}

// memBackend is an in-memory Backend. The callbacks are the TUI's whole
// contract with the world, so this is the world as the TUI sees it, not a
// mock of a service: the real ones are wired in installer/wizard and driven
// end to end by internal/cli's tmux test.
type memBackend struct {
	mu        sync.Mutex
	runs      int
	saved     map[string]*contract.Answers
	failStart int // the start step fails on this many runs
	block     chan struct{}
	runCtxErr atomic.Value
	planCalls atomic.Int32
	planErr   error
	ignored   []string
	// long makes the run's notes, errors and fixes longer than any
	// terminal line (the Run screen wraps them)
	long bool
}

func (b *memBackend) backend() Backend {
	return Backend{
		ProbeSource: func(ctx context.Context, a *contract.Answers, tok secret.Secret) (string, error) {
			if tok.Reveal() != "good-token" {
				return "", fmt.Errorf("gitsource: remote %s: authentication required: the token was refused (HTTP 401); give a token with read access to the repository", a.Source.URL)
			}
			return "reachable: " + a.Source.URL + " (ref " + a.Source.Ref + ")", nil
		},
		ProbeDatabase: func(ctx context.Context, a *contract.Answers, url secret.Secret) (DBInfo, error) {
			if url.Reveal() == "postgresql://cal:pw@db.internal:5432/cal?sslmode=require" {
				return DBInfo{Version: "16.4", TLS: true}, nil
			}
			return DBInfo{}, errors.New("cannot connect to Postgres at db.internal:5432: connection refused")
		},
		Preflight: func(ctx context.Context, a *contract.Answers, env contract.EnvSecrets, found func(contract.Finding)) error {
			found(contract.Finding{Check: "memory", Severity: "warning", Message: "2.0 GiB RAM; next build needs 4 GiB", Remedy: "add swap or build on a bigger host"})
			b.mu.Lock()
			ign := slices.Contains(b.ignored, "ports")
			b.mu.Unlock()
			found(contract.Finding{Check: "ports", Severity: "error", Message: "port 3000 (web) is in use by another process", Remedy: "stop it, or set web.port", Ignored: ign})
			return nil
		},
		Plan: func(ctx context.Context, a *contract.Answers, env contract.EnvSecrets) (Plan, error) {
			b.planCalls.Add(1)
			if b.planErr != nil {
				return Plan{}, b.planErr
			}
			return Plan{
				Steps: []string{"preflight", "clone", "secrets", "render", "write", "start", "migrate", "verify", "agent"},
				Changes: []contract.Change{
					{Path: "docker-compose.yml", Action: "create"},
					{Path: ".env", Action: "create"},
					{Path: "Dockerfile.calctl", Action: "create"},
				},
				Notes: []string{"clone: dry run: would clone " + a.Source.URL + "@" + a.Source.Ref + " into " + a.Source.Dir},
			}, nil
		},
		Run: func(ctx context.Context, a *contract.Answers, env contract.EnvSecrets, sink contract.Sink) error {
			b.mu.Lock()
			b.runs++
			fail := b.runs <= b.failStart
			b.mu.Unlock()
			clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			e := &installer.Engine{Sink: sink, Now: func() time.Time { clock = clock.Add(1500 * time.Millisecond); return clock }}
			err := e.Run(ctx, scriptedPlan(b, fail), &installer.State{Answers: a, Env: env, DryRun: true})
			if err != nil && ctx.Err() != nil {
				b.runCtxErr.Store(ctx.Err())
			}
			return err
		},
		IgnorePreflight: func(checks []string) {
			b.mu.Lock()
			defer b.mu.Unlock()
			b.ignored = append([]string(nil), checks...)
		},
		SaveAnswers: func(path string, a *contract.Answers) error {
			b.mu.Lock()
			defer b.mu.Unlock()
			if b.saved == nil {
				b.saved = map[string]*contract.Answers{}
			}
			out, err := yaml.Marshal(a)
			if err != nil {
				return err
			}
			if err := os.WriteFile(path, out, 0o600); err != nil {
				return err
			}
			b.saved[filepath.Base(path)] = a
			return nil
		},
	}
}

// scriptStep is an installer.Step that logs, reports changes, and fails or
// blocks on demand; the real Engine runs it and emits the events.
type scriptStep struct {
	name  string
	logs  []string
	paths []string
	err   error
	block chan struct{}
	// problem is logged after logs: a logged problem with its fix
	problem *contract.Event
}

func (s scriptStep) Name() string { return s.name }

func (s scriptStep) Run(ctx context.Context, st *installer.State) error {
	for _, l := range s.logs {
		st.Logf("info", "%s", l)
	}
	if s.problem != nil {
		st.Emit(*s.problem)
	}
	for _, p := range s.paths {
		st.Emit(contract.Event{Type: contract.EventChange, Path: p, Action: "create"})
	}
	if s.block != nil {
		st.Progress(40, "building the web image")
		select {
		case <-s.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return s.err
}

type skipStep struct {
	scriptStep
	why string // empty: "dry run"
}

func (s skipStep) Skip(*installer.State) (bool, string) {
	if s.why == "" {
		return true, "dry run"
	}
	return true, s.why
}

// Long texts of a run with memBackend.long.
const (
	longCloneNote = "dry run: would clone https://git.example.com/acme/platform/calcom/cal.com.git@release-2026-12 into /opt/calcom/src (submodules resolved with the token)"
	longAgentNote = "no billing answers: the usage agent is not installed; fix: add billing.deployment_id, billing.endpoint and the token to the answers and run calctl install --resume"
	longStartErr  = "compose up: service web: Error response from daemon: driver failed programming external connectivity on endpoint calcom-web-1: Bind for 0.0.0.0:3000 failed: port is already allocated"
	longStartFix  = "stop what listens on port 3000 (ss -ltnp 'sport = :3000' shows it), or set web.port in the answers to a free port and run calctl install --resume"
	longLogErr    = "web image: the build context is 2.3 GiB; the .dockerignore calctl writes was replaced by one that does not leave out node_modules"
	longLogFix    = "restore the .dockerignore from calctl render, or add node_modules and .git to yours"
)

func scriptedPlan(b *memBackend, fail bool) []installer.Step {
	start := scriptStep{name: "start", logs: []string{"docker compose -p calcom up -d --build", "#1 [web] building"}, block: b.block}
	if fail {
		start.err = contract.WithRemedy(errors.New("compose up: port 3000 is already allocated"), "stop what listens on port 3000, or set web.port")
	}
	clone, agent := skipStep{scriptStep: scriptStep{name: "clone"}}, skipStep{scriptStep: scriptStep{name: "agent"}}
	if b.long {
		clone.why, agent.why = longCloneNote, longAgentNote
		start.problem = &contract.Event{Type: contract.EventLog, Level: "error", Message: longLogErr, Remedy: longLogFix}
		if fail {
			start.err = contract.WithRemedy(errors.New(longStartErr), longStartFix)
		}
	}
	return []installer.Step{
		scriptStep{name: "preflight", logs: []string{"9 checks passed"}},
		clone,
		scriptStep{name: "secrets", logs: []string{"generated NEXTAUTH_SECRET, CALENDSO_ENCRYPTION_KEY"}},
		scriptStep{name: "render"},
		scriptStep{name: "write", paths: []string{"docker-compose.yml", ".env", "Dockerfile.calctl"}},
		start,
		scriptStep{name: "migrate", logs: []string{"42 migrations applied"}},
		scriptStep{name: "verify"},
		agent,
	}
}
