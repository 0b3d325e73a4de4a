package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/calctl/calctl/internal/shutdown"
	"github.com/calctl/calctl/internal/testenv"
)

// fifoBound is how long a command may take to refuse a FIFO or to stop
// after a signal in these tests: generous, so a loaded machine stays
// honest; the failure they guard against is a hang of minutes (issue 11
// item 6 measured 611 s until SIGKILL).
const fifoBound = 5 * time.Second

var (
	fifoBinOnce sync.Once
	fifoBin     string
)

// fifoBinary builds the real calctl binary once per test run.
func fifoBinary(t *testing.T) string {
	t.Helper()
	fifoBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "calctl-fifo-bin")
		if err != nil {
			t.Fatal(err)
		}
		fifoBin = testenv.BuildStaticBinary(t, "../../cmd/calctl", dir, "calctl")
	})
	if fifoBin == "" {
		t.Fatal("calctl did not build")
	}
	return fifoBin
}

// runBinary runs the real calctl binary in dir, killing it after 60 s so a
// regression fails the test instead of hanging it.
func runBinary(t *testing.T, dir string, args ...string) (code int, stdout, stderr string, took time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, fifoBinary(t), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+dir, "NO_COLOR=1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	took = time.Since(start)
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatalf("calctl %v: %v", args, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("calctl %v hung: killed after %v\nstderr: %s", args, took, errb.String())
	}
	return code, out.String(), errb.String(), took
}

func mkfifo(t *testing.T, path string) {
	t.Helper()
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		testenv.Unavailable(t, "a file system with FIFOs", err)
	}
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestFIFONeverHangs (issue 11 item 6): a FIFO where calctl expects a file
// of the install or of the user — .env, the compose file, a file the
// compose file makes Compose read (env_file, extends), the pm2 ecosystem
// file, waivers, answers, the cron and agent configs — is refused at once
// with a line naming it, on the built binary, for check, doctor, bundle,
// render, cron, agent and report. Before, check/doctor/bundle with a FIFO
// ecosystem file, env_file or extends file blocked forever, ignoring SIGINT
// and SIGTERM.
func TestFIFONeverHangs(t *testing.T) {
	const env = "NEXTAUTH_SECRET=Zk9v1cY3q8Yp0mQ2wJx4Rb7Lh5Tn6Ue8Gs2Df4Ah+=\n"
	offline := []string{"--docker=false", "--host=false"}
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, dir string)
		args  []string
		code  int    // -1: any non-zero
		say   string // in stdout+stderr
	}{
		{"check .env", func(t *testing.T, d string) { mkfifo(t, filepath.Join(d, "inst/.env")) },
			append([]string{"check", "--dir", "inst"}, offline...), ExitIncomplete, "inst/.env is not a regular file (a FIFO)"},
		{"check compose file", func(t *testing.T, d string) {
			writeFile(t, filepath.Join(d, "inst/.env"), env)
			mkfifo(t, filepath.Join(d, "inst/docker-compose.yml"))
		}, append([]string{"check", "--dir", "inst"}, offline...), ExitIncomplete, "docker-compose.yml is not a regular file (a FIFO)"},
		{"check compose env_file", func(t *testing.T, d string) {
			writeFile(t, filepath.Join(d, "inst/.env"), env)
			writeFile(t, filepath.Join(d, "inst/docker-compose.yml"), "services:\n  web:\n    image: calcom/cal.com:v5.0.0\n    env_file: [./web.env]\n")
			mkfifo(t, filepath.Join(d, "inst/web.env"))
		}, append([]string{"check", "--dir", "inst"}, offline...), ExitIncomplete, "web.env is not a regular file (a FIFO)"},
		{"check compose extends file", func(t *testing.T, d string) {
			writeFile(t, filepath.Join(d, "inst/.env"), env)
			writeFile(t, filepath.Join(d, "inst/docker-compose.yml"), "x-base: &b\n  extends: {file: base.yml, service: b}\nservices:\n  web:\n    <<: *b\n    image: calcom/cal.com:v5.0.0\n")
			mkfifo(t, filepath.Join(d, "inst/base.yml"))
		}, append([]string{"check", "--dir", "inst"}, offline...), ExitIncomplete, "base.yml is not a regular file (a FIFO)"},
		{"check pm2 ecosystem file", func(t *testing.T, d string) {
			writeFile(t, filepath.Join(d, "inst/.env"), env)
			mkfifo(t, filepath.Join(d, "inst/ecosystem.config.js"))
		}, append([]string{"check", "--dir", "inst"}, offline...), ExitIncomplete, "ecosystem.config.js is not a regular file (a FIFO)"},
		{"check waivers", func(t *testing.T, d string) {
			writeFile(t, filepath.Join(d, "inst/.env"), env)
			mkfifo(t, filepath.Join(d, "waivers.yaml"))
		}, append([]string{"check", "--dir", "inst", "--waivers", "waivers.yaml"}, offline...), -1, "is not a regular file (a FIFO)"},
		{"doctor .env", func(t *testing.T, d string) { mkfifo(t, filepath.Join(d, "inst/.env")) },
			append([]string{"doctor", "--dir", "inst", "--state-dir", "state"}, offline...), ExitOK, "inst/.env is not a regular file (a FIFO)"},
		{"doctor pm2 ecosystem file", func(t *testing.T, d string) {
			writeFile(t, filepath.Join(d, "inst/.env"), env)
			mkfifo(t, filepath.Join(d, "inst/ecosystem.config.js"))
		}, append([]string{"doctor", "--dir", "inst", "--state-dir", "state"}, offline...), ExitOK, "ecosystem.config.js is not a regular file (a FIFO)"},
		// bundle fails closed: the file is left out, the manifest says why.
		{"bundle .env", func(t *testing.T, d string) { mkfifo(t, filepath.Join(d, "inst/.env")) },
			append([]string{"bundle", "--dir", "inst", "--out", "b.tar.gz", "--state-dir", "state"}, offline...), ExitOK, "left out"},
		{"bundle pm2 ecosystem file", func(t *testing.T, d string) {
			writeFile(t, filepath.Join(d, "inst/.env"), env)
			mkfifo(t, filepath.Join(d, "inst/ecosystem.config.js"))
		}, append([]string{"bundle", "--dir", "inst", "--out", "b.tar.gz", "--state-dir", "state"}, offline...), ExitOK, "left out"},
		{"render .env", func(t *testing.T, d string) {
			writeFile(t, filepath.Join(d, "answers.yaml"), "install_dir: "+filepath.Join(d, "inst")+"\ntarget: compose\npublic_url: http://localhost:3000\n")
			mkfifo(t, filepath.Join(d, "inst/.env"))
		}, []string{"render", "--answers", "answers.yaml"}, ExitFailure, "inst/.env is not a regular file (a FIFO)"},
		{"render answers", func(t *testing.T, d string) { mkfifo(t, filepath.Join(d, "answers.yaml")) },
			[]string{"render", "--answers", "answers.yaml"}, ExitUsage, "is not a regular file (a FIFO)"},
		{"cron config", func(t *testing.T, d string) { mkfifo(t, filepath.Join(d, "cron.yaml")) },
			[]string{"cron", "--config", "cron.yaml"}, ExitFailure, "is not a regular file (a FIFO)"},
		{"agent config", func(t *testing.T, d string) { mkfifo(t, filepath.Join(d, "agent.yaml")) },
			[]string{"agent", "--config", "agent.yaml"}, ExitFailure, "is not a regular file (a FIFO)"},
		{"report config", func(t *testing.T, d string) { mkfifo(t, filepath.Join(d, "agent.yaml")) },
			[]string{"report", "--config", "agent.yaml"}, ExitFailure, "is not a regular file (a FIFO)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.setup(t, dir)
			code, stdout, stderr, took := runBinary(t, dir, tc.args...)
			if took > fifoBound {
				t.Errorf("took %v (bound %v)", took, fifoBound)
			}
			if tc.code == -1 && code == 0 || tc.code != -1 && code != tc.code {
				t.Errorf("exit %d, want %d\nstderr: %s", code, tc.code, stderr)
			}
			if !strings.Contains(stdout+stderr, tc.say) {
				t.Errorf("output does not say %q:\nstdout: %s\nstderr: %s", tc.say, stdout, stderr)
			}
		})
	}
}

