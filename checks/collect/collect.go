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
	"net"
	"net/url"
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
	Dir string
	// EnvFile is the dotenv file (--env-file); Resolve fills it from Dir
	// (.env, .env.production, .env.local).
	EnvFile string
	// ComposeFile is the compose file (--compose-file); Resolve fills it
	// from Dir (docker-compose.yml/.yaml, compose.yml/.yaml).
	ComposeFile string
	// PM2File is the pm2 ecosystem file (--pm2-file); Resolve fills it
	// from Dir (ecosystem.config.js/.cjs/.json, ecosystem.json).
	PM2File string
	// DatabaseURL defaults to DATABASE_URL from the env file.
	DatabaseURL secret.Secret
	// AdminDatabaseURL, when set, reads the superuser-only views.
	AdminDatabaseURL secret.Secret
	// Docker turns the Docker collector on; DockerClient overrides FromEnv.
	Docker bool
	// DockerClient is the engine client to use; nil builds one from
	// DOCKER_HOST and friends (client.FromEnv).
	DockerClient *client.Client
	// DockerOptional turns a daemon that does not answer into SKIP, not ERROR.
	DockerOptional bool
	// ContainerLabel limits the containers to those with this label (k or k=v).
	ContainerLabel string
	// AllContainers judges every container on the engine instead of the
	// install's compose project.
	AllContainers bool
	// URL is the public URL (default NEXT_PUBLIC_WEBAPP_URL); HTTPURL the
	// plain-HTTP URL probed for a redirect (default http://host/).
	URL string
	// HTTPURL is --http-url; "" probes http://<URL's host>/.
	HTTPURL string
	// RootCAs verifies the public certificate (nil = system roots).
	RootCAs *x509.CertPool
	// Host turns the local host collector on.
	Host bool
	// BackupDir is where backup files are; ContingencyFile records restore tests.
	BackupDir string
	// ContingencyFile is --contingency; Resolve fills it from Dir
	// (contingency.yaml, .calctl/contingency.yaml).
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
		if _, err := os.Lstat(p); err != nil {
			return fmt.Errorf("%s %s: %w", flag, p, err)
		}
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	return nil
}

