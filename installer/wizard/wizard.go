// Package wizard is the install wizard's backend: it wires installer/tui's
// Backend to the real engine (the preflight step and dry runs of
// installer), gitsource's access probe and a pgx connection, picks the
// wizard's starting answers and keeps the answers a finished run used. The
// wizard itself (installer/tui) only draws; internal/cli only parses flags,
// checks for a terminal and prints.
package wizard

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/calctl/calctl/installer"
	"github.com/calctl/calctl/installer/contract"
	"github.com/calctl/calctl/installer/gitsource"
	"github.com/calctl/calctl/installer/home"
	"github.com/calctl/calctl/installer/tui"
	"github.com/calctl/calctl/internal/database"
	"github.com/calctl/calctl/internal/redact"
	"github.com/calctl/calctl/internal/secret"
	"gopkg.in/yaml.v3"
)

// AnswersFile is where every real run keeps its answers, without
// secrets, so that the next run prefills from them (home.AnswersFile).
const AnswersFile = home.AnswersFile

// GitTokenEnv is the variable the wizard offers for the git token.
const GitTokenEnv = "CALCTL_GIT_TOKEN"

// Options are the install flags the backend honours.
type Options struct {
	// DryRun makes the Run screen a dry run.
	DryRun bool
	// IgnorePreflight names preflight checks to report as warnings.
	IgnorePreflight []string
	// FailOn is the install's --fail-on for its final check step.
	FailOn string
}

// Start picks the wizard's starting answers: base, or when base says
// nothing but (maybe) install_dir, what the install directory holds: the
// answers the last run saved there, else the .env and compose file
// `calctl render` wrote (installer/home.FromRender, whose secrets come back
// in env). existing reports an install already there: the wizard then
// offers upgrade/repair, and the engine keeps the secrets it finds. found
// says what was read, for the Welcome screen ("" when nothing was).
func Start(ctx context.Context, base *contract.Answers) (a *contract.Answers, existing bool, found string, env contract.EnvSecrets) {
	dir := base.InstallDir
	if dir == "" {
		d := *base
		d.ApplyDefaults()
		dir = d.InstallDir
	}
	rest := *base
	rest.InstallDir = ""
	blank := isZeroAnswers(&rest) // no answers file, flags or --set
	if prev, err := home.LoadAnswers(dir); err == nil {
		if blank {
			base = prev
			found = "the answers the last run saved (" + home.AnswersFile + ")"
			if lr, err := home.LoadLastRun(dir); err == nil {
				found += "; that run " + lr.Outcome
				if lr.Step != "" {
					found += " at step " + lr.Step
				}
			}
		}
		existing = true
	} else if r, renv, what, err := home.FromRender(ctx, dir); err == nil && r != nil {
		if blank {
			r.InstallDir = base.InstallDir
			base, env, found = r, renv, what
		}
		existing = true
	}
	if _, err := os.Stat(filepath.Join(dir, ".env")); err == nil {
		existing = true
	}
	return base, existing, found, env
}

// Env reads the secrets already in the environment, under the names
// the answers use (or their defaults), so the wizard need not ask again.
// The wizard masks them; they are never shown.
func Env(a *contract.Answers, getenv func(string) string) contract.EnvSecrets {
	name := func(n, def string) string {
		if n != "" {
			return n
		}
		return def
	}
	tok := name(a.Source.TokenEnv, GitTokenEnv)
	return contract.EnvSecrets{
		GitToken:      secret.Secret(getenv(tok)),
		DatabaseURL:   secret.Secret(getenv(name(a.Database.URLEnv, "DATABASE_URL"))),
		SMTPPassword:  secret.Secret(getenv(name(a.Email.PasswordEnv, "SMTP_PASSWORD"))),
		BillingToken:  secret.Secret(getenv(name(a.Billing.TokenEnv, "CALCTL_BILLING_TOKEN"))),
		SigningSecret: secret.Secret(getenv(name(a.Billing.SigningSecretEnv, "CALCTL_SIGNING_SECRET"))),
	}
}

