package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresOptions configures a throwaway cluster.
type PostgresOptions struct {
	// Conf lines are appended to postgresql.conf (e.g. "ssl = on").
	Conf []string
	// HBA, when set, replaces pg_hba.conf entirely.
	HBA []string
	// Files are written into the data directory before start, owned by the
	// server user with mode 0600 (e.g. "server.crt", "server.key").
	Files map[string][]byte
	// AuthMethod is initdb's --auth (default "trust").
	AuthMethod string
	// SuperPassword sets the "postgres" role's password when not empty.
	SuperPassword string
}

// Postgres is a running throwaway PostgreSQL cluster on 127.0.0.1.
type Postgres struct {
	// Host is always 127.0.0.1.
	Host string
	// Port is the TCP port the server listens on.
	Port int
	// DataDir is the cluster's data directory.
	DataDir string
	// SuperUser is the bootstrap superuser ("postgres").
	SuperUser string
	// SuperPassword is the superuser's password, if one was set.
	SuperPassword string

	bin  string
	cred *syscall.Credential
	dir  string
}

// PostgresBinDir finds the directory holding initdb, pg_ctl and postgres.
func PostgresBinDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(matches) > 0 {
		return filepath.Dir(matches[len(matches)-1]), nil
	}
	return "", errors.New("initdb not found in PATH or /usr/lib/postgresql/*/bin (install postgresql-15)")
}

// StartPostgres initialises and starts a cluster for the duration of t.
// As root it runs the server as the "postgres" user, since initdb refuses root.
func StartPostgres(t testing.TB, opts PostgresOptions) *Postgres {
	t.Helper()
	bin, err := PostgresBinDir()
	if err != nil {
		Unavailable(t, "PostgreSQL", err)
	}
	p := &Postgres{Host: "127.0.0.1", SuperUser: "postgres", SuperPassword: opts.SuperPassword, bin: bin}
	// A short path: the unix socket lives in it and socket paths are limited to ~107 bytes.
	p.dir, err = os.MkdirTemp("", "calctl-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(p.dir) })
	uid, gid := os.Getuid(), os.Getgid()
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			Unavailable(t, "PostgreSQL (no 'postgres' user to run it as root)", err)
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
		p.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	if err := os.Chown(p.dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	p.DataDir = filepath.Join(p.dir, "data")
	args := []string{"-D", p.DataDir, "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C"}
	auth := opts.AuthMethod
	if auth == "" {
		auth = "trust"
	}
	args = append(args, "--auth="+auth)
	if opts.SuperPassword != "" {
		pwfile := filepath.Join(p.dir, "pw")
		if err := os.WriteFile(pwfile, []byte(opts.SuperPassword+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_ = os.Chown(pwfile, uid, gid)
		args = append(args, "--pwfile="+pwfile)
	}
	if out, err := p.run("initdb", args...); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	for name, data := range opts.Files {
		f := filepath.Join(p.DataDir, name)
		if err := os.WriteFile(f, data, 0o600); err != nil {
			t.Fatal(err)
		}
		_ = os.Chown(f, uid, gid)
	}
	if opts.HBA != nil {
		hba := filepath.Join(p.DataDir, "pg_hba.conf")
		if err := os.WriteFile(hba, []byte(strings.Join(opts.HBA, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_ = os.Chown(hba, uid, gid)
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		p.Port = freePort(t)
		conf := append([]string{
			"listen_addresses = '127.0.0.1'",
			fmt.Sprintf("port = %d", p.Port),
			fmt.Sprintf("unix_socket_directories = '%s'", p.dir),
			"fsync = off",
			"max_connections = 50",
		}, opts.Conf...)
		if err := os.WriteFile(filepath.Join(p.DataDir, "postgresql.auto.conf"), []byte(strings.Join(conf, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_ = os.Chown(filepath.Join(p.DataDir, "postgresql.auto.conf"), uid, gid)
		out, err := p.run("pg_ctl", "-D", p.DataDir, "-l", filepath.Join(p.dir, "server.log"), "-w", "-t", "60", "start")
		if err == nil {
			lastErr = nil
			break
		}
		log, _ := os.ReadFile(filepath.Join(p.dir, "server.log"))
		lastErr = fmt.Errorf("pg_ctl start: %v\n%s\n%s", err, out, log)
		if !strings.Contains(string(log), "already in use") {
			break
		}
	}
	if lastErr != nil {
		t.Fatal(lastErr)
	}
	t.Cleanup(p.Stop)
	return p
}

func (p *Postgres) run(tool string, args ...string) ([]byte, error) {
	cmd := exec.Command(filepath.Join(p.bin, tool), args...)
	cmd.Dir = p.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if p.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	}
	return cmd.CombinedOutput()
}

// Stop stops the server (fast shutdown). It is safe to call more than once.
func (p *Postgres) Stop() {
	_, _ = p.run("pg_ctl", "-D", p.DataDir, "-m", "fast", "-w", "stop")
}

// Restart restarts the server, e.g. after changing configuration.
func (p *Postgres) Restart(t testing.TB) {
	t.Helper()
	if out, err := p.run("pg_ctl", "-D", p.DataDir, "-l", filepath.Join(p.dir, "server.log"), "-m", "fast", "-w", "restart"); err != nil {
		t.Fatalf("pg_ctl restart: %v\n%s", err, out)
	}
}

// Log returns the server log so far.
func (p *Postgres) Log() string {
	b, _ := os.ReadFile(filepath.Join(p.dir, "server.log"))
	return string(b)
}

// URL returns a postgres:// URL for user (with password) and database on
// this cluster. extra is appended as the query string, e.g. "sslmode=disable".
func (p *Postgres) URL(user, password, database, extra string) string {
	u := "postgres://" + user
	if password != "" {
		u += ":" + password
	}
	u += fmt.Sprintf("@%s:%d/%s", p.Host, p.Port, database)
	if extra == "" {
		extra = "sslmode=disable"
	}
	return u + "?" + extra
}

// SuperURL returns a URL for the superuser on database "postgres".
func (p *Postgres) SuperURL() string {
	return p.URL(p.SuperUser, p.SuperPassword, "postgres", "")
}

// Exec runs SQL statements as the superuser on database db ("" = postgres).
func (p *Postgres) Exec(t testing.TB, db string, sql ...string) {
	t.Helper()
	if db == "" {
		db = "postgres"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, p.URL(p.SuperUser, p.SuperPassword, db, ""))
	if err != nil {
		t.Fatalf("connect to %s: %v", db, err)
	}
	defer conn.Close(ctx)
	for _, s := range sql {
		if _, err := conn.Exec(ctx, s); err != nil {
			t.Fatalf("exec %q: %v", s, err)
		}
	}
}

// CreateDatabase creates database name owned by owner ("" = postgres).
func (p *Postgres) CreateDatabase(t testing.TB, name, owner string) {
	t.Helper()
	stmt := fmt.Sprintf("CREATE DATABASE %s", pgx.Identifier{name}.Sanitize())
	if owner != "" {
		stmt += " OWNER " + pgx.Identifier{owner}.Sanitize()
	}
	p.Exec(t, "", stmt)
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int { t.Helper(); return freePort(t) }
