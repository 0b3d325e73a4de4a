// Package scratchdb starts a throwaway PostgreSQL for `calctl backup
// verify` to restore a dump into, and removes it afterwards: a container of
// the bundled database's own image (the same major and extensions as
// production), or a local cluster from this machine's binaries (initdb and
// pg_ctl into a temporary directory, run as the postgres user when calctl
// runs as root, since initdb refuses root).
package scratchdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/jackc/pgx/v5"

	"github.com/calctl/calctl/backup/pgtool"
)

// DB is a running scratch database.
type DB struct {
	// Runner runs pg_restore where it can reach the server.
	Runner pgtool.Runner
	// Tools are the connection settings the tools use (inside the
	// container: 127.0.0.1).
	Tools pgtool.Params
	// Conn are the settings calctl itself connects with.
	Conn pgtool.Params
	// Where describes it, for messages.
	Where string

	close func()
}

// Connect opens a connection to the scratch database.
func (d *DB) Connect(ctx context.Context) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig("")
	if err != nil {
		return nil, err
	}
	cfg.Host, cfg.Port, cfg.User, cfg.Password, cfg.Database = d.Conn.Host, d.Conn.Port, d.Conn.User, d.Conn.Password, d.Conn.Database
	cfg.TLSConfig = nil
	cfg.Fallbacks = nil
	cfg.ConnectTimeout = 10 * time.Second
	return pgx.ConnectConfig(ctx, cfg)
}

// Close stops and removes the scratch database and its data.
func (d *DB) Close() {
	if d.close != nil {
		d.close()
		d.close = nil
	}
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Label marks scratch containers, so that a crashed verify's leftovers can
// be found (docker ps -a --filter label=calctl.scratch).
const Label = "calctl.scratch"

// StartContainer runs image as a scratch database (the official postgres
// image's POSTGRES_USER/POSTGRES_PASSWORD/POSTGRES_DB entrypoint contract,
// https://hub.docker.com/_/postgres), publishing no port; calctl reaches it
// on the bridge network's address.
func StartContainer(ctx context.Context, cli *client.Client, image string) (*DB, error) {
	name := "calctl-scratch-" + randHex(4)
	pass := randHex(16)
	const user, db = "calctl_verify", "calctl_verify"
	cfg := &container.Config{Image: image, Env: []string{"POSTGRES_USER=" + user, "POSTGRES_PASSWORD=" + pass, "POSTGRES_DB=" + db},
		Labels: map[string]string{Label: "verify"}}
	host := &container.HostConfig{AutoRemove: false, Tmpfs: nil}
	created, err := cli.ContainerCreate(ctx, cfg, host, nil, nil, name)
	if err != nil {
		return nil, fmt.Errorf("scratch database from %s: %w", image, err)
	}
	remove := func() {
		c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		_ = cli.ContainerRemove(c, created.ID, container.RemoveOptions{Force: true, RemoveVolumes: true})
	}
	if err := cli.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		remove()
		return nil, fmt.Errorf("scratch database from %s: %w", image, err)
	}
	d := &DB{Runner: pgtool.Exec{Docker: cli, Container: created.ID, Name: name},
		Tools: pgtool.Params{Host: "127.0.0.1", Port: 5432, User: user, Password: pass, Database: db, SSLMode: "disable"},
		Where: "container " + name + " (" + image + ")", close: remove}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		insp, err := cli.ContainerInspect(ctx, created.ID)
		if err != nil {
			d.Close()
			return nil, err
		}
		if insp.State == nil || !insp.State.Running {
			d.Close()
			return nil, fmt.Errorf("scratch database %s exited (%s)", name, insp.State.Status)
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
		if ip != "" {
			d.Conn = d.Tools
			d.Conn.Host = ip
			c, cancel := context.WithTimeout(ctx, 5*time.Second)
			conn, err := d.Connect(c)
			cancel()
			if err == nil {
				conn.Close(ctx)
				return d, nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			d.Close()
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("scratch database %s did not accept connections within 3 minutes", name)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// StartLocal initialises and starts a local cluster from the binaries in
// binDir (initdb, pg_ctl, postgres) on a free port of 127.0.0.1.
func StartLocal(ctx context.Context, binDir string) (*DB, error) {
	for _, b := range []string{"initdb", "pg_ctl", "postgres"} {
		if _, err := os.Stat(filepath.Join(binDir, b)); err != nil {
			return nil, fmt.Errorf("no %s in %s for a scratch cluster: install the PostgreSQL server package of that major, or verify on a host with Docker", b, binDir)
		}
	}
	dir, err := os.MkdirTemp("", "calctl-scratch-")
	if err != nil {
		return nil, err
	}
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return nil, errors.New("running as root and there is no 'postgres' user to run a scratch cluster as (initdb refuses root)")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	runCtx := func(ctx context.Context, tool string, args ...string) error {
		cmd := exec.CommandContext(ctx, filepath.Join(binDir, tool), args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "LC_ALL=C")
		if cred != nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: %v: %s", tool, err, strings.TrimSpace(string(out)))
		}
		return nil
	}
	run := func(tool string, args ...string) error { return runCtx(ctx, tool, args...) }
	data := filepath.Join(dir, "data")
	if err := run("initdb", "-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -c port=%d -c unix_socket_directories=%s -c fsync=off -c full_page_writes=off", port, dir)
	if err := run("pg_ctl", "-D", data, "-l", filepath.Join(dir, "log"), "-o", opts, "-w", "-t", "120", "start"); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	stop := func() {
		_ = runCtx(context.Background(), "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
		_ = os.RemoveAll(dir)
	}
	p := pgtool.Params{Host: "127.0.0.1", Port: uint16(port), User: "postgres", Database: "postgres", SSLMode: "disable"}
	d := &DB{Runner: pgtool.Local{BinDir: binDir}, Tools: p, Conn: p, Where: "a local cluster (" + binDir + ")", close: stop}
	conn, err := d.Connect(ctx)
	if err != nil {
		d.Close()
		return nil, err
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE calctl_verify")
	conn.Close(ctx)
	if err != nil {
		d.Close()
		return nil, err
	}
	d.Tools.Database, d.Conn.Database = "calctl_verify", "calctl_verify"
	return d, nil
}
