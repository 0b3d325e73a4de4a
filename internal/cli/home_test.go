package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calctl/calctl/installer/contract"
	"github.com/calctl/calctl/installer/home"
	"github.com/calctl/calctl/installer/wizard"
)

// TestHomeFromRender: a directory made by `calctl render` (external
// database with a CA file, e-mail, caddy) is read back into the answers it
// was rendered from, with the database URL and SMTP password as secrets:
// nothing is swapped for a default.
func TestHomeFromRender(t *testing.T) {
	base := t.TempDir()
	ca := filepath.Join(base, "rds-ca.pem")
	if err := os.WriteFile(ca, []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(base, "calcom")
	ans := filepath.Join(base, "answers.yaml")
	if err := os.WriteFile(ans, []byte(`target: compose
public_url: https://cal.example.com
proxy: caddy
database: {mode: external, url_env: DATABASE_URL, ca_file: `+ca+`}
email: {host: smtp.example.com, port: 587, user: mailer, from: cal@example.com, password_env: SMTP_PASSWORD}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"DATABASE_URL": "postgresql://cal:db-s3cret@db.example.com:5432/calcom?sslmode=verify-full", "SMTP_PASSWORD": "smtp-s3cret"}
	if code, _, stderr := runCLI(t, env, "render", "--answers", ans, "--out", out); code != 0 {
		t.Fatalf("render: exit %d\n%s", code, stderr)
	}
	a, sec, found, err := home.FromRender(context.Background(), out)
	if err != nil {
		t.Fatal(err)
	}
	if a.Database.Mode != contract.DBExternal || a.Database.CAFile != ca || a.Target != contract.TargetCompose || a.Proxy != contract.ProxyCaddy ||
		a.PublicURL != "https://cal.example.com" || a.Email.Host != "smtp.example.com" || a.Email.Port != 587 || a.Email.User != "mailer" || a.Email.From != "cal@example.com" {
		t.Errorf("answers read back: %+v", a)
	}
	if got := sec.DatabaseURL.Reveal(); !strings.Contains(got, "db.example.com:5432/calcom") || !strings.Contains(got, "db-s3cret") || strings.Contains(got, "/etc/calcom/db-ca.pem") {
		t.Errorf("database URL read back: %q", got)
	}
	if sec.SMTPPassword.Reveal() != "smtp-s3cret" {
		t.Errorf("SMTP password not read back")
	}
	for _, w := range []string{".env", "docker-compose.yml", "external database (URL and CA file)", "e-mail"} {
		if !strings.Contains(found, w) {
			t.Errorf("found = %q, does not say %q", found, w)
		}
	}
	// the wizard starts from them and says what it found
	w, existing, wfound, wenv := wizard.Start(context.Background(), &contract.Answers{InstallDir: out})
	if !existing || w.Database.Mode != contract.DBExternal || w.Email.Host != "smtp.example.com" || !strings.Contains(wfound, "docker-compose.yml") || wenv.DatabaseURL == "" {
		t.Errorf("wizard.Start on a rendered dir: existing %v, %+v, found %q", existing, w, wfound)
	}
	// the answers read back render the same files again
	a.InstallDir = out
	a2 := filepath.Join(base, "again.yaml")
	if err := home.WriteAnswers(a2, a); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(out, "docker-compose.yml"))
	env2 := map[string]string{"DATABASE_URL": sec.DatabaseURL.Reveal(), "SMTP_PASSWORD": sec.SMTPPassword.Reveal()}
	if code, _, stderr := runCLI(t, env2, "render", "--answers", a2, "--out", out); code != 0 {
		t.Fatalf("render again: exit %d\n%s", code, stderr)
	}
	after, _ := os.ReadFile(filepath.Join(out, "docker-compose.yml"))
	if string(before) != string(after) {
		t.Errorf("rendering the answers read back changed docker-compose.yml:\n--- before\n%s\n--- after\n%s", before, after)
	}
}

// TestInstallKeepsAnswersAndLogOfAFailedRun: a run that fails at preflight
// (no Docker) changes nothing in the install directory, yet keeps its
// answers and a masked log for this host; `install --resume` finds them,
// says what it resumes, and runs from them.
func TestInstallKeepsAnswersAndLogOfAFailedRun(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "calcom")
	installs := filepath.Join(base, "state", "installs.json")
	ans := filepath.Join(base, "answers.yaml")
	os.WriteFile(ans, []byte("install_dir: "+dir+"\npublic_url: https://cal.example.com\ndatabase: {mode: external, url_env: DATABASE_URL}\n"), 0o600)
	env := map[string]string{
		"DOCKER_HOST":      "unix://" + filepath.Join(base, "closed.sock"),
		"DATABASE_URL":     "postgresql://cal:Db-S3cret-77@db.example.com:5432/calcom?sslmode=require",
		home.InstallsEnv:   installs,
		"CALCTL_GIT_TOKEN": "",
	}
	code, _, stderr := runCLI(t, env, "install", "--non-interactive", "--answers", ans, "--ignore-preflight", "memory,disk")
	if code != ExitFailure {
		t.Fatalf("exit %d, want %d\n%s", code, ExitFailure, stderr)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Errorf("the failed run created the install directory")
	}
	pending := home.PendingDir(func(k string) string { return env[k] }, dir)
	logs, _ := filepath.Glob(filepath.Join(pending, home.LogDir, "install-*.log"))
	if len(logs) != 1 || !strings.Contains(stderr, logs[0]) {
		t.Fatalf("logs %v; stderr does not name the log:\n%s", logs, stderr)
	}
	st, _ := os.Stat(logs[0])
	b, _ := os.ReadFile(logs[0])
	if st.Mode().Perm() != 0o600 || strings.Contains(string(b), "Db-S3cret-77") || !strings.Contains(string(b), "preflight") {
		t.Errorf("log mode %v, masked %v:\n%s", st.Mode().Perm(), !strings.Contains(string(b), "Db-S3cret-77"), b)
	}
	saved, _ := os.ReadFile(filepath.Join(pending, home.AnswersFile))
	if !strings.Contains(string(saved), "https://cal.example.com") || strings.Contains(string(saved), "Db-S3cret-77") {
		t.Errorf("saved answers:\n%s", saved)
	}
	lr, err := home.LoadLastRun(pending)
	if err != nil || lr.Outcome != home.OutcomeFailed || lr.Step != "preflight" {
		t.Errorf("last run %+v, %v; want failed at preflight", lr, err)
	}
	list, _ := home.Installs(func(k string) string { return env[k] })
	if len(list) != 1 || list[0].Dir != dir || list[0].Outcome != home.OutcomeFailed {
		t.Errorf("installs %+v", list)
	}

	code, _, stderr = runCLI(t, env, "install", "--resume", "--non-interactive", "--install-dir", dir, "--ignore-preflight", "memory,disk")
	if code != ExitFailure || !strings.Contains(stderr, "resuming the install in "+dir) || !strings.Contains(stderr, "failed") || !strings.Contains(stderr, "at step preflight") {
		t.Errorf("resume: exit %d\n%s", code, stderr)
	}
	if logs, _ := filepath.Glob(filepath.Join(pending, home.LogDir, "install-*.log")); len(logs) != 2 {
		t.Errorf("after resuming, %d logs; want one per run", len(logs))
	}
	code, _, stderr = runCLI(t, map[string]string{home.InstallsEnv: filepath.Join(base, "none.json")}, "install", "--resume", "--non-interactive", "--install-dir", filepath.Join(base, "other"))
	if code != 2 || !strings.Contains(stderr, "nothing to resume") {
		t.Errorf("resume without saved answers: exit %d\n%s", code, stderr)
	}
}

// TestCheckDefaultsToTheRecordedInstall: with no --dir, outside any
// install, check aims at the install recorded for this host and says so.
func TestCheckDefaultsToTheRecordedInstall(t *testing.T) {
	base := t.TempDir()
	out := filepath.Join(base, "calcom")
	ans := filepath.Join(base, "answers.yaml")
	os.WriteFile(ans, []byte("target: compose\npublic_url: https://cal.example.com\ndatabase: {mode: bundled}\nproxy: none\n"), 0o600)
	if code, _, stderr := runCLI(t, nil, "render", "--answers", ans, "--out", out); code != 0 {
		t.Fatalf("render: %d\n%s", code, stderr)
	}
	env := map[string]string{home.InstallsEnv: filepath.Join(base, "installs.json")}
	if err := home.Record(func(k string) string { return env[k] }, out, home.OutcomeFinished, time.Now()); err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	t.Cleanup(func() { os.Chdir(wd) })
	os.Chdir(base) // not an install
	_, _, stderr := runCLI(t, env, "check", "--docker=false", "--host=false", "--timeout", "2s", "-o", "json")
	if !strings.Contains(stderr, "using the install in "+out+" (recorded in "+env[home.InstallsEnv]+")") {
		t.Errorf("check does not say which install it aims at:\n%s", stderr)
	}
	if strings.Contains(stderr, "no Cal.com install") {
		t.Errorf("check found no install:\n%s", stderr)
	}
}
