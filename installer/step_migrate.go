package installer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/calctl/calctl/internal/database"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/jackc/pgx/v5/pgconn"
)

// migrateStep applies Cal.com's Prisma migrations. It first reads
// _prisma_migrations and stops, with guidance, when a migration failed or
// was left half-applied (Prisma's P3009): `migrate deploy` would refuse
// anyway, and the fix needs a human.
type migrateStep struct{}

func (migrateStep) Name() string { return "migrate" }

func (migrateStep) Timeout(*State) time.Duration { return 15 * time.Minute }

func (migrateStep) Skip(s *State) (bool, string) {
	switch {
	case s.DryRun:
		return true, "dry run"
	case s.Answers.Migrate.Skip:
		return true, "migrate.skip is true"
	}
	return false, ""
}

// Migration is one row of _prisma_migrations that is not cleanly applied.
type Migration struct {
	// Name is migration_name (the migration's folder name).
	Name string
	// StartedAt is started_at.
	StartedAt time.Time
	// Failed is true when the row has logs (Prisma records the error
	// there); false for a migration still running or killed mid-way.
	Failed bool
	// FirstError is the first line of logs; "" when there are none.
	FirstError string
}

// PendingProblems reads _prisma_migrations and returns migrations that
// failed or never finished. A database without the table has none.
func PendingProblems(ctx context.Context, dbURL string) (applied int, bad []Migration, err error) {
	conn, err := database.Connect(ctx, dbURL, database.Options{AppName: "calctl-migrate-guard"})
	if err != nil {
		return 0, nil, fmt.Errorf("read _prisma_migrations: %w", err)
	}
	defer conn.Close(context.Background())
	err = conn.QueryRow(ctx, `SELECT count(*) FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`).Scan(&applied)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42P01" {
		return 0, nil, nil // fresh database
	}
	if err != nil {
		return 0, nil, fmt.Errorf("read _prisma_migrations: %w", err)
	}
	rows, err := conn.Query(ctx, `SELECT migration_name, started_at, logs IS NOT NULL AND logs <> '', coalesce(logs, '')
		FROM "_prisma_migrations" WHERE finished_at IS NULL AND rolled_back_at IS NULL ORDER BY started_at`)
	if err != nil {
		return applied, nil, fmt.Errorf("read _prisma_migrations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var m Migration
		var logs string
		if err := rows.Scan(&m.Name, &m.StartedAt, &m.Failed, &logs); err != nil {
			return applied, nil, err
		}
		m.FirstError, _, _ = strings.Cut(strings.TrimSpace(logs), "\n")
		bad = append(bad, m)
	}
	return applied, bad, rows.Err()
}

// hostDatabaseURL is the URL calctl itself uses from this host: the bundled
// database through its container's address, external/RDS with the host
// path of the CA file.
func hostDatabaseURL(ctx context.Context, s *State) (string, error) {
	a := s.Answers
	if a.Database.Mode != DBBundled {
		host := *a
		host.Target = TargetPM2
		return DatabaseURL(&host, s.Env, s.Secrets)
	}
	cli, _, err := s.dockerClient()
	if err != nil {
		return "", err
	}
	c, err := serviceContainer(ctx, cli, a.Start.Project, "database")
	if err != nil {
		return "", err
	}
	ins, err := cli.ContainerInspect(ctx, c.ID)
	if err != nil {
		return "", err
	}
	ip := ""
	for _, n := range ins.NetworkSettings.Networks {
		if n.IPAddress != "" {
			ip = n.IPAddress
			break
		}
	}
	if ip == "" {
		return "", fmt.Errorf("container %s has no IP address", containerName(c))
	}
	// TLS, as the server accepts no other TCP client (dbtls.go). The
	// address is not the name in the certificate, so the chain is what is
	// verified: the CA signed only the database's certificate and its key
	// is gone, so no one else can present one that verifies.
	q := url.Values{"sslmode": {"verify-ca"}, "sslrootcert": {DBCAPath(a)}}
	u := url.URL{Scheme: "postgresql", User: url.UserPassword(a.Database.User, s.Secrets.DatabasePassword.Reveal()),
		Host: net.JoinHostPort(ip, "5432"), Path: "/" + a.Database.Name, RawQuery: q.Encode()}
	return u.String(), nil
}

