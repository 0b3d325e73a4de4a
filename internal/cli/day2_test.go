package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calctl/calctl/backup/history"
	"github.com/calctl/calctl/installer/contract"
	"github.com/calctl/calctl/installer/home"
)

// renderedInstall renders a compose install into a temp dir, records a
// failed last run in it and returns the dir and an env whose installs
// list names it.
func renderedInstall(t *testing.T) (string, map[string]string) {
	t.Helper()
	base := t.TempDir()
	out := filepath.Join(base, "calcom")
	ans := filepath.Join(base, "answers.yaml")
	os.WriteFile(ans, []byte("target: compose\npublic_url: http://127.0.0.1:1\ndatabase: {mode: bundled}\nproxy: none\nstart: {project: uxday2}\n"), 0o600)
	if code, _, stderr := runCLI(t, nil, "render", "--answers", ans, "--out", out); code != 0 {
		t.Fatalf("render: %d\n%s", code, stderr)
	}
	env := map[string]string{home.InstallsEnv: filepath.Join(base, "installs.json"), "DOCKER_HOST": "unix://" + filepath.Join(base, "no-docker.sock")}
	if err := home.Record(func(k string) string { return env[k] }, out, home.OutcomeFailed, time.Now()); err != nil {
		t.Fatal(err)
	}
	home.SaveLastRun(out, home.LastRun{Started: time.Now(), Ended: time.Now(), Outcome: home.OutcomeFailed, Step: "start", Log: filepath.Join(out, "logs", "install-x.log"),
		Check: &contract.CheckSummary{Fail: 2, Warn: 1, Command: "calctl check --dir " + out, Top: []contract.CheckFinding{{ID: "PG-006", Status: "FAIL", Resource: "database", Message: "ssl is off"}}}})
	// a backup history as the backup commands write it
	if err := history.Append(out, history.Event{Time: time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC), Kind: history.KindBackup, Result: history.ResultOK, File: "/var/backups/calcom-1.tar.age", Size: 4096}); err != nil {
		t.Fatal(err)
	}
	return out, env
}

// TestStatus: one screen (and -o json) on the install: where, why, health,
// services (Docker is unreachable here: said, not fatal), the last run and
// the open findings.
func TestStatus(t *testing.T) {
	dir, env := renderedInstall(t)
	code, stdout, stderr := runCLI(t, env, "status", "--dir", dir)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for _, w := range []string{"install       " + dir + "  (--dir)", "not answering", "failed", "at step start", "2 fail, 1 warn", "PG-006", "last report", "ok 2026-12-06", "calcom-1.tar.age"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("status does not show %q:\n%s", w, stdout)
		}
	}
	if n := strings.Count(stdout, "\n"); n > 22 {
		t.Errorf("status is %d lines: more than one screen", n)
	}
	code, stdout, _ = runCLI(t, env, "status", "-o", "json")
	var r statusReport
	if err := json.Unmarshal([]byte(stdout), &r); code != 0 || err != nil {
		t.Fatalf("json: exit %d, %v\n%s", code, err, stdout)
	}
	if r.Install != dir || !strings.Contains(r.Why, "installs.json") || r.LastRun == nil || r.Findings == nil || r.Findings.Fail != 2 {
		t.Errorf("json: %+v", r)
	}
}

// TestLogsAndUninstallSayWhatTheyDo: logs and uninstall aim at the
// recorded install, name it, and (dry run) print the compose commands;
// uninstall keeps the database volume unless --purge, and --purge needs
// --yes.
func TestLogsAndUninstallSayWhatTheyDo(t *testing.T) {
	dir, env := renderedInstall(t)
	code, stdout, stderr := runCLI(t, env, "logs", "web", "-f", "--dry-run")
	if code != 0 || !strings.Contains(stdout, "-p uxday2") || !strings.Contains(stdout, "logs --tail 200 --follow web") || !strings.Contains(stderr, dir) {
		t.Errorf("logs: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, _, stderr = runCLI(t, env, "uninstall", "--dry-run")
	if code != 0 || !strings.Contains(stderr, "down --remove-orphans") || strings.Contains(stderr, "--volumes") || !strings.Contains(stderr, "keeping the database volume") {
		t.Errorf("uninstall: exit %d\n%s", code, stderr)
	}
	code, _, stderr = runCLI(t, env, "uninstall", "--purge")
	if code != 2 || !strings.Contains(stderr, "--yes") {
		t.Errorf("uninstall --purge without --yes: exit %d\n%s", code, stderr)
	}
	code, _, stderr = runCLI(t, env, "uninstall", "--purge", "--dry-run")
	if code != 0 || !strings.Contains(stderr, "--volumes") || !strings.Contains(stderr, "backups included") {
		t.Errorf("uninstall --purge --dry-run: exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, ".env")); err != nil {
		t.Errorf("a dry run removed files: %v", err)
	}
	// Docker unreachable: uninstall fails, says so, and removes nothing
	code, _, stderr = runCLI(t, env, "uninstall", "--purge", "--yes")
	if _, err := os.Stat(dir); code == 0 || err != nil {
		t.Errorf("uninstall with Docker down: exit %d, dir kept: %v\n%s", code, err == nil, stderr)
	}
}

// TestVersionManAndCompletion: --version, man pages for every command,
// and completion of --period with months.
func TestVersionManAndCompletion(t *testing.T) {
	code, stdout, _ := runCLI(t, nil, "--version")
	if code != 0 || !strings.HasPrefix(stdout, "calctl ") || !strings.Contains(stdout, "go1.") {
		t.Errorf("--version: %d %q", code, stdout)
	}
	dir := t.TempDir()
	if code, _, stderr := runCLI(t, nil, "man", dir); code != 0 {
		t.Fatalf("man: %d %s", code, stderr)
	}
	for _, p := range []string{"calctl.1", "calctl-install.1", "calctl-status.1", "calctl-uninstall.1", "calctl-logs.1", "calctl-report.1"} {
		b, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil || !strings.Contains(string(b), ".TH") {
			t.Errorf("man page %s: %v", p, err)
		}
	}
	_, stdout, _ = runCLI(t, nil, "__complete", "report", "--period", "")
	if !strings.Contains(stdout, time.Now().UTC().Format("2006-01")) {
		t.Errorf("--period completion: %q", stdout)
	}
	_, stdout, _ = runCLI(t, nil, "__complete", "install", "--target", "")
	if !strings.Contains(stdout, "compose") || !strings.Contains(stdout, "pm2") {
		t.Errorf("--target completion: %q", stdout)
	}
	_, stdout, _ = runCLI(t, nil, "install", "--help")
	if !strings.Contains(stdout, "starts the install wizard (the default)") {
		t.Errorf("install --help does not say the wizard is the default:\n%s", stdout)
	}
}
