package cli

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/calctl/calctl/installer"
	"github.com/calctl/calctl/installer/contract"
	"github.com/calctl/calctl/internal/secret"
)

// TestCtrlCDuringMigrateConnectExits130: a Ctrl+C (the cancelled context
// main gets from signal.NotifyContext) while the migrate step waits for the
// database to answer ends calctl with 130, and the error keeps the
// password out. The database is a real TCP server that accepts and never
// answers, the way a stalled Postgres or a black-holed route behaves.
func TestCtrlCDuringMigrateConnectExits130(t *testing.T) {
	addr, accepted := silentServer(t)
	const password = "hunter22-migrate"
	a := &contract.Answers{InstallDir: t.TempDir(), Target: contract.TargetPM2, PublicURL: "http://localhost:3000",
		Database: contract.Database{Mode: contract.DBExternal, URLEnv: "DATABASE_URL"}}
	a.ApplyDefaults()
	env := contract.EnvSecrets{DatabaseURL: secret.Secret("postgresql://calcom:" + password + "@" + addr + "/calendso?sslmode=disable")}
	var plan []installer.Step
	for _, s := range installer.InstallPlan(a) {
		if s.Name() == contract.StepMigrate {
			plan = append(plan, s)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	held := make(chan net.Conn, 1)
	defer func() {
		select {
		case c := <-held:
			c.Close()
		default:
		}
	}()
	go func() {
		c := <-accepted // the step is connecting: press Ctrl+C
		// keep the connection open until the test ends: closing it right
		// after cancel() raced the step, which then saw EOF, not the cancel
		held <- c
		cancel()
	}()
	var events bytes.Buffer
	e := &installer.Engine{Sink: contract.TextView(&events)}
	err := runEngine(ctx, e, plan, &installer.State{Answers: a, Env: env, Getenv: func(string) string { return "" }})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("the step's error lost context.Canceled: %v", err)
	}
	var stderr bytes.Buffer
	code := exitCode(ctx, &Factory{IO: IO{Err: &stderr}}, err)
	if code != ExitInterrupted {
		t.Errorf("exit code %d, want %d (stderr %q)", code, ExitInterrupted, stderr.String())
	}
	if out := events.String() + stderr.String() + err.Error(); strings.Contains(out, password) {
		t.Errorf("the password leaked:\n%s", out)
	}
}

// silentServer is a real TCP server on loopback that accepts connections
// and never answers, the way a stalled Postgres or a black-holed route
// behaves. Each accepted connection is handed over on the channel, held
// open; the listener and any connection not taken are closed when the test
// ends.
func silentServer(t *testing.T) (addr string, accepted <-chan net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			ch <- c // hold it open, say nothing
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		for {
			select {
			case c := <-ch:
				c.Close()
			default:
				return
			}
		}
	})
	return ln.Addr().String(), ch
}
