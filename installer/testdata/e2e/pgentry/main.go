// Command pgentry is the entrypoint of the end-to-end test's bundled
// database image, which is assembled FROM scratch from the machine's
// PostgreSQL 15 files (no registry is reachable). It does what the official
// postgres image's entrypoint does for calctl's compose file
// (docker-library/postgres@6edb0a8:16/alpine3.22/docker-entrypoint.sh): on
// first start initdb with POSTGRES_USER / POSTGRES_PASSWORD, create
// POSTGRES_DB, allow password logins from the compose network with
// POSTGRES_HOST_AUTH_METHOD (scram-sha-256 by default), run the scripts of
// /docker-entrypoint-initdb.d against a socket-only temporary server
// (executable ones executed, others run by sh); then exec postgres with the
// command's arguments. Started as root it prepares the directories and
// drops to uid 999 as the image's gosu does; started as the postgres user
// (compose `user: postgres`) it needs no privilege at all.
//
// `pgentry -prepare-image` runs once at image build (as root) and makes the
// directories the official image's Dockerfile makes, owned by postgres, so a
// new named volume on PGDATA is postgres-owned as it is there.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

const (
	bin     = "/usr/lib/postgresql/15/bin"
	uid     = 999
	sockDir = "/var/run/postgresql"
	initDir = "/docker-entrypoint-initdb.d"
)

func main() {
	var err error
	switch {
	case len(os.Args) > 1 && os.Args[1] == "-prepare-image":
		err = prepareImage()
	case len(os.Args) > 1 && os.Args[1] != "postgres" && !strings.HasPrefix(os.Args[1], "-"):
		// any other command runs as it is, as the official entrypoint's
		// `exec "$@"` does (calctl's compose command is `sh -c …`, which
		// then execs this entrypoint by its name, docker-entrypoint.sh,
		// with `postgres -c …`)
		err = execCommand(os.Args[1:])
	default:
		err = run()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgentry:", err)
		os.Exit(1)
	}
}

// execCommand execs argv, looked up on PATH.
func execCommand(argv []string) error {
	p, err := exec.LookPath(argv[0])
	if err != nil {
		return err
	}
	return syscall.Exec(p, argv, os.Environ())
}

func prepareImage() error {
	for _, d := range []struct {
		path  string
		mode  os.FileMode
		owner int
	}{
		// the official Dockerfile's modes: PGDATA 1777 (0700 at run time),
		// the socket directory 3777, /tmp 1777 (Go spells the sticky and
		// setgid bits os.ModeSticky and os.ModeSetgid, not 01000 and 02000)
		{"/var/lib/postgresql/data", 0o777 | os.ModeSticky, uid},
		{sockDir, 0o777 | os.ModeSetgid | os.ModeSticky, uid},
		{"/tmp", 0o777 | os.ModeSticky, 0},
		{initDir, 0o755, 0},
	} {
		if err := os.MkdirAll(d.path, 0o755); err != nil {
			return err
		}
		if err := os.Chown(d.path, d.owner, d.owner); err != nil {
			return err
		}
		if err := os.Chmod(d.path, d.mode); err != nil {
			return err
		}
	}
	return nil
}

var root = os.Getuid() == 0

func asPostgres(cmd *exec.Cmd) *exec.Cmd {
	if root {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid}}
	}
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), "TZ=UTC", "LANG=C")
	return cmd
}

// serverArgs are the command's arguments after "postgres" (compose
// `command: [postgres, -c, ...]`, or a leading "-" as the official
// entrypoint's `set -- postgres "$@"`), given to both servers as the
// official entrypoint does.
func serverArgs() []string {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "postgres" {
		args = args[1:]
	}
	return args
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
	auth := os.Getenv("POSTGRES_HOST_AUTH_METHOD")
	if auth == "" {
		auth = "scram-sha-256"
	}
	for _, d := range []string{data, sockDir, "/tmp"} {
		if err := os.MkdirAll(d, 0o755); err != nil && root {
			return err
		}
		if root {
			if err := os.Chown(d, uid, uid); err != nil {
				return err
			}
		}
	}
	os.Chmod(data, 0o700)
	if root {
		os.Chmod("/tmp", 0o777|os.ModeSticky)
	}
	if _, err := os.Stat(filepath.Join(data, "PG_VERSION")); err != nil {
		pw := filepath.Join(os.TempDir(), "pgentry-pwfile")
		if err := os.WriteFile(pw, []byte(pass+"\n"), 0o600); err != nil {
			return err
		}
		if root {
			os.Chown(pw, uid, uid)
		}
		if err := asPostgres(exec.Command(bin+"/initdb", "-D", data, "-U", user, "--pwfile="+pw,
			"--auth-local=trust", "--auth-host="+auth, "--encoding=UTF8", "--locale=C")).Run(); err != nil {
			return fmt.Errorf("initdb: %w", err)
		}
		os.Remove(pw)
		hba, err := os.OpenFile(filepath.Join(data, "pg_hba.conf"), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		fmt.Fprintf(hba, "host all all all %s\n", auth)
		hba.Close()
		if db != "" && db != "postgres" {
			single := asPostgres(exec.Command(bin+"/postgres", "--single", "-D", data, "postgres"))
			single.Stdin = strings.NewReader(fmt.Sprintf("CREATE DATABASE %q OWNER %q;\n", db, user))
			if err := single.Run(); err != nil {
				return fmt.Errorf("create database: %w", err)
			}
		}
		if err := initScripts(data); err != nil {
			return err
		}
	}
	if root {
		if err := syscall.Setgroups([]int{uid}); err != nil {
			return err
		}
		if err := syscall.Setgid(uid); err != nil {
			return err
		}
		if err := syscall.Setuid(uid); err != nil {
			return err
		}
	}
	argv := append([]string{"postgres", "-D", data, "-c", "listen_addresses=*"}, serverArgs()...)
	return syscall.Exec(bin+"/postgres", argv, append(os.Environ(), "TZ=UTC", "LANG=C"))
}

// initScripts runs /docker-entrypoint-initdb.d/*.sh against a temporary
// server that listens on the socket only (docker_temp_server_start,
// docker_process_init_files).
func initScripts(data string) error {
	scripts, _ := filepath.Glob(filepath.Join(initDir, "*.sh"))
	if len(scripts) == 0 {
		return nil
	}
	sort.Strings(scripts)
	args := append([]string{"-D", data, "-c", "listen_addresses=", "-k", sockDir}, serverArgs()...)
	srv := asPostgres(exec.Command(bin+"/postgres", args...))
	if err := srv.Start(); err != nil {
		return fmt.Errorf("temporary server: %w", err)
	}
	defer func() {
		srv.Process.Signal(syscall.SIGINT)
		srv.Wait()
	}()
	ready := false
	for i := 0; i < 100 && !ready; i++ {
		ready = exec.Command(bin+"/pg_isready", "-q", "-h", sockDir).Run() == nil
		if !ready {
			time.Sleep(200 * time.Millisecond)
		}
	}
	if !ready {
		return fmt.Errorf("temporary server did not start")
	}
	for _, s := range scripts {
		fmt.Printf("pgentry: running %s\n", s)
		cmd := exec.Command("/bin/sh", s)
		if st, err := os.Stat(s); err == nil && st.Mode()&0o111 != 0 {
			cmd = exec.Command(s)
		}
		cmd = asPostgres(cmd)
		cmd.Env = append(cmd.Env, "PGHOST="+sockDir, "PGPASSWORD="+os.Getenv("POSTGRES_PASSWORD"))
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}
