// Package backup makes, verifies and restores calctl backups of a Cal.com
// install: a consistent pg_dump -Fc of its database plus its secret files
// and answers, in one age-encrypted archive (backup/archive), with every
// operation recorded in the install's history (backup/history).
//
// A Cal.com backup is worthless without CALENDSO_ENCRYPTION_KEY and
// NEXTAUTH_SECRET (stored credentials and 2FA secrets are encrypted with the
// key; calcom-facts.md §3), so the secrets travel with the dump, encrypted.
package backup

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"
	"github.com/jackc/pgx/v5"

	"github.com/calctl/calctl/backup/pgtool"
	"github.com/calctl/calctl/internal/database"
	"github.com/calctl/calctl/internal/dotenv"
)

// Compose labels (https://github.com/docker/compose, api/labels.go).
const (
	labelProject    = "com.docker.compose.project"
	labelService    = "com.docker.compose.service"
	labelWorkingDir = "com.docker.compose.project.working_dir"
)

// BundledService is the compose service of the bundled database
// (installer/step_render.go composeFor).
const BundledService = "database"

// Members are the install files a backup carries besides the dump, when
// they exist: the secrets (.env, db.env, the cron runner's and the usage
// agent's keys), the answers and the rendered compose file for reference.
var Members = []string{".env", "db.env", "cron/cron.env", "agent/agent.yaml", "agent/token", "agent/signing_secret", "calctl-answers.yaml", "docker-compose.yml"}

// MemberPrefix is where install files live inside the archive.
const MemberPrefix = "install/"

// Install is a Cal.com install directory as backup sees it.
type Install struct {
	// Dir is the absolute install directory.
	Dir string
	// Env is the parsed .env.
	Env map[string]string
	// URL is the database URL used for dumps: DATABASE_DIRECT_URL when set
	// (a pooler such as PgBouncer cannot serve pg_dump; calcom-facts.md §3),
	// else DATABASE_URL.
	URL *database.URL
	// Compose says the install runs under docker compose.
	Compose bool
	// Bundled is the compose database service; DB its container.
	Bundled bool
	// DB is the running container of the bundled database service, found by
	// the install directory's compose labels; zero when not Bundled.
	DB container.Summary
	// Project is that container's compose project (its
	// com.docker.compose.project label); empty when not Bundled.
	Project string
	// Image is that container's image as Docker lists it, recorded in the
	// manifest so that verify can restore into the same image; empty when not
	// Bundled.
	Image string
	// Docker is the engine client (nil when unused).
	Docker *client.Client
}

// Name of the database container, for messages.
func (in *Install) dbName() string {
	if len(in.DB.Names) > 0 {
		return strings.TrimPrefix(in.DB.Names[0], "/")
	}
	return in.DB.ID
}

// OpenInstall reads the install in dir: its .env and database URL, and for
// a bundled database its running container (found by the compose labels
// of the install directory, as check's collector finds it).
func OpenInstall(ctx context.Context, dir string) (*Install, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	f, err := dotenv.Read(filepath.Join(abs, ".env"))
	if err != nil {
		if dotenv.IsNotExist(err) {
			return nil, fmt.Errorf("no Cal.com install in %s: no .env; pass --dir /path/to/install", abs)
		}
		return nil, fmt.Errorf("read %s: %w", filepath.Join(abs, ".env"), err)
	}
	in := &Install{Dir: abs, Env: f.Map()}
	raw := in.Env["DATABASE_DIRECT_URL"]
	if raw == "" {
		raw = in.Env["DATABASE_URL"]
	}
	if raw == "" {
		return nil, fmt.Errorf("%s/.env has no DATABASE_URL", abs)
	}
	if in.URL, err = database.Parse(raw); err != nil {
		return nil, fmt.Errorf("DATABASE_URL in %s/.env: %w", abs, err)
	}
	for _, n := range []string{"docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml"} {
		if _, err := os.Stat(filepath.Join(abs, n)); err == nil {
			in.Compose = true
		}
	}
	_, dbEnv := os.Stat(filepath.Join(abs, "db.env"))
	in.Bundled = in.Compose && (in.URL.Host == BundledService || dbEnv == nil)
	if in.Compose {
		cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
		if err != nil {
			return nil, fmt.Errorf("docker client: %w", err)
		}
		in.Docker = cli
	}
	if in.Bundled {
		c, err := in.findService(ctx, BundledService, true)
		if err != nil {
			return nil, err
		}
		in.DB, in.Project, in.Image = c, c.Labels[labelProject], c.Image
	}
	return in, nil
}

