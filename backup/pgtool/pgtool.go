// Package pgtool runs PostgreSQL's own dump and restore tools (pg_dump -Fc,
// pg_restore) for calctl's backups, where they must run:
//
//   - for the bundled database, inside its container (docker exec through
//     the Docker client): the image's tools always match the server's
//     major, and the server needs no published port;
//   - for an external server or RDS, a client on this machine of at least
//     the server's major (pg_dump refuses newer servers: "aborting because
//     of server version mismatch", https://www.postgresql.org/docs/current/app-pgdump.html).
//
// Connection settings go to the tools as PG* environment variables, never
// on a command line (where ps would show the password).
package pgtool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/jackc/pgx/v5"
)

// Params are libpq connection settings for the tools.
type Params struct {
	// Host is PGHOST: the server's host name or address as the tools see it
	// (127.0.0.1 inside the bundled database container).
	Host string
	// Port is PGPORT; 0 leaves it unset (libpq's default, 5432).
	Port uint16
	// User is PGUSER, the role the tools log in as.
	User string
	// Password is PGPASSWORD; empty leaves it unset.
	Password string
	// Database is PGDATABASE: the database dumped, or restored into.
	Database string
	// SSLMode is PGSSLMODE, a libpq sslmode (disable, allow, prefer, require,
	// verify-ca, verify-full) taken from the URL; empty leaves libpq's default
	// (prefer).
	SSLMode string
	// SSLRootCert is PGSSLROOTCERT, the path of the CA file the URL names;
	// empty leaves it unset.
	SSLRootCert string
}

// FromConfig takes the settings of a pgx configuration (host, port, user,
// password, database); sslmode and the CA come from the parsed URL.
func FromConfig(cfg *pgx.ConnConfig, sslmode, caFile string) Params {
	return Params{Host: cfg.Host, Port: cfg.Port, User: cfg.User, Password: cfg.Password, Database: cfg.Database, SSLMode: sslmode, SSLRootCert: caFile}
}

// Env is the PG* environment for the tools.
func (p Params) Env() []string {
	env := []string{"PGHOST=" + p.Host, "PGUSER=" + p.User, "PGDATABASE=" + p.Database, "PGAPPNAME=calctl-backup", "PGCONNECT_TIMEOUT=15"}
	if p.Port != 0 {
		env = append(env, "PGPORT="+strconv.Itoa(int(p.Port)))
	}
	if p.Password != "" {
		env = append(env, "PGPASSWORD="+p.Password)
	}
	if p.SSLMode != "" {
		env = append(env, "PGSSLMODE="+p.SSLMode)
	}
	if p.SSLRootCert != "" {
		env = append(env, "PGSSLROOTCERT="+p.SSLRootCert)
	}
	return env
}

// Runner runs one tool to completion. stdin may be nil.
type Runner interface {
	Run(ctx context.Context, argv, env []string, stdin io.Reader, stdout io.Writer) error
	// Where says where the tools run, for messages.
	Where() string
}

// ToolError is a tool's non-zero exit with the end of its stderr.
type ToolError struct {
	// Tool is the tool's name (argv[0]: pg_dump or pg_restore).
	Tool string
	// Code is its exit status.
	Code int
	// Stderr is the last 8 KiB of its standard error.
	Stderr string
}

// Error is the tool, its exit code and the last lines of its stderr.
func (e *ToolError) Error() string {
	msg := strings.TrimSpace(e.Stderr)
	if lines := strings.Split(msg, "\n"); len(lines) > 3 {
		msg = strings.Join(lines[len(lines)-3:], " / ")
	}
	msg = strings.ReplaceAll(msg, "\n", " / ")
	if msg == "" {
		msg = "no message"
	}
	return fmt.Sprintf("%s exited %d: %s", e.Tool, e.Code, msg)
}

// tailBuffer keeps the last 8 KiB written.
type tailBuffer struct{ b []byte }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > 8<<10 {
		t.b = t.b[len(t.b)-8<<10:]
	}
	return len(p), nil
}

// Local runs tools from a directory on this machine.
type Local struct {
	// BinDir is the directory holding pg_dump and pg_restore (FindLocal,
	// e.g. /usr/lib/postgresql/<N>/bin).
	BinDir string
}

