// Command pgentry is the entrypoint of the end-to-end test's bundled
// database image, which is assembled FROM scratch from the machine's
// PostgreSQL 15 files (no registry is reachable). It does what the official
// postgres image's entrypoint does for calctl's compose file: on first start
// initdb with POSTGRES_USER / POSTGRES_PASSWORD, create POSTGRES_DB, allow
// password logins from the compose network; then exec postgres as uid 999.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

const (
	bin = "/usr/lib/postgresql/15/bin"
	uid = 999
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "pgentry:", err)
		os.Exit(1)
	}
}

func asPostgres(cmd *exec.Cmd) *exec.Cmd {
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid}}
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), "TZ=UTC", "LANG=C")
	return cmd
}

func run() error {
	data := os.Getenv("PGDATA")
	if data == "" {
		data = "/var/lib/postgresql/data"
	}
	user, pass, db := os.Getenv("POSTGRES_USER"), os.Getenv("POSTGRES_PASSWORD"), os.Getenv("POSTGRES_DB")
	if user == "" || pass == "" {
		return fmt.Errorf("POSTGRES_USER and POSTGRES_PASSWORD must be set")
	}
	for _, d := range []string{data, "/var/run/postgresql", "/tmp"} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		if err := os.Chown(d, uid, uid); err != nil {
			return err
		}
	}
	os.Chmod(data, 0o700)
	os.Chmod("/tmp", 0o1777)
	if _, err := os.Stat(filepath.Join(data, "PG_VERSION")); err != nil {
		pw := "/tmp/pwfile"
		if err := os.WriteFile(pw, []byte(pass+"\n"), 0o600); err != nil {
			return err
		}
		os.Chown(pw, uid, uid)
		if err := asPostgres(exec.Command(bin+"/initdb", "-D", data, "-U", user, "--pwfile="+pw,
			"--auth-local=trust", "--auth-host=scram-sha-256", "--encoding=UTF8", "--locale=C")).Run(); err != nil {
			return fmt.Errorf("initdb: %w", err)
		}
		os.Remove(pw)
		hba, err := os.OpenFile(filepath.Join(data, "pg_hba.conf"), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		fmt.Fprintln(hba, "host all all 0.0.0.0/0 scram-sha-256")
		hba.Close()
		if db != "" && db != "postgres" {
			single := asPostgres(exec.Command(bin+"/postgres", "--single", "-D", data, "postgres"))
			single.Stdin = strings.NewReader(fmt.Sprintf("CREATE DATABASE %q OWNER %q;\n", db, user))
			if err := single.Run(); err != nil {
				return fmt.Errorf("create database: %w", err)
			}
		}
	}
	if err := syscall.Setgroups([]int{uid}); err != nil {
		return err
	}
	if err := syscall.Setgid(uid); err != nil {
		return err
	}
	if err := syscall.Setuid(uid); err != nil {
		return err
	}
	return syscall.Exec(bin+"/postgres", []string{"postgres", "-D", data, "-c", "listen_addresses=*"}, append(os.Environ(), "TZ=UTC", "LANG=C"))
}
