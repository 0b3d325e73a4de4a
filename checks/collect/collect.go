// Package collect holds the collectors that talk to Postgres, the Docker
// engine, config files, the public URL and the local host, and fill a
// checks.Facts. Collectors run in parallel, each under its own timeout; a
// collector that fails records its cause in Facts.Sources and the run goes on.
package collect

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/client"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/internal/redact"
	"github.com/calctl/calctl/internal/secret"
)

// Options says what to collect from.
type Options struct {
	// Dir is a Cal.com install dir holding .env, a compose file or a pm2 file.
	Dir         string
	EnvFile     string
	ComposeFile string
	PM2File     string
	// DatabaseURL defaults to DATABASE_URL from the env file.
	DatabaseURL secret.Secret
	// AdminDatabaseURL, when set, reads the superuser-only views.
	AdminDatabaseURL secret.Secret
	// Docker turns the Docker collector on; DockerClient overrides FromEnv.
	Docker       bool
	DockerClient *client.Client
	// DockerOptional turns a daemon that does not answer into SKIP, not ERROR.
	DockerOptional bool
	// ContainerLabel limits the containers to those with this label (k or k=v).
	ContainerLabel string
	// URL is the public URL (default NEXT_PUBLIC_WEBAPP_URL); HTTPURL the
	// plain-HTTP URL probed for a redirect (default http://host/).
	URL     string
	HTTPURL string
	// RootCAs verifies the public certificate (nil = system roots).
	RootCAs *x509.CertPool
	// Host turns the local host collector on.
	Host bool
	// BackupDir is where backup files are; ContingencyFile records restore tests.
	BackupDir       string
	ContingencyFile string
	// Profile is compose, pm2 or rds ("" = detect).
	Profile string
	// Timeout bounds each collector (default 10s).
	Timeout time.Duration
	// Now fixes the collection time (tests); zero = time.Now.
	Now time.Time
	// Only, when not empty, limits collection to these sources.
	Only []checks.Source
}

func (o Options) wants(s checks.Source) bool {
	if len(o.Only) == 0 {
		return true
	}
	for _, x := range o.Only {
		if x == s {
			return true
		}
	}
	return false
}

// Resolve fills file paths from Dir and reports missing explicit files.
func (o *Options) Resolve() error {
	if o.Dir != "" {
		if st, err := os.Stat(o.Dir); err != nil || !st.IsDir() {
			return fmt.Errorf("--dir %s is not a directory", o.Dir)
		}
		if o.EnvFile == "" {
			o.EnvFile = firstExisting(o.Dir, ".env", ".env.production", ".env.local")
		}
		if o.ComposeFile == "" {
			o.ComposeFile = firstExisting(o.Dir, "docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml")
		}
		if o.PM2File == "" {
			o.PM2File = firstExisting(o.Dir, "ecosystem.config.js", "ecosystem.config.cjs", "ecosystem.config.json", "ecosystem.json")
		}
		if o.ContingencyFile == "" {
			o.ContingencyFile = firstExisting(o.Dir, "contingency.yaml", filepath.Join(".calctl", "contingency.yaml"))
		}
	}
	for flag, p := range map[string]string{"--env-file": o.EnvFile, "--compose-file": o.ComposeFile, "--pm2-file": o.PM2File} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%s %s: %w", flag, p, err)
		}
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	return nil
}

