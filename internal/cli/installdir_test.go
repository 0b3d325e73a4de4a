package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calctl/calctl/installer/contract"
	"github.com/calctl/calctl/installer/home"
	"github.com/calctl/calctl/internal/testenv"
	"github.com/calctl/calctl/reporter/agentconfig"
)

// TestInstallDirFallsBackToTheRecordedInstall: backup, restore and upgrade
// find the install the way check and doctor do — --dir, then
// $CALCTL_INSTALL_DIR, then the current directory, then the install
// recorded for this host — and say which when it was not given (issue 14).
func TestInstallDirFallsBackToTheRecordedInstall(t *testing.T) {
	base := t.TempDir()
	installs := filepath.Join(base, "installs.json")
	inst := filepath.Join(base, "install")
	if err := os.MkdirAll(inst, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(inst, ".env"), []byte("DATABASE_URL=postgresql://u:p@database:5432/calendso\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// home.IsInstall: .env plus a compose (or pm2) file.
	if err := os.WriteFile(filepath.Join(inst, "docker-compose.yml"), []byte("services: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	elsewhere := filepath.Join(base, "elsewhere")
	if err := os.MkdirAll(elsewhere, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(elsewhere)
	env := map[string]string{"CALCTL_INSTALLS_FILE": installs}
	var errb bytes.Buffer
	f := &Factory{IO: IO{Err: &errb}, Getenv: func(k string) string { return env[k] }}

	// Nothing recorded yet: a usage error naming the installs file.
	if _, err := installDir(f, ""); err == nil || !strings.Contains(err.Error(), installs) {
		t.Fatalf("no install anywhere: err = %v, want one naming %s", err, installs)
	}
	if err := home.Record(f.Getenv, inst, "ok", time.Now()); err != nil {
		t.Fatal(err)
	}
	got, err := installDir(f, "")
	if err != nil || got != inst {
		t.Fatalf("installDir = %q, %v; want the recorded %q", got, err, inst)
	}
	if !strings.Contains(errb.String(), "using the install in "+inst) {
		t.Errorf("stderr %q does not say which install", errb.String())
	}
	// --dir wins over the record, silently.
	errb.Reset()
	if got, err := installDir(f, elsewhere); err != nil || got != elsewhere || errb.Len() != 0 {
		t.Errorf("--dir: %q, %v, stderr %q", got, err, errb.String())
	}
}

// TestLocateInstall: locateInstall's precedence — the flag, then
// $CALCTL_INSTALL_DIR, then the current directory when it holds an
// install, then the newest recorded install that still holds one (or that
// keep accepts) — and its one message when there is none: each place looked
// at, then what to do.
func TestLocateInstall(t *testing.T) {
	base := t.TempDir()
	mk := func(name string, files ...string) string {
		d := filepath.Join(base, name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if err := os.WriteFile(filepath.Join(d, f), []byte("X=1\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		return d
	}
	recorded := mk("recorded", ".env", "docker-compose.yml")
	envOnly := mk("env-only", ".env")                   // what check can audit
	answersOnly := mk("answers-only", home.AnswersFile) // a saved install
	empty := mk("empty")
	gone := filepath.Join(base, "gone")
	list := filepath.Join(base, "installs.json")
	goneList := filepath.Join(base, "gone.json")
	broken := filepath.Join(base, "broken.json")
	if err := os.WriteFile(broken, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	record := func(file string, dirs ...string) {
		for i, d := range dirs {
			if err := home.Record(func(string) string { return file }, d, home.OutcomeFinished, time.Now().Add(time.Duration(i)*time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
	}
	record(list, recorded, gone) // gone is the newest entry: skipped, it holds no install
	record(goneList, gone)

	cases := []struct {
		name        string
		cwd         string
		flag, value string
		env         map[string]string
		keep        func(string) bool
		dir, why    string // want; dir "" means "not found"
		given       bool
		msg         []string // the error says these
	}{
		{name: "flag wins", cwd: envOnly, flag: "--dir DIR", value: empty, env: map[string]string{"CALCTL_INSTALL_DIR": answersOnly, home.InstallsEnv: list}, dir: empty, why: "--dir", given: true},
		{name: "relative flag made absolute", cwd: base, flag: "--install-dir DIR", value: "empty", env: map[string]string{home.InstallsEnv: list}, dir: empty, why: "--install-dir", given: true},
		{name: "environment over current directory", cwd: envOnly, flag: "--dir DIR", env: map[string]string{"CALCTL_INSTALL_DIR": answersOnly, home.InstallsEnv: list}, dir: answersOnly, why: "$CALCTL_INSTALL_DIR", given: true},
		{name: "current directory with a .env over the record", cwd: envOnly, flag: "--dir DIR", env: map[string]string{home.InstallsEnv: list}, dir: envOnly, why: "the current directory"},
		{name: "current directory with saved answers", cwd: answersOnly, flag: "--dir DIR", env: map[string]string{home.InstallsEnv: list}, dir: answersOnly, why: "the current directory"},
		{name: "recorded, gone skipped", cwd: empty, flag: "--dir DIR", env: map[string]string{home.InstallsEnv: list}, dir: recorded, why: "recorded in " + list},
		{name: "keep accepts a recorded directory not yet created", cwd: empty, flag: "--install-dir DIR", env: map[string]string{home.InstallsEnv: goneList}, keep: func(d string) bool { return d == gone }, dir: gone, why: "recorded in " + goneList},
		{name: "nothing recorded", cwd: empty, flag: "--dir DIR", env: map[string]string{home.InstallsEnv: filepath.Join(base, "none.json")},
			msg: []string{"no Cal.com install found", "no --dir given", "$CALCTL_INSTALL_DIR is not set", "the current directory " + empty + " holds none", "no install is recorded for this host in " + filepath.Join(base, "none.json"), "pass --dir DIR, cd into the install, or set CALCTL_INSTALL_DIR=DIR"}},
		{name: "recorded installs all gone", cwd: empty, flag: "--install-dir DIR", env: map[string]string{home.InstallsEnv: goneList},
			msg: []string{"no --install-dir given", "none of the 1 installs recorded in " + goneList + " still holds one", "pass --install-dir DIR, cd into the install"}},
		{name: "list does not read", cwd: empty, flag: "--config FILE", env: map[string]string{home.InstallsEnv: broken},
			msg: []string{"no --config given", "the list of installs on this host does not read", broken, "pass --config FILE, cd into the install"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(tc.cwd)
			got, err := locateInstall(func(k string) string { return tc.env[k] }, tc.flag, tc.value, tc.keep)
			if tc.dir == "" {
				var ee *ExitError
				if !errors.As(err, &ee) || ee.Code != ExitFailure {
					t.Fatalf("got %+v, %v; want an ExitError with code %d", got, err, ExitFailure)
				}
				for _, w := range tc.msg {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("message does not say %q:\n%s", w, err)
					}
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("message is not one line: %q", err)
				}
				return
			}
			if err != nil || got.Dir != tc.dir || got.Why != tc.why || got.Given != tc.given {
				t.Errorf("got %+v, %v; want dir %s, why %q, given %v", got, err, tc.dir, tc.why, tc.given)
			}
			var b bytes.Buffer
			got.announce(&b, tc.flag)
			if said := b.String(); tc.given != (said == "") || !tc.given && !strings.Contains(said, "no "+flagName(tc.flag)+" given: using the install in "+tc.dir+" ("+tc.why+")") {
				t.Errorf("announce said %q (given %v)", said, tc.given)
			}
		})
	}
}

// TestCommandsFindTheRecordedInstall: every command that aims at an
// install finds it through locateInstall — run outside any install, it
// takes the one recorded for this host and says so — and, with none
// anywhere, fails with exit 1 and the one message (what was looked at,
// what to do).
func TestCommandsFindTheRecordedInstall(t *testing.T) {
	dir, env := renderedInstall(t)
	if err := home.SaveAnswers(dir, &contract.Answers{InstallDir: dir, Target: contract.TargetCompose, PublicURL: "http://127.0.0.1:1",
		Database: contract.Database{Mode: contract.DBBundled}, Proxy: contract.ProxyNone, Start: contract.Start{Project: "uxday2"}}); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "agent"), 0o755); err != nil {
		t.Fatal(err)
	}
	closed := testenv.FreePort(t)
	if err := os.WriteFile(filepath.Join(dir, "agent", "agent.yaml"), []byte("deployment_id: d\nstate_dir: "+filepath.Join(dir, "agent", "state")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env["CALCTL_BACKUP_PASSPHRASE"] = "correct horse battery staple"
	env["DATABASE_URL"] = fmt.Sprintf("postgresql://calcom:pw@127.0.0.1:%d/calcom?sslmode=disable&connect_timeout=2", closed)
	elsewhere := t.TempDir()
	t.Chdir(elsewhere)
	why := "(recorded in " + env[home.InstallsEnv] + ")"
	cases := []struct {
		name string
		args []string
		said string // the found case says this on stderr
	}{
		{"status", []string{"status", "-o", "json"}, ""},
		{"logs", []string{"logs", "web", "--dry-run"}, "install in " + dir + " " + why},
		{"uninstall", []string{"uninstall", "--dry-run"}, "install in " + dir + " " + why},
		{"check", []string{"check", "--docker=false", "--host=false", "--only", "CF-001"}, "no --dir given: using the install in " + dir + " " + why},
		{"bundle", []string{"bundle", "--out", filepath.Join(elsewhere, "support.tar.gz"), "--docker=false", "--host=false", "--timeout", "5s"}, "no --dir given: using the install in " + dir + " " + why},
		{"backup", []string{"backup", "--passphrase-env", "CALCTL_BACKUP_PASSPHRASE"}, "no --dir given: using the install in " + dir + " " + why},
		{"restore", []string{"restore", filepath.Join(elsewhere, "none.tar.age"), "--passphrase-env", "CALCTL_BACKUP_PASSPHRASE"}, "no --dir given: using the install in " + dir + " " + why},
		{"upgrade", []string{"upgrade", "--ref", "main", "--dry-run"}, "no --dir given: using the install in " + dir + " " + why},
		{"install --resume", []string{"install", "--resume", "--non-interactive", "--dry-run"}, "resuming the install in " + dir + " " + why},
		{"report", []string{"report", "--dry-run", "--database-url", env["DATABASE_URL"]}, "using the agent config of the install in " + dir + " " + why},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, env, tc.args...)
			if tc.said == "" { // status: the JSON names the install and why
				var r statusReport
				if err := json.Unmarshal([]byte(stdout), &r); err != nil || r.Install != dir || !strings.Contains(r.Why, env[home.InstallsEnv]) {
					t.Errorf("exit %d, %+v, %v\n%s", code, r, err, stderr)
				}
			} else if !strings.Contains(stderr, tc.said) {
				t.Errorf("exit %d; stderr does not say %q:\n%s", code, tc.said, stderr)
			}
			if strings.Contains(stderr, "no Cal.com install found") {
				t.Errorf("found nothing:\n%s", stderr)
			}
		})
	}

	// none anywhere: an empty directory, an empty list, no environment
	none := map[string]string{home.InstallsEnv: filepath.Join(elsewhere, "none.json"), "CALCTL_BACKUP_PASSPHRASE": env["CALCTL_BACKUP_PASSPHRASE"]}
	for _, tc := range []struct {
		name string
		args []string
		flag string
	}{
		{"status", []string{"status"}, "--dir DIR"},
		{"logs", []string{"logs", "web", "--dry-run"}, "--dir DIR"},
		{"uninstall", []string{"uninstall", "--dry-run"}, "--dir DIR"},
		{"check", []string{"check", "--docker=false", "--host=false"}, "--dir DIR"},
		{"doctor", []string{"doctor", "--docker=false", "--host=false"}, "--dir DIR"},
		{"bundle", []string{"bundle", "--out", filepath.Join(elsewhere, "none.tar.gz"), "--docker=false", "--host=false"}, "--dir DIR"},
		{"backup", []string{"backup", "--passphrase-env", "CALCTL_BACKUP_PASSPHRASE"}, "--dir DIR"},
		{"restore", []string{"restore", filepath.Join(elsewhere, "none.tar.age"), "--passphrase-env", "CALCTL_BACKUP_PASSPHRASE"}, "--dir DIR"},
		{"upgrade", []string{"upgrade", "--ref", "main", "--dry-run"}, "--dir DIR"},
		{"install --resume", []string{"install", "--resume", "--non-interactive"}, "--install-dir DIR"},
		{"report", []string{"report"}, "--config FILE"},
		{"agent", []string{"agent"}, "--config FILE"},
	} {
		t.Run("none/"+tc.name, func(t *testing.T) {
			if _, err := os.Stat(agentconfig.DefaultPath); err == nil && (tc.name == "report" || tc.name == "agent") {
				t.Fatalf("%s exists on this host: report and agent would use it", agentconfig.DefaultPath)
			}
			code, _, stderr := runCLI(t, none, tc.args...)
			want := []string{"no Cal.com install found", "the current directory " + elsewhere + " holds none", "pass " + tc.flag + ", cd into the install, or set CALCTL_INSTALL_DIR=DIR"}
			for _, w := range want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, stderr)
				}
			}
			if code != ExitFailure || strings.Count(stderr, "\n") != 1 {
				t.Errorf("exit %d, want %d, in one line:\n%s", code, ExitFailure, stderr)
			}
		})
	}
}