// TestSignalStopsCheck: SIGINT or SIGTERM while check waits on a database
// that accepts and never answers ends the built binary promptly with
// ExitInterrupted and "interrupted" — not with findings judged from facts
// cut short.
func TestSignalStopsCheck(t *testing.T) {
	addr, accepted := silentServer(t)
	bin := fifoBinary(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, ".env"), "NEXTAUTH_SECRET=x\n")
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, "check", "--dir", dir, "--docker=false", "--host=false", "--timeout", "5m",
				"--database-url", "postgresql://u:hunter2@"+addr+"/db?sslmode=disable")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			select { // the collector is connecting: send the signal
			case c := <-accepted:
				defer c.Close()
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("calctl never connected; stderr %s", stderr.String())
			}
			sent := time.Now()
			cmd.Process.Signal(sig)
			err := cmd.Wait()
			took := time.Since(sent)
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != ExitInterrupted {
				t.Errorf("exit %v, want %d; stderr %s", err, ExitInterrupted, stderr.String())
			}
			if took > fifoBound {
				t.Errorf("stopped %v after %s (bound %v)", took, sig, fifoBound)
			}
			if !strings.Contains(stderr.String(), "interrupted") || strings.Contains(stderr.String(), "hunter2") {
				t.Errorf("stderr: %s", stderr.String())
			}
		})
	}
}

// TestExitAfterGrace: the backstop exits with ExitInterrupted once the
// grace after the signal is over, not before, not when Main returned in
// time, and only after a held critical section ends.
func TestExitAfterGrace(t *testing.T) {
	exited := make(chan int, 1)
	exit := func(c int) { exited <- c }
	ctx, cancel := context.WithCancel(context.Background())
	var stderr bytes.Buffer
	disarm := exitAfterGrace(ctx, &stderr, 50*time.Millisecond, exit)
	cancel()
	select {
	case c := <-exited:
		if c != ExitInterrupted {
			t.Errorf("exit %d", c)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no exit after the grace")
	}
	disarm()
	if !strings.Contains(stderr.String(), "interrupted") {
		t.Errorf("stderr %q", stderr.String())
	}

	ctx, cancel = context.WithCancel(context.Background())
	disarm = exitAfterGrace(ctx, &stderr, 50*time.Millisecond, exit)
	disarm() // Main returned
	cancel()
	select {
	case c := <-exited:
		t.Errorf("exited %d after Main returned", c)
	case <-time.After(200 * time.Millisecond):
	}

	release := shutdown.Hold() // a work-tree move that must finish
	ctx, cancel = context.WithCancel(context.Background())
	defer exitAfterGrace(ctx, &stderr, 50*time.Millisecond, exit)()
	cancel()
	select {
	case c := <-exited:
		t.Errorf("exited %d during a critical section", c)
	case <-time.After(300 * time.Millisecond):
	}
	release()
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Fatal("no exit after the critical section ended")
	}
}