func firstExisting(dir string, names ...string) string {
	for _, n := range names {
		p := filepath.Join(dir, n)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// ErrSkipped marks a collector that had nothing to look at.
var ErrSkipped = errors.New("skipped")

type skipErr struct{ why string }

func (e skipErr) Error() string   { return e.why }
func (e skipErr) Is(t error) bool { return t == ErrSkipped }

func skipf(format string, a ...any) error { return skipErr{fmt.Sprintf(format, a...)} }

// Collect runs the collectors and returns the facts. Files go first (they
// supply DATABASE_URL and the public URL); the rest run in parallel.
func Collect(ctx context.Context, o Options) (*checks.Facts, error) {
	if err := o.Resolve(); err != nil {
		return nil, err
	}
	f := &checks.Facts{SchemaVersion: checks.FactsSchemaVersion, CollectedAt: o.Now, Sources: map[checks.Source]checks.SourceState{}}
	if f.CollectedAt.IsZero() {
		f.CollectedAt = time.Now().UTC()
	}
	f.Target = checks.Target{Dir: o.Dir, EnvFile: o.EnvFile, ComposeFile: o.ComposeFile, PM2File: o.PM2File}
	f.Target.Host, _ = os.Hostname()

	run(ctx, f, checks.SourceFiles, o.Timeout, func(ctx context.Context) error {
		if !o.wants(checks.SourceFiles) {
			return skipf("not selected")
		}
		return collectFiles(ctx, f, o)
	})

	dbURL := o.DatabaseURL
	if dbURL == "" && f.Files != nil && f.Files.Env != nil {
		dbURL = envRaw(o.EnvFile, "DATABASE_URL")
	}
	if dbURL != "" {
		f.Target.Database = redact.URL(dbURL.Reveal())
	}
	pub := o.URL
	if pub == "" {
		pub = f.EnvValue("NEXT_PUBLIC_WEBAPP_URL")
	}
	f.Target.PublicURL = pub

	var mu sync.Mutex
	var wg sync.WaitGroup
	par := func(s checks.Source, fn func(ctx context.Context, part *checks.Facts) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			part := &checks.Facts{CollectedAt: f.CollectedAt}
			st := runState(ctx, o.Timeout, func(ctx context.Context) error {
				if !o.wants(s) {
					return skipf("not selected")
				}
				return fn(ctx, part)
			})
			mu.Lock()
			defer mu.Unlock()
			f.SetSource(s, st)
			switch s {
			case checks.SourcePG:
				f.PG = part.PG
			case checks.SourceDocker:
				f.Docker = part.Docker
			case checks.SourceNet:
				f.Net = part.Net
			case checks.SourceHost:
				f.Host = part.Host
			case checks.SourceBackup:
				f.Backup = part.Backup
			}
		}()
	}
	par(checks.SourcePG, func(ctx context.Context, p *checks.Facts) error {
		if dbURL == "" {
			return skipf("no database URL (--database-url or DATABASE_URL in the env file)")
		}
		return collectPG(ctx, p, dbURL, o.AdminDatabaseURL)
	})
	par(checks.SourceDocker, func(ctx context.Context, p *checks.Facts) error {
		if !o.Docker {
			return skipf("Docker collection is off (--docker=false)")
		}
		return collectDocker(ctx, p, o)
	})
	par(checks.SourceNet, func(ctx context.Context, p *checks.Facts) error {
		if pub == "" {
			return skipf("no public URL (--url or NEXT_PUBLIC_WEBAPP_URL)")
		}
		return collectNet(ctx, p, pub, o)
	})
	par(checks.SourceHost, func(ctx context.Context, p *checks.Facts) error {
		if !o.Host {
			return skipf("host collection is off (--host=false)")
		}
		return collectHost(ctx, p)
	})
	wg.Wait()
	// Backup evidence compares devices with the data directory, so it runs last.
	run(ctx, f, checks.SourceBackup, o.Timeout, func(ctx context.Context) error {
		if !o.wants(checks.SourceBackup) {
			return skipf("not selected")
		}
		return collectBackup(ctx, f, o)
	})
	f.Target.Profile = detectProfile(f, o)
	return f, nil
}

func run(ctx context.Context, f *checks.Facts, s checks.Source, d time.Duration, fn func(ctx context.Context) error) {
	f.SetSource(s, runState(ctx, d, fn))
}

func runState(ctx context.Context, d time.Duration, fn func(ctx context.Context) error) checks.SourceState {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	start := time.Now()
	err := fn(ctx)
	st := checks.SourceState{DurationMS: time.Since(start).Milliseconds()}
	switch {
	case err == nil:
		st.Collected = true
	case errors.Is(err, ErrSkipped):
		st.Skipped = err.Error()
	case ctx.Err() != nil:
		st.Error = oneLine(fmt.Sprintf("timed out after %s: %v", d, err))
	default:
		st.Error = oneLine(err.Error())
	}
	return st
}

// oneLine folds a multi-line error (pgx, docker) into one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

func detectProfile(f *checks.Facts, o Options) string {
	switch {
	case o.Profile != "":
		return o.Profile
	case f.PG != nil && f.PG.RDS:
		return "rds"
	case o.ComposeFile != "":
		return "compose"
	case o.PM2File != "":
		return "pm2"
	case f.Docker != nil && len(f.Docker.Containers) > 0:
		return "compose"
	}
	return ""
}