func isZeroAnswers(a *contract.Answers) bool {
	b, _ := yaml.Marshal(a)
	z, _ := yaml.Marshal(&contract.Answers{})
	return bytes.Equal(b, z)
}

// Backend wires the wizard's callbacks to the engine, gitsource,
// preflight (through the engine's preflight step) and pgx.
func Backend(getenv func(string) string, o Options) tui.Backend {
	var mu sync.Mutex
	ignore := append([]string(nil), o.IgnorePreflight...)
	state := func(a *contract.Answers, env contract.EnvSecrets, dry bool) *installer.State {
		mu.Lock()
		defer mu.Unlock()
		return &installer.State{Answers: a, Env: env, Getenv: getenv, DryRun: dry,
			IgnorePreflight: append([]string(nil), ignore...), FailOn: o.FailOn, Stdout: io.Discard, Stderr: io.Discard}
	}
	return tui.Backend{
		IgnorePreflight: func(checks []string) {
			mu.Lock()
			defer mu.Unlock()
			for _, c := range checks {
				if !slices.Contains(ignore, c) {
					ignore = append(ignore, c)
				}
			}
		},
		ProbeSource: ProbeSource,
		ProbeDatabase: func(ctx context.Context, a *contract.Answers, u secret.Secret) (tui.DBInfo, error) {
			return ProbeDatabase(ctx, a, u)
		},
		Preflight: func(ctx context.Context, a *contract.Answers, env contract.EnvSecrets, found func(contract.Finding)) error {
			plan := stepsNamed(installer.InstallPlan(a), func(n string) bool { return n == contract.StepPreflight })
			n := 0
			e := &installer.Engine{Sink: func(ev contract.Event) {
				if ev.Finding == nil {
					return
				}
				n++
				if ev.Finding.Check == "dns" && a.PublicURL == "" {
					return // public_url is asked on a later screen
				}
				found(*ev.Finding)
			}}
			err := e.Run(ctx, plan, state(a, env, true))
			if n > 0 {
				return nil // the findings say it all
			}
			return err
		},
		Plan: func(ctx context.Context, a *contract.Answers, env contract.EnvSecrets) (tui.Plan, error) {
			full := installer.InstallPlan(a)
			var p tui.Plan
			for _, s := range full {
				p.Steps = append(p.Steps, s.Name())
			}
			// preflight ran on the Target screen; the rest dry-runs here
			plan := stepsNamed(full, func(n string) bool { return n != "preflight" })
			e := &installer.Engine{Sink: func(ev contract.Event) {
				switch ev.Type {
				case contract.EventChange:
					p.Changes = append(p.Changes, contract.Change{Path: ev.Path, Action: ev.Action})
				case contract.EventStepSkip:
					p.Notes = append(p.Notes, ev.Step+": "+ev.Message)
				case contract.EventLog:
					if ev.Level == "warn" || ev.Level == "error" {
						p.Notes = append(p.Notes, ev.Step+": "+ev.Message)
					}
				}
			}}
			return p, e.Run(ctx, plan, state(a, env, true))
		},
		Run: func(ctx context.Context, a *contract.Answers, env contract.EnvSecrets, sink contract.Sink) error {
			s := state(a, env, o.DryRun)
			lw := &lineLogger{state: s}
			s.Stdout, s.Stderr = lw, lw
			e := &installer.Engine{Sink: sink}
			return e.Run(ctx, installer.InstallPlan(a), s)
		},
		SaveAnswers: SaveAnswers,
	}
}

func stepsNamed(plan []installer.Step, keep func(string) bool) []installer.Step {
	var out []installer.Step
	for _, s := range plan {
		if keep(s.Name()) {
			out = append(out, s)
		}
	}
	return out
}

// lineLogger turns the output of commands a step runs (compose) into log
// events of that step, so nothing writes under the wizard's screen.
type lineLogger struct {
	mu    sync.Mutex
	state *installer.State
	buf   []byte
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexAny(l.buf, "\r\n")
		if i < 0 {
			break
		}
		if line := strings.TrimSpace(string(l.buf[:i])); line != "" {
			l.state.Logf("info", "%s", line)
		}
		l.buf = l.buf[i+1:]
	}
	return len(p), nil
}