// Where implements Runner.
func (l Local) Where() string { return l.BinDir }

// Run implements Runner.
func (l Local) Run(ctx context.Context, argv, env []string, stdin io.Reader, stdout io.Writer) error {
	cmd := exec.CommandContext(ctx, filepath.Join(l.BinDir, argv[0]), argv[1:]...)
	cmd.Env = append(cleanEnv(), env...)
	cmd.Stdin, cmd.Stdout = stdin, stdout
	var stderr tailBuffer
	cmd.Stderr = &stderr
	cmd.WaitDelay = 5 * time.Second
	// the tool dies with calctl (a killed backup leaves no pg_dump behind)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	err := cmd.Run()
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return &ToolError{Tool: argv[0], Code: ee.ExitCode(), Stderr: string(stderr.b)}
		}
		return fmt.Errorf("%s: %w", argv[0], err)
	}
	return nil
}

// cleanEnv is the process environment without PG* variables, which would
// otherwise point the tools somewhere else.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			out = append(out, kv)
		}
	}
	return out
}

// Exec runs tools inside a container with docker exec.
type Exec struct {
	// Docker is the engine client that runs docker exec.
	Docker *client.Client
	// Container is the ID of the container the tools run in.
	Container string
	// Name is the container's name, for messages.
	Name string
}

// Where implements Runner.
func (e Exec) Where() string { return "container " + e.Name }

// Run implements Runner.
func (e Exec) Run(ctx context.Context, argv, env []string, stdin io.Reader, stdout io.Writer) error {
	created, err := e.Docker.ContainerExecCreate(ctx, e.Container, container.ExecOptions{
		Cmd: argv, Env: env, AttachStdin: stdin != nil, AttachStdout: true, AttachStderr: true})
	if err != nil {
		return fmt.Errorf("docker exec %s in %s: %w", argv[0], e.Name, err)
	}
	resp, err := e.Docker.ContainerExecAttach(ctx, created.ID, container.ExecAttachOptions{})
	if err != nil {
		return fmt.Errorf("docker exec %s in %s: %w", argv[0], e.Name, err)
	}
	defer resp.Close()
	stop := context.AfterFunc(ctx, resp.Close)
	defer stop()
	inErr := make(chan error, 1)
	if stdin != nil {
		go func() {
			_, err := io.Copy(resp.Conn, stdin)
			_ = resp.CloseWrite()
			inErr <- err
		}()
	} else {
		inErr <- nil
	}
	if stdout == nil {
		stdout = io.Discard
	}
	var stderr tailBuffer
	_, copyErr := stdcopy.StdCopy(stdout, &stderr, resp.Reader)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if copyErr != nil {
		resp.Close()
		return fmt.Errorf("%s output: %w", argv[0], copyErr)
	}
	if stdin != nil {
		if err := <-inErr; err != nil {
			return fmt.Errorf("%s input: %w", argv[0], err)
		}
	}
	for i := 0; ; i++ {
		insp, err := e.Docker.ContainerExecInspect(ctx, created.ID)
		if err != nil {
			return fmt.Errorf("docker exec %s: %w", argv[0], err)
		}
		if !insp.Running {
			if insp.ExitCode != 0 {
				return &ToolError{Tool: argv[0], Code: insp.ExitCode, Stderr: string(stderr.b)}
			}
			return nil
		}
		if i > 100 {
			return fmt.Errorf("docker exec %s: still running after its output ended", argv[0])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Dump writes `pg_dump -Fc` of the database in p to w. snapshot, when set,
// is an exported snapshot (pg_export_snapshot) the dump reads from, so that
// counts taken in the same snapshot match the dump exactly.
func Dump(ctx context.Context, r Runner, p Params, snapshot string, w io.Writer) error {
	argv := []string{"pg_dump", "--format=custom", "--no-password", "--lock-wait-timeout=60000"}
	if snapshot != "" {
		argv = append(argv, "--snapshot="+snapshot)
	}
	return r.Run(ctx, argv, p.Env(), nil, w)
}

// Restore runs pg_restore of a -Fc dump read from in, into the database
// of p, in a single transaction that stops at the first error. clean drops
// the objects of the dump first (restoring over an existing database);
// objects are owned by the restoring role (--no-owner).
func Restore(ctx context.Context, r Runner, p Params, clean bool, in io.Reader) error {
	argv := []string{"pg_restore", "--no-password", "--no-owner", "--single-transaction", "--exit-on-error", "--dbname=" + p.Database}
	if clean {
		argv = append(argv, "--clean", "--if-exists")
	}
	return r.Run(ctx, argv, p.Env(), in, nil)
}

var versionRe = regexp.MustCompile(`\(PostgreSQL\) (\d+)`)

// ToolMajor runs `<tool> --version` in dir and returns its major.
func ToolMajor(ctx context.Context, path string) (int, error) {
	out, err := exec.CommandContext(ctx, path, "--version").Output()
	if err != nil {
		return 0, err
	}
	m := versionRe.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("%s --version: %q", path, bytes.TrimSpace(out))
	}
	return strconv.Atoi(string(m[1]))
}

// FindLocal finds a directory on this machine holding pg_dump and
// pg_restore of at least major: /usr/lib/postgresql/<N>/bin (Debian,
// Ubuntu), /usr/pgsql-<N>/bin (RHEL), then $PATH. The lowest fitting
// version wins.
func FindLocal(ctx context.Context, major int) (string, error) {
	type cand struct {
		dir   string
		major int
	}
	var cands []cand
	var seen []string
	globs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_dump")
	more, _ := filepath.Glob("/usr/pgsql-*/bin/pg_dump")
	globs = append(globs, more...)
	if p, err := exec.LookPath("pg_dump"); err == nil {
		globs = append(globs, p)
	}
	for _, p := range globs {
		m, err := ToolMajor(ctx, p)
		if err != nil {
			continue
		}
		seen = append(seen, fmt.Sprintf("%s (%d)", p, m))
		if _, err := os.Stat(filepath.Join(filepath.Dir(p), "pg_restore")); err != nil {
			continue
		}
		if m >= major {
			cands = append(cands, cand{filepath.Dir(p), m})
		}
	}
	if len(cands) == 0 {
		found := "none found"
		if len(seen) > 0 {
			found = "found " + strings.Join(seen, ", ")
		}
		return "", fmt.Errorf("no pg_dump/pg_restore of PostgreSQL %d or newer on this machine (%s); install the client of the server's major, e.g. `apt-get install postgresql-client-%d` (PGDG repository)", major, found, major)
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].major < cands[j].major })
	return cands[0].dir, nil
}