// superuser is the bundled server's superuser and password from db.env,
// when db.env names one: installs rendered since the hardened layout keep
// the superuser (POSTGRES_USER=postgres) apart from the app role that
// DATABASE_URL names (installer/render_dbroles.go); earlier installs have
// one role for both, and then the app role is all there is.
func (in *Install) superuser() (user, password string, ok bool) {
	if !in.Bundled {
		return "", "", false
	}
	f, err := dotenv.Read(filepath.Join(in.Dir, "db.env"))
	if err != nil {
		return "", "", false
	}
	m := f.Map()
	if m["POSTGRES_USER"] == "" || m["POSTGRES_PASSWORD"] == "" {
		return "", "", false
	}
	return m["POSTGRES_USER"], m["POSTGRES_PASSWORD"], true
}

// Close releases the Docker client.
func (in *Install) Close() {
	if in.Docker != nil {
		_ = in.Docker.Close()
	}
}

// Containers lists the containers of the install's compose project (by
// the working-directory label).
func (in *Install) Containers(ctx context.Context) ([]container.Summary, error) {
	if in.Docker == nil {
		return nil, nil
	}
	f := filters.NewArgs(filters.Arg("label", labelWorkingDir+"="+in.Dir))
	cs, err := in.Docker.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return nil, fmt.Errorf("docker: %w (is the Docker engine running?)", err)
	}
	return cs, nil
}

func (in *Install) findService(ctx context.Context, service string, running bool) (container.Summary, error) {
	cs, err := in.Containers(ctx)
	if err != nil {
		return container.Summary{}, err
	}
	for _, c := range cs {
		if c.Labels[labelService] == service && (!running || c.State == "running") {
			return c, nil
		}
	}
	return container.Summary{}, fmt.Errorf("no running %q container of the compose project in %s; start it with `docker compose up -d %s` in that directory", service, in.Dir, service)
}

// Target is where the dump and restore tools run and how they and calctl
// reach the database.
type Target struct {
	// Runner runs pg_dump and pg_restore: docker exec in the bundled database
	// container (pgtool.Exec), else the local tools of at least the server's
	// major (pgtool.Local, found by pgtool.FindLocal).
	Runner pgtool.Runner
	// Tools are the tools' settings; Conn is calctl's own connection.
	Tools pgtool.Params
	// Conn is calctl's own connection settings, as the URL's role: the URL's,
	// with the bundled container's bridge address in place of the compose
	// service name.
	Conn *pgx.ConnConfig
}

// Target resolves how to reach the install's database. major is the
// server's major when known (0: ask the server), for choosing local tools.
func (in *Install) Target(ctx context.Context) (*Target, error) {
	cfg, err := in.URL.Config(database.Options{AppName: "calctl-backup"})
	if err != nil {
		return nil, err
	}
	if in.Bundled {
		insp, err := in.Docker.ContainerInspect(ctx, in.DB.ID)
		if err != nil {
			return nil, fmt.Errorf("inspect %s: %w", in.dbName(), err)
		}
		ip := ""
		if insp.NetworkSettings != nil {
			for _, n := range insp.NetworkSettings.Networks {
				if n.IPAddress != "" {
					ip = n.IPAddress
					break
				}
			}
		}
		if ip == "" {
			return nil, fmt.Errorf("the database container %s has no network address", in.dbName())
		}
		// loopback inside the container: TLS when the server has it (the
		// pg_hba calctl renders takes TCP only over TLS; installer/dbtls.go),
		// plaintext for a server of an earlier render without it. The CA is
		// not in that container, and there is no one in between to verify.
		tools := pgtool.FromConfig(cfg, "prefer", "")
		tools.Host, tools.Port = "127.0.0.1", 5432
		// the URL names the compose service; calctl on the host reaches the
		// container's bridge address instead (as check's collector does),
		// with the URL's TLS preference (its fallbacks keep sslmode=prefer)
		cfg.Host, cfg.Port = ip, 5432
		for _, fb := range cfg.Fallbacks {
			fb.Host, fb.Port = ip, 5432
		}
		return &Target{Runner: pgtool.Exec{Docker: in.Docker, Container: in.DB.ID, Name: in.dbName()}, Tools: tools, Conn: cfg}, nil
	}
	conn, err := in.URL.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	_, major, err := pgtool.ServerVersion(ctx, conn)
	conn.Close(ctx)
	if err != nil {
		return nil, err
	}
	bin, err := pgtool.FindLocal(ctx, major)
	if err != nil {
		return nil, err
	}
	return &Target{Runner: pgtool.Local{BinDir: bin}, Tools: pgtool.FromConfig(cfg, string(in.URL.TLS), in.URL.CAFile), Conn: cfg}, nil
}