// ProbeSource is the Source screen's live check: the repository, and for
// submodule modes that fetch them, Cal.com's private API repository next
// to it (https://host/owner/api.git for https://host/owner/cal.com.git).
func ProbeSource(ctx context.Context, a *contract.Answers, token secret.Secret) (string, error) {
	msg, err := probeSource(ctx, a, token)
	// what the wizard shows never holds a URL's password (issue 11.7)
	return redact.URL(msg), redact.Error(err, token.Reveal())
}

func probeSource(ctx context.Context, a *contract.Answers, token secret.Secret) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	o := gitsource.Options{URL: a.Source.URL, Token: token, SSHKeyPath: a.Source.SSHKey}
	if err := gitsource.Probe(ctx, o, a.Source.URL); err != nil {
		// the repository itself: skipping submodules cannot help, whatever
		// the submodule mode is, so that advice is dropped
		return "", parentRepoError{err}
	}
	how := "without a token"
	if token != "" {
		how = "with the token"
	}
	if a.Source.Submodules == "skip" {
		return fmt.Sprintf("%s is readable %s", a.Source.URL, how), nil
	}
	api := siblingRepo(a.Source.URL, "api.git")
	if api == "" {
		return fmt.Sprintf("%s is readable %s (the private submodules are checked during the clone)", a.Source.URL, how), nil
	}
	if err := gitsource.Probe(ctx, o, api); err != nil {
		return "", fmt.Errorf("the repository is readable, but not the private API repository: %w", err)
	}
	return fmt.Sprintf("%s and the private API repository are readable %s", a.Source.URL, how), nil
}

// parentRepoError is a failure to read the repository itself. gitsource's
// hints are written for submodules too and may end "; or use --submodules
// skip", which does not help with the repository the submodules live in.
type parentRepoError struct{ err error }

func (e parentRepoError) Error() string {
	s := strings.Replace(e.err.Error(), "; or use --submodules skip", "", 1)
	return strings.Replace(s, "check the URL in .gitmodules and your network", "check the repository URL and your network", 1)
}

func (e parentRepoError) Unwrap() error { return e.err }

// siblingRepo returns the repository named name next to raw on the same
// host and owner, or "" for URLs it cannot rewrite (scp-like, file).
func siblingRepo(raw, name string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return ""
	}
	u.Path = path.Join(path.Dir(strings.TrimRight(u.Path, "/")), name)
	return u.String()
}

// ProbeDatabase is the Database screen's live check: connect as the app
// will (TLS settings and CA file from the answers), read server_version.
// Errors never show the URL or its password.
func ProbeDatabase(ctx context.Context, a *contract.Answers, u secret.Secret) (tui.DBInfo, error) {
	host := *a
	host.Target = contract.TargetPM2 // connect from this host: CA at its host path
	raw, err := installer.DatabaseURL(&host, contract.EnvSecrets{DatabaseURL: u}, installer.Secrets{})
	if err != nil {
		return tui.DBInfo{}, err
	}
	scrub := func(err error) error { return redact.Error(err, redact.URLPasswords(u.Reveal())...) }
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	// internal/database: the Cal.com URL forms, TLS, password-free errors.
	conn, err := database.Connect(ctx, raw, database.Options{AppName: "calctl-install-probe"})
	if err != nil {
		// one line: what failed (DNS, refused, TLS, auth, database
		// missing) and what to do
		return tui.DBInfo{}, database.ExplainURL(scrub(err), raw)
	}
	defer conn.Close(context.Background())
	var info tui.DBInfo
	if err := conn.QueryRow(ctx, "SHOW server_version").Scan(&info.Version); err != nil {
		return tui.DBInfo{}, scrub(err)
	}
	_, info.TLS = conn.PgConn().Conn().(*tls.Conn)
	return info, nil
}

// SaveAnswers writes answers (which hold only the names of the variables
// with the secrets, never a secret) as YAML, atomically (home.WriteAnswers).
func SaveAnswers(p string, a *contract.Answers) error { return home.WriteAnswers(p, a) }
