package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// StartStandby builds a streaming replica of p with pg_basebackup and starts
// it as a hot standby (read-only queries allowed, replaying p's WAL) for the
// duration of t. p must accept replication connections from 127.0.0.1, which
// a cluster started by StartPostgres does (initdb's default pg_hba.conf has
// "host replication all 127.0.0.1/32" lines; wal_level defaults to replica
// in PostgreSQL 15).
func (p *Postgres) StartStandby(t testing.TB) *Postgres {
	t.Helper()
	s := &Postgres{Host: p.Host, SuperUser: p.SuperUser, SuperPassword: p.SuperPassword, bin: p.bin, cred: p.cred}
	var err error
	s.dir, err = os.MkdirTemp("", "calctl-pgstandby-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(s.dir) })
	if s.cred != nil {
		if err := os.Chown(s.dir, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(s.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	s.DataDir = filepath.Join(s.dir, "data")
	// initdb on PATH may be a lone symlink (/usr/local/bin/initdb): take
	// pg_basebackup from the directory it points into.
	bin := s.bin
	if real, err := filepath.EvalSymlinks(filepath.Join(bin, "initdb")); err == nil {
		bin = filepath.Dir(real)
	}
	cmd := exec.Command(filepath.Join(bin, "pg_basebackup"), "-h", p.Host, "-p", fmt.Sprint(p.Port), "-U", p.SuperUser,
		"-D", s.DataDir, "-X", "stream", "-c", "fast", "--no-sync")
	cmd.Dir = s.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C", "PGPASSWORD="+p.SuperPassword)
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pg_basebackup: %v\n%s", err, out)
	}
	conninfo := fmt.Sprintf("host=%s port=%d user=%s application_name=calctl_standby", p.Host, p.Port, p.SuperUser)
	if p.SuperPassword != "" {
		conninfo += " password=" + p.SuperPassword
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		s.Port = freePort(t)
		// postgresql.auto.conf was copied from the primary: replace it so the
		// standby has its own port and socket directory.
		conf := []string{
			"listen_addresses = '127.0.0.1'",
			fmt.Sprintf("port = %d", s.Port),
			fmt.Sprintf("unix_socket_directories = '%s'", s.dir),
			"fsync = off",
			"max_connections = 50",
			"hot_standby = on",
			fmt.Sprintf("primary_conninfo = '%s'", strings.ReplaceAll(conninfo, "'", "''")),
		}
		for name, body := range map[string]string{"postgresql.auto.conf": strings.Join(conf, "\n") + "\n", "standby.signal": ""} {
			f := filepath.Join(s.DataDir, name)
			if err := os.WriteFile(f, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			if s.cred != nil {
				_ = os.Chown(f, int(s.cred.Uid), int(s.cred.Gid))
			}
		}
		out, err := s.run("pg_ctl", "-D", s.DataDir, "-l", filepath.Join(s.dir, "server.log"), "-w", "-t", "120", "start")
		if err == nil {
			lastErr = nil
			break
		}
		log, _ := os.ReadFile(filepath.Join(s.dir, "server.log"))
		lastErr = fmt.Errorf("pg_ctl start (standby): %v\n%s\n%s", err, out, log)
		if !strings.Contains(string(log), "already in use") {
			break
		}
	}
	if lastErr != nil {
		t.Fatal(lastErr)
	}
	t.Cleanup(s.Stop)
	return s
}

// WaitReplay waits until standby s has replayed everything primary p has
// written so far (at most timeout), so that a query on s sees what p has
// committed.
func (s *Postgres) WaitReplay(t testing.TB, p *Postgres, timeout time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	pc, err := pgx.Connect(ctx, p.SuperURL())
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close(context.Background())
	var target string
	if err := pc.QueryRow(ctx, `SELECT pg_current_wal_lsn()::text`).Scan(&target); err != nil {
		t.Fatal(err)
	}
	sc, err := pgx.Connect(ctx, s.SuperURL())
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close(context.Background())
	for {
		var done bool
		err := sc.QueryRow(ctx, `SELECT coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false)`, target).Scan(&done)
		if err != nil {
			t.Fatalf("standby replay position: %v", err)
		}
		if done {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("standby did not replay up to %s within %v", target, timeout)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
