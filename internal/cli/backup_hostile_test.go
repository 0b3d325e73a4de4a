package cli

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/calctl/calctl/backup/archive"
	"github.com/calctl/calctl/internal/testenv"
)

// externalInstall makes an install dir on a throwaway local cluster with
// the stand-in schema and rows, and an age key pair.
func externalInstall(t *testing.T, bookings int) (dir, rec, key string) {
	t.Helper()
	pg := testenv.StartPostgres(t, testenv.PostgresOptions{AuthMethod: "scram-sha-256", SuperPassword: "pg-super-secret-2"})
	pg.Exec(t, "", `CREATE ROLE calcom LOGIN PASSWORD 'calcom-db-pass-3'`)
	pg.CreateDatabase(t, "calendso", "calcom")
	seedCalcom(t, pg, "calendso", "calcom", 100, bookings)
	base := t.TempDir()
	dir = filepath.Join(base, "install")
	writeInstall(t, dir, map[string]string{"DATABASE_URL": pg.URL("calcom", "calcom-db-pass-3", "calendso", ""),
		"NEXTAUTH_SECRET": "nextauth-secret-hostile-1", "CALENDSO_ENCRYPTION_KEY": "0123456789abcdef0123456789abcdef"})
	key = filepath.Join(base, "key.txt")
	rec, err := archive.Keygen(key)
	if err != nil {
		t.Fatal(err)
	}
	return dir, rec, key
}

// calctlCommand runs calctl as a child process: the test binary under the
// name testscript.Main put on $PATH (main_test.go).
func calctlCommand(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	bin, err := exec.LookPath("calctl")
	if err != nil {
		t.Fatalf("calctl command of the test binary: %v", err)
	}
	return exec.Command(bin, args...)
}

// TestBackupKilled: calctl backup is killed with SIGKILL at random moments
// (a bounded loop). A file with the final name is always a complete,
// readable backup; the next backup succeeds and removes the stale
// temporary files.
func TestBackupKilled(t *testing.T) {
	testenv.Slow(t, "repeated backups of a few MB, each killed")
	dir, rec, key := externalInstall(t, 60000)
	out := filepath.Join(t.TempDir(), "backups")
	args := []string{"backup", "--dir", dir, "--out", out, "--recipient", rec}

	// one full run to learn how long a backup takes here
	start := time.Now()
	if b, err := calctlCommand(t, args...).CombinedOutput(); err != nil {
		t.Fatalf("backup: %v\n%s", err, b)
	}
	full := time.Since(start)
	t.Logf("an uninterrupted backup takes %s", full)
	ids, err := archive.IdentitiesFile(key)
	if err != nil {
		t.Fatal(err)
	}
	checkDir := func() (complete, temp int) {
		t.Helper()
		entries, _ := os.ReadDir(out)
		for _, e := range entries {
			p := filepath.Join(out, e.Name())
			switch {
			case strings.HasSuffix(e.Name(), archive.Suffix):
				complete++
				if _, err := archive.Read(p, ids, nil); err != nil {
					t.Errorf("%s looks complete but does not read: %v", e.Name(), err)
				}
			case strings.HasSuffix(e.Name(), archive.TempSuffix):
				temp++
			}
		}
		return complete, temp
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 15))
	killedMidway := 0
	for i := 0; i < 8; i++ {
		time.Sleep(1100 * time.Millisecond) // a new file name (the name holds the second)
		before, _ := checkDir()
		cmd := calctlCommand(t, args...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		delay := time.Duration(rng.Int64N(int64(full)))
		time.Sleep(delay)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		after, temp := checkDir()
		if err != nil && after == before {
			killedMidway++
		}
		t.Logf("kill %d after %s: exit %v; %d complete, %d temporary file(s)", i, delay.Round(time.Millisecond), err, after, temp)
	}
	if killedMidway == 0 {
		t.Errorf("no kill landed during a backup; the loop proved nothing")
	}
	time.Sleep(1100 * time.Millisecond)
	cmd := calctlCommand(t, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("backup after the kills: %v\n%s", err, stderr.String())
	}
	if _, temp := checkDir(); temp != 0 {
		t.Errorf("%d temporary file(s) left after a successful backup:\n%s", temp, stderr.String())
	}
	// no pg_dump outlives its calctl
	if b, _ := exec.Command("pgrep", "-f", "pg_dump --format=custom").Output(); len(bytes.TrimSpace(b)) > 0 {
		t.Errorf("pg_dump processes left: %s", b)
	}
}