// checkMigrations reads _prisma_migrations and stops, with guidance, on a
// failed or half-applied migration.
func checkMigrations(ctx context.Context, s *State) error {
	_, err := migrationState(ctx, s)
	return err
}

func migrationState(ctx context.Context, s *State) (int, error) {
	dbURL, err := hostDatabaseURL(ctx, s)
	if err != nil {
		return 0, WithRemedy(err, "the database must be running and reachable from this host")
	}
	applied, bad, err := PendingProblems(ctx, dbURL)
	var ex *database.Explained
	switch {
	case errors.As(err, &ex) && ex.Fix != "":
		return 0, err // the one line already says what to do (database.Explain)
	case err != nil:
		return 0, WithRemedy(err, "check that the database is up and the credentials in .env are right")
	}
	if len(bad) > 0 {
		var lines []string
		for _, m := range bad {
			what := "was started at " + m.StartedAt.UTC().Format(time.RFC3339) + " and never finished (half-applied)"
			if m.Failed {
				what = "failed: " + m.FirstError
			}
			lines = append(lines, fmt.Sprintf("%s %s", m.Name, what))
		}
		first := bad[0].Name
		return applied, WithRemedy(fmt.Errorf("%d migration(s) are not cleanly applied, so `prisma migrate deploy` would stop with P3009: %s", len(bad), strings.Join(lines, "; ")),
			"back up the database; look at what %[1]s changed; then either undo its partial changes and run `npx prisma migrate resolve --rolled-back %[1]s`, or finish it by hand and run `npx prisma migrate resolve --applied %[1]s` (in the web container: docker exec -it <web> ...); then run calctl install again", first)
	}
	return applied, nil
}

func (migrateStep) Run(ctx context.Context, s *State) error {
	a := s.Answers
	applied, err := migrationState(ctx, s)
	if err != nil {
		return err
	}
	s.Logf("info", "%d migrations already applied; running: %s", applied, strings.Join(a.Migrate.Command, " "))
	if a.Target == TargetPM2 {
		return runLogged(ctx, s, a.Source.Dir, a.Migrate.Command)
	}
	return execInWeb(ctx, s, a.Migrate.Command, "read the Prisma error above (P1001: database unreachable; P3009: a failed migration, see `calctl doctor`)")
}

// execInWeb runs argv in the running web container, in the monorepo root of
// the generated image (or the image's WORKDIR for a repository Dockerfile),
// its output as progress.
func execInWeb(ctx context.Context, s *State, argv []string, remedy string) error {
	a := s.Answers
	cli, _, err := s.dockerClient()
	if err != nil {
		return err
	}
	web, err := serviceContainer(ctx, cli, a.Start.Project, "web")
	if err != nil {
		return WithRemedy(err, "the start step must have started the web container")
	}
	workdir := "" // the image's own WORKDIR for a repository Dockerfile
	if a.Web.Dockerfile == "" {
		workdir = "/calcom" // the generated image's monorepo root: --schema paths are relative to it
	}
	exec, err := cli.ContainerExecCreate(ctx, web.ID, container.ExecOptions{Cmd: argv, WorkingDir: workdir, AttachStdout: true, AttachStderr: true})
	if err != nil {
		return fmt.Errorf("exec in %s: %w", containerName(web), err)
	}
	att, err := cli.ContainerExecAttach(ctx, exec.ID, container.ExecAttachOptions{})
	if err != nil {
		return fmt.Errorf("exec in %s: %w", containerName(web), err)
	}
	var out bytes.Buffer
	_, _ = stdcopy.StdCopy(&out, &out, att.Reader)
	att.Close()
	tail := &tailBuffer{max: 30}
	w := &lineEmitter{s: s, tail: tail}
	_, _ = w.Write(out.Bytes())
	w.flush()
	ins, err := cli.ContainerExecInspect(ctx, exec.ID)
	if err != nil {
		return err
	}
	if ins.ExitCode != 0 {
		return WithRemedy(fmt.Errorf("%s exited %d in %s; last output:\n%s", strings.Join(argv, " "), ins.ExitCode, containerName(web), tail.String()), "%s", remedy)
	}
	return nil
}