// Querier is what Counts needs: a connection or a transaction.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Table is one counted table.
type Table struct {
	// Name is the table's name: bare for the public schema, schema.table for
	// any other.
	Name string
	// Rows is its exact row count (count(*)).
	Rows int64
}

// Counts returns the exact row count of every ordinary table outside the
// system schemas, named schema.table (public. left out), sorted by name.
// Cal.com keeps its tables in public, each Prisma model its own table
// ("Booking", users, _prisma_migrations; calcom-facts.md §2).
func Counts(ctx context.Context, q Querier) ([]Table, error) {
	rows, err := q.Query(ctx, `SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r','p') AND NOT c.relispartition AND n.nspname NOT IN ('pg_catalog','information_schema') AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
		ORDER BY 1, 2`)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	type st struct{ schema, name string }
	var list []st
	for rows.Next() {
		var s st
		if err := rows.Scan(&s.schema, &s.name); err != nil {
			rows.Close()
			return nil, err
		}
		list = append(list, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]Table, 0, len(list))
	for _, s := range list {
		var n int64
		if err := q.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{s.schema, s.name}.Sanitize()).Scan(&n); err != nil {
			return nil, fmt.Errorf("count %s.%s: %w", s.schema, s.name, err)
		}
		name := s.name
		if s.schema != "public" {
			name = s.schema + "." + s.name
		}
		out = append(out, Table{Name: name, Rows: n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// ServerVersion returns SHOW server_version and the major.
func ServerVersion(ctx context.Context, q Querier) (string, int, error) {
	var v string
	var num int
	if err := q.QueryRow(ctx, "SELECT current_setting('server_version'), current_setting('server_version_num')::int").Scan(&v, &num); err != nil {
		return "", 0, err
	}
	return v, num / 10000, nil
}