// TestBackupBadInputs: each bad input gives one clear line and a non-zero
// exit, and leaves no partial file.
func TestBackupBadInputs(t *testing.T) {
	dir, rec, key := externalInstall(t, 20000)
	base := t.TempDir()
	env := map[string]string{"PASS_A": "first passphrase, long enough", "PASS_B": "second passphrase, long enough"}
	code, stdout, stderr := runCLI(t, env, "backup", "--dir", dir, "--out", filepath.Join(base, "ok"), "--recipient", rec)
	if code != 0 {
		t.Fatalf("backup: %s", stderr)
	}
	good := strings.TrimSpace(stdout)
	code, stdout, stderr = runCLI(t, env, "backup", "--dir", dir, "--out", filepath.Join(base, "pass"), "--passphrase-env", "PASS_A")
	if code != 0 {
		t.Fatalf("backup with a passphrase: %s", stderr)
	}
	withPass := strings.TrimSpace(stdout)
	b, _ := os.ReadFile(good)
	corrupt := filepath.Join(base, "corrupt.age")
	b[len(b)/2] ^= 0x40
	os.WriteFile(corrupt, b, 0o600)
	truncated := filepath.Join(base, "truncated.age")
	b, _ = os.ReadFile(good)
	os.WriteFile(truncated, b[:len(b)*2/3], 0o600)
	plain := filepath.Join(base, "plain.dump")
	os.WriteFile(plain, []byte("PGDMP\x01\x0e"), 0o600)
	other := filepath.Join(base, "other.key")
	archive.Keygen(other)

	// a full disk: a 256 KiB tmpfs, smaller than the dump
	full := filepath.Join(base, "full")
	os.MkdirAll(full, 0o700)
	if err := syscall.Mount("tmpfs", full, "tmpfs", 0, "size=256k,mode=0700"); err != nil {
		testenv.Unavailable(t, "a small tmpfs (mount needs root)", err)
	}
	t.Cleanup(func() { syscall.Unmount(full, syscall.MNT_DETACH) })

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"corrupted archive", []string{"backup", "verify", corrupt, "--identity", key}, "corrupted or truncated"},
		{"truncated archive", []string{"backup", "verify", truncated, "--identity", key}, "corrupted or truncated"},
		{"wrong key", []string{"backup", "verify", good, "--identity", other}, "does not open this backup"},
		{"wrong passphrase", []string{"backup", "verify", withPass, "--passphrase-env", "PASS_B"}, "does not open this backup"},
		{"key for a passphrase backup", []string{"backup", "verify", withPass, "--identity", key}, "does not open this backup"},
		{"not a backup", []string{"backup", "verify", plain, "--identity", key}, "not a calctl backup"},
		{"missing file", []string{"backup", "verify", filepath.Join(base, "nope.age"), "--identity", key}, "no such file"},
		{"unset passphrase variable", []string{"backup", "--dir", dir, "--passphrase-env", "UNSET_VAR"}, "empty or unset"},
		{"no key at all", []string{"backup", "--dir", dir}, "never writes a backup unencrypted"},
		{"bad recipient", []string{"backup", "--dir", dir, "--recipient", "age1notakey"}, "not an age public key"},
		{"short passphrase", []string{"backup", "--dir", dir, "--passphrase-env", "SHORT"}, "shorter than 12"},
		{"not an install", []string{"backup", "--dir", base, "--recipient", rec}, "no Cal.com install"},
		{"full disk", []string{"backup", "--dir", dir, "--out", full, "--recipient", rec}, "no space left on device"},
		{"restore a corrupted archive", []string{"restore", corrupt, "--dir", dir, "--identity", key, "--yes"}, "corrupted or truncated"},
	}
	env["SHORT"] = "short"
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, env, tt.args...)
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			if code == 0 || !strings.Contains(stderr, tt.want) || len(lines) != 1 || !strings.HasPrefix(lines[0], "calctl: ") {
				t.Errorf("exit %d; want one line with %q; stderr:\n%s", code, tt.want, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout: %q", stdout)
			}
			if strings.Contains(stderr, "nextauth-secret") || strings.Contains(stderr, "calcom-db-pass") || strings.Contains(stderr, "passphrase, long") {
				t.Errorf("leaks a secret: %s", stderr)
			}
		})
	}
	if left, _ := os.ReadDir(full); len(left) > 1 { // the lock file may stay
		var names []string
		for _, e := range left {
			names = append(names, e.Name())
		}
		t.Errorf("the full disk holds %v", names)
	}
	// the restore of a corrupted file changed nothing and left no history
	if _, err := os.Stat(filepath.Join(dir, ".calctl", "history.jsonl")); err == nil {
		b, _ := os.ReadFile(filepath.Join(dir, ".calctl", "history.jsonl"))
		if strings.Contains(string(b), `"restore"`) {
			t.Errorf("a refused restore was recorded: %s", b)
		}
	}
}
