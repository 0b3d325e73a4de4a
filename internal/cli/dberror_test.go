package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/calctl/calctl/internal/database"
	"github.com/calctl/calctl/internal/testenv"
)

// TestDatabaseErrorsExplained: every command that reports a failed
// database connection says it in database.Explain's one line (what failed,
// what to do), the same line whichever command, and exits non-zero: check
// (its PG checks are ERROR, exit 4), doctor (exit 4), report (exit 1),
// backup and restore (exit 1); the agent logs it as "counting failed" and
// keeps going. Against a real Postgres: a wrong password, a database that
// does not exist, a closed port, a server that takes the role only over
// TLS while the URL refuses TLS. No password, no raw driver text.
func TestDatabaseErrorsExplained(t *testing.T) {
	db := testenv.StartDatabaseFailures(t)
	base := t.TempDir()
	const pass = "CALCTL_TEST_PASSPHRASE"
	env := map[string]string{pass: "correct horse battery staple"}
	install := func(name, url string) string {
		dir := filepath.Join(base, name)
		writeInstall(t, dir, map[string]string{"DATABASE_URL": url, "NEXTAUTH_SECRET": "nextauth-secret-0123456789abcdef",
			"CALENDSO_ENCRYPTION_KEY": "0123456789abcdef0123456789abcdef", "NEXT_PUBLIC_WEBAPP_URL": "https://cal.example.com"})
		return dir
	}
	// a backup of a database that works, to restore into the broken ones
	good := install("good", db.Good)
	code, stdout, stderr := runCLI(t, env, "backup", "--dir", good, "--out", filepath.Join(base, "backups"), "--passphrase-env", pass)
	if code != 0 {
		t.Fatalf("backup of the good install: exit %d\n%s", code, stderr)
	}
	backupFile := strings.TrimSpace(stdout)

	for _, fd := range db.Failing {
		t.Run(fd.Slug, func(t *testing.T) {
			_, err := database.Connect(context.Background(), fd.URL, database.Options{})
			var ex *database.Explained
			if err == nil || !errors.As(err, &ex) {
				t.Fatalf("Connect: %v; want an explained failure", err)
			}
			want := ex.Error()
			dir := install(fd.Slug, fd.URL)
			paths := []struct {
				name string
				args []string
				code int
			}{
				{"check", []string{"check", "--dir", dir, "--only", "PG-001", "--docker=false", "--host=false", "--timeout", "20s"}, ExitIncomplete},
				{"doctor", []string{"doctor", "--dir", dir, "--docker=false", "--host=false", "--timeout", "20s"}, ExitIncomplete},
				{"report", []string{"report", "--dry-run", "--database-url", fd.URL}, ExitFailure},
				{"backup", []string{"backup", "--dir", dir, "--passphrase-env", pass}, ExitFailure},
				{"restore", []string{"restore", backupFile, "--dir", dir, "--passphrase-env", pass, "--yes"}, ExitFailure},
			}
			for _, p := range paths {
				t.Run(p.name, func(t *testing.T) {
					code, stdout, stderr := runCLI(t, env, p.args...)
					if code != p.code {
						t.Errorf("exit %d, want %d\n%s", code, p.code, stderr)
					}
					assertExplained(t, stdout+stderr, want, db)
					// check says it on its collector line, then sums up; the
					// others end with it
					line := lastLine(stderr)
					if p.name == "check" {
						line = lineWith(stderr, "calctl: postgres collector failed: ")
					}
					if !strings.Contains(line, want) {
						t.Errorf("stderr does not say it on its own line (%q):\n%s\nwant it to hold %q", line, stderr, want)
					}
				})
			}
			t.Run("agent", func(t *testing.T) {
				out := agentCountFailure(t, fd.URL)
				if !strings.Contains(out, "counting failed") {
					t.Errorf("no 'counting failed' log line:\n%s", out)
				}
				assertExplained(t, out, "error="+strconv.Quote(want), db) // slog's text form
			})
		})
	}
}

// assertExplained fails unless out holds want on one line, no password of
// db and none of the driver's raw text.
func assertExplained(t *testing.T, out, want string, db *testenv.DatabaseFailures) {
	t.Helper()
	if !strings.Contains(out, want) {
		t.Errorf("output does not hold the explained line %q:\n%s", want, out)
	}
	for _, s := range []string{db.Password, db.WrongPassword, db.SuperPassword, "failed to connect to", "server error ("} {
		if strings.Contains(out, s) {
			t.Errorf("output holds %q:\n%s", s, out)
		}
	}
}

// agentCountFailure runs `calctl agent` on database url until it logs a
// failed count (or 30 s pass), stops it, and returns its log.
func agentCountFailure(t *testing.T, url string) string {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "token"), []byte("tok_cli\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "signing"), []byte("whsec_cli\n"), 0o600)
	cfg := filepath.Join(dir, "agent.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("deployment_id: dep_cli\nendpoint: https://127.0.0.1:%d/usage\ntoken_file: %s/token\nsigning_secret_file: %s/signing\nstate_dir: %s/state\ninterval: 1h\n",
		testenv.FreePort(t), dir, dir, dir)), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuffer
	f := &Factory{IO: IO{In: strings.NewReader(""), Out: &out, Err: &errb}, Getenv: func(string) string { return "" }}
	done := make(chan int, 1)
	go func() { done <- Run(ctx, f, []string{"agent", "--config", cfg, "--database-url", url}) }()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(errb.String(), "counting failed") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("agent did not stop")
	}
	return errb.String()
}

// lineWith is the first line of s that holds sub ("" when none).
func lineWith(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return ""
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