// firstExisting returns the first name present in dir as anything at all
// (Lstat): a dangling or looping symlink named .env is the install's .env
// and must fail to read, not pass as "no .env" (issue 11 item 9).
func firstExisting(dir string, names ...string) string {
	for _, n := range names {
		p := filepath.Join(dir, n)
		if _, err := os.Lstat(p); err == nil {
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

	var compose *checks.ComposeFacts
	if f.Files != nil {
		compose = f.Files.Compose
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	par := func(s checks.Source, fn func(ctx context.Context, part *checks.Facts) error, done func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if done != nil {
				defer done()
			}
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
	var dres dockerResult
	var dockerErr string
	dockerDone := make(chan struct{})
	par(checks.SourceDocker, func(ctx context.Context, p *checks.Facts) error {
		if !o.Docker {
			return skipf("Docker collection is off (--docker=false)")
		}
		if o.Profile == "rds" {
			return skipf("not the deployment's host: --profile rds runs the database on AWS")
		}
		err := collectDocker(ctx, p, o, compose, &dres)
		if err != nil {
			dockerErr = err.Error()
		}
		return err
	}, func() { close(dockerDone) })
	par(checks.SourcePG, func(ctx context.Context, p *checks.Facts) error {
		if dbURL == "" {
			return skipf("no database URL (--database-url or DATABASE_URL in the env file)")
		}
		t := pgTarget{url: dbURL, admin: o.AdminDatabaseURL}
		host := urlHost(dbURL.Reveal())
		if svc := composeServiceNamed(compose, host); svc != "" && o.DatabaseURL == "" {
			// A bundled Postgres: not published on the host (rightly), so it
			// is reached at its container's address on the compose network,
			// with the credentials of db.env/.env.
			if !o.Docker || !o.wants(checks.SourceDocker) {
				return fmt.Errorf("the database host %q is the compose service %s, reached through Docker; Docker collection is off (--docker=false)", host, svc)
			}
			select {
			case <-dockerDone:
			case <-ctx.Done():
				return ctx.Err()
			}
			addr := dres.addrs[svc]
			if addr == "" {
				why := "it has no running container in this install's compose project (docker compose ps)"
				if dockerErr != "" {
					why = "the Docker collector failed: " + dockerErr
				}
				return fmt.Errorf("the database host %q is the compose service %s: %s", host, svc, why)
			}
			t.url, t.host, t.via = withHost(dbURL, addr), host, "docker network "+addr
			if t.admin == "" {
				t.admin = bundledAdmin(o, t.url)
			}
		}
		return collectPG(ctx, p, t)
	}, nil)
	par(checks.SourceNet, func(ctx context.Context, p *checks.Facts) error {
		if pub == "" {
			return skipf("no public URL (--url or NEXT_PUBLIC_WEBAPP_URL)")
		}
		return collectNet(ctx, p, pub, o)
	}, nil)
	par(checks.SourceHost, func(ctx context.Context, p *checks.Facts) error {
		if !o.Host {
			return skipf("host collection is off (--host=false)")
		}
		if o.Profile == "rds" {
			return skipf("not the deployment's host: --profile rds runs the database on AWS")
		}
		return collectHost(ctx, p)
	}, nil)
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
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		st.Error = oneLine(fmt.Sprintf("timed out after %s: %v", d, err))
	case ctx.Err() != nil:
		st.Error = oneLine(fmt.Sprintf("interrupted: %v", err))
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

// urlHost returns the host of a database URL ("" when it does not parse).
func urlHost(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return ""
	}
	if h := u.Hostname(); h != "" {
		return h
	}
	return u.Query().Get("host")
}

// withHost returns the URL with its host replaced by addr (the port kept).
// A URL that verifies the server's certificate and name (verify-full, or
// Prisma's engine form with sslaccept=strict and its CA in sslcert) keeps
// verifying its chain against the same CA (verify-ca): the address is not
// the name in the certificate. For calctl's bundled database that is no
// weaker: its CA signed the database's certificate only, and its key was
// thrown away (installer/dbtls.go).
func withHost(raw secret.Secret, addr string) secret.Secret {
	u, err := url.Parse(strings.TrimSpace(raw.Reveal()))
	if err != nil {
		return raw
	}
	port := u.Port()
	if port == "" {
		port = "5432"
	}
	u.Host = net.JoinHostPort(addr, port)
	q := u.Query()
	ca := q.Get("sslrootcert")
	strict := q.Get("sslaccept") != "" && q.Get("sslaccept") != "accept_invalid_certs"
	if strict && q.Get("sslcert") != "" && q.Get("sslkey") == "" {
		ca = q.Get("sslcert") // Prisma's engine: sslcert is the server's CA
		q.Del("sslcert")
	}
	if ca != "" && (strict || q.Get("sslmode") == "verify-full") {
		q.Del("sslaccept")
		q.Set("sslmode", "verify-ca")
		q.Set("sslrootcert", ca)
		u.RawQuery = q.Encode()
	}
	return secret.Secret(u.String())
}

// composeServiceNamed returns the compose service that host names, if any.
func composeServiceNamed(cf *checks.ComposeFacts, host string) string {
	if cf == nil || host == "" {
		return ""
	}
	for _, s := range cf.Services {
		if s.Name == host {
			return s.Name
		}
	}
	return ""
}

// bundledAdmin builds the superuser URL of a bundled Postgres from the
// install's db.env (calctl's install) or .env (calcom/docker): the official
// image makes POSTGRES_USER a superuser (hardening-catalog PG-006).
// Nothing is returned when no password is there.
func bundledAdmin(o Options, appURL secret.Secret) secret.Secret {
	vals := map[string]string{}
	for _, p := range []string{o.EnvFile, filepath.Join(o.Dir, "db.env")} {
		if p == "" || (o.Dir == "" && strings.HasSuffix(p, "db.env")) {
			continue
		}
		if m, err := ReadEnvFile(p); err == nil {
			for _, k := range []string{"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"} {
				if e, ok := m[k]; ok {
					vals[k] = e.Value
				}
			}
		}
	}
	if vals["POSTGRES_PASSWORD"] == "" {
		return ""
	}
	u, err := url.Parse(appURL.Reveal())
	if err != nil {
		return ""
	}
	user := vals["POSTGRES_USER"]
	if user == "" {
		user = "postgres" // the image's default superuser
	}
	u.User = url.UserPassword(user, vals["POSTGRES_PASSWORD"])
	if db := vals["POSTGRES_DB"]; db != "" {
		u.Path = "/" + db
	}
	return secret.Secret(u.String())
}

// HasInstall reports whether the options point at anything calctl can
// check: an env, compose or pm2 file, or a database or public URL.
func (o Options) HasInstall() bool {
	return o.EnvFile != "" || o.ComposeFile != "" || o.PM2File != "" || o.DatabaseURL != "" || o.URL != ""
}

// InstallFiles are the names that make a directory a Cal.com install.
var InstallFiles = []string{".env", "docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml", "ecosystem.config.js", "ecosystem.config.cjs", "ecosystem.config.json"}
