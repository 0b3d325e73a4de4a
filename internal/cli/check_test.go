package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/checks/bundle"
	"github.com/calctl/calctl/checks/catalog"
	"github.com/calctl/calctl/checks/doctor"
)

func runCheckCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	f := &Factory{IO: IO{In: strings.NewReader(""), Out: &out, Err: &errb}, Getenv: func(string) string { return "" }}
	code := Run(context.Background(), f, args)
	return code, out.String(), errb.String()
}

const checkDefaultsEnv = `DATABASE_URL=postgresql://unicorn_user:magical_password@127.0.0.1:1/calendso
NEXTAUTH_SECRET=secret
CALENDSO_ENCRYPTION_KEY=secret
NEXT_PUBLIC_WEBAPP_URL=http://localhost:3000
`

const checkGoodEnv = `NEXTAUTH_SECRET=Zk9v1cY3q8Yp0mQ2wJx4Rb7Lh5Tn6Ue8Gs2Df4Ah+=
CALENDSO_ENCRYPTION_KEY=q8Yp0mQ2wJx4Rb7Lh5Tn6Ue8Gs2Df4Ah
`

func checkInstallDir(t *testing.T, env string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte(env), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestCheckWaiversAndJSONOut(t *testing.T) {
	dir := checkInstallDir(t, checkDefaultsEnv)
	w := filepath.Join(dir, "waivers.yaml")
	os.WriteFile(w, []byte(`waivers:
  - id: "CF-00[12]"
    reason: rotating next week
    expires: 2999-01-01
    approved_by: CISO
  - id: CF-004
    reason: expired acceptance
    expires: 2020-01-01
`), 0o600)
	out := filepath.Join(dir, "report.json")
	code, _, errs := runCheckCLI(t, "check", "--dir", dir, "--docker=false", "--host=false", "--only", "CF-001,CF-002,CF-004",
		"--waivers", w, "-o", "json", "--out", out)
	if code != ExitFindings || !strings.Contains(errs, "CF-004 expired on 2020-01-01") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	st, err := os.Stat(out)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("report file: %v %v", st, err)
	}
	var rep checks.Report
	b, _ := os.ReadFile(out)
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.SchemaVersion == "" || rep.Tool.Name != "calctl" || len(rep.ExpiredWaivers) != 1 || rep.Summary.Waived != 2 {
		t.Errorf("report header: %+v", rep)
	}
	for _, r := range rep.Results {
		waived := r.Waiver != nil
		if waived != (r.ID != "CF-004") || r.Status != checks.Fail {
			t.Errorf("%s %s waived=%v", r.ID, r.Status, waived)
		}
	}
}

func TestCheckFromBundleMatchesLive(t *testing.T) {
	dir := checkInstallDir(t, checkDefaultsEnv+"EMAIL_SERVER_HOST=smtp.example.com\nEMAIL_SERVER_PORT=587\n")
	os.WriteFile(filepath.Join(dir, "docker-compose.yml"), []byte("services:\n  database:\n    image: postgres\n    ports: [\"5432:5432\"]\n"), 0o644)
	target := []string{"--dir", dir, "--docker=false", "--host=false", "--timeout", "3s"}
	bundlePath := filepath.Join(t.TempDir(), "support.tar.gz")
	if code, _, errs := runCheckCLI(t, append([]string{"bundle", "--out", bundlePath}, target...)...); code != 0 {
		t.Fatalf("bundle: exit %d: %s", code, errs)
	}
	if code, _, errs := runCheckCLI(t, append([]string{"bundle", "--out", bundlePath}, target...)...); code != ExitUsage || !strings.Contains(errs, "already exists") {
		t.Errorf("overwrite: exit %d %q", code, errs)
	}
	code, fromBundle, _ := runCheckCLI(t, "check", "--from-bundle", bundlePath, "-o", "json")
	if code != ExitFindings {
		t.Fatalf("from-bundle exit %d", code)
	}
	// The live run at a different time differs only in timestamps; compare the
	// bundle's own results.json with the replay instead: same facts, same results.
	var replay checks.Report
	if err := json.Unmarshal([]byte(fromBundle), &replay); err != nil {
		t.Fatal(err)
	}
	code, liveOut, _ := runCheckCLI(t, append([]string{"check", "-o", "json"}, target...)...)
	var live checks.Report
	if err := json.Unmarshal([]byte(liveOut), &live); err != nil || code != ExitFindings {
		t.Fatalf("live: exit %d %v", code, err)
	}
	if len(live.Results) != len(replay.Results) {
		t.Fatalf("live %d results, bundle %d", len(live.Results), len(replay.Results))
	}
	for i := range live.Results {
		a, b := live.Results[i], replay.Results[i]
		if a.ID != b.ID || a.Status != b.Status || a.Resource != b.Resource || a.Message != b.Message {
			t.Errorf("result %d: live %s %s %s %q / bundle %s %s %s %q", i, a.ID, a.Status, a.Resource, a.Message, b.ID, b.Status, b.Resource, b.Message)
		}
	}
	code, doc, errs := runCheckCLI(t, "doctor", "--from-bundle", bundlePath, "-o", "json")
	if code != 0 {
		t.Fatalf("doctor: exit %d %s", code, errs)
	}
	var d doctor.Report
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Findings) == 0 || d.Findings[0].Next == "" || d.Findings[0].Severity != "critical" || len(d.Connectivity) < 4 {
		t.Errorf("doctor report: %+v", d)
	}
	code, text, _ := runCheckCLI(t, "doctor", "--from-bundle", bundlePath)
	for _, want := range []string{"Versions:", "Connectivity:", "[ERR] database", "Outbox:", "next: "} {
		if code != 0 || !strings.Contains(text, want) {
			t.Errorf("doctor text lacks %q (exit %d):\n%s", want, code, text)
		}
	}
}

// TestCheckOutNonRegular: --out writes a device or a FIFO directly and never
// replaces it (as root, --out /dev/null once became a regular file), keeps
// a symlink to a regular file, and replaces a regular file atomically.
func TestCheckOutNonRegular(t *testing.T) {
	dir := checkInstallDir(t, checkGoodEnv)
	args := []string{"check", "--dir", dir, "--docker=false", "--host=false", "--only", "CF-001", "-o", "json"}
	before, err := os.Stat("/dev/null")
	if err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runCheckCLI(t, append(args, "--out", "/dev/null")...); code != ExitOK {
		t.Fatalf("--out /dev/null: exit %d %s", code, errs)
	}
	after, err := os.Stat("/dev/null")
	if err != nil || after.Mode() != before.Mode() || after.Mode()&os.ModeCharDevice == 0 {
		t.Fatalf("/dev/null was replaced: %v -> %v", before.Mode(), after.Mode())
	}
	fifo := filepath.Join(t.TempDir(), "report.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 1)
	go func() {
		b, _ := os.ReadFile(fifo) // blocks until the writer opens and closes it
		got <- b
	}()
	if code, _, errs := runCheckCLI(t, append(args, "--out", fifo)...); code != ExitOK {
		t.Fatalf("--out fifo: exit %d %s", code, errs)
	}
	if b := <-got; !bytes.Contains(b, []byte(`"schema_version"`)) {
		t.Errorf("the FIFO reader got %q", b)
	}
	if st, err := os.Lstat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the FIFO was replaced: %v", st.Mode())
	}
	// A symlink to a regular file stays a symlink; the target is replaced.
	real := filepath.Join(t.TempDir(), "real.json")
	os.WriteFile(real, []byte("old"), 0o600)
	link := filepath.Join(t.TempDir(), "link.json")
	os.Symlink(real, link)
	if code, _, errs := runCheckCLI(t, append(args, "--out", link)...); code != ExitOK {
		t.Fatalf("--out symlink: exit %d %s", code, errs)
	}
	if st, _ := os.Lstat(link); st.Mode()&os.ModeSymlink == 0 {
		t.Error("the symlink was replaced by a file")
	}
	if b, _ := os.ReadFile(real); !bytes.Contains(b, []byte(`"schema_version"`)) {
		t.Errorf("the symlink's target holds %q", b)
	}
	if code, _, errs := runCheckCLI(t, append(args, "--out", t.TempDir())...); code != ExitFailure || !strings.Contains(errs, "is a directory") {
		t.Errorf("--out dir: exit %d %s", code, errs)
	}
}

// Escape sequences planted in a bundle's facts (a container name, a
// message) never reach the terminal through check or doctor (issue 11, Low).
func TestBundleEscapesStripped(t *testing.T) {
	f := &checks.Facts{SchemaVersion: checks.FactsSchemaVersion, CollectedAt: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
		Docker: &checks.DockerFacts{Containers: []checks.Container{{Name: "evil\x1b]0;pwned\x07\x1b[2J", Image: "img\x1b[31m", State: "running\x1b[1A"}}}}
	f.SetSource(checks.SourceDocker, checks.SourceState{Collected: true})
	rep := checks.Run(f, catalog.All(), checks.Selection{}, nil)
	out := filepath.Join(t.TempDir(), "b.tar.gz")
	if _, err := bundle.Write(context.Background(), out, bundle.Inputs{Facts: f, Report: rep}); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"check", "--from-bundle", out, "--all", "--allow-errors"}, {"doctor", "--from-bundle", out}} {
		_, stdout, stderr := runCheckCLI(t, args...)
		if strings.ContainsAny(stdout+stderr, "\x1b\x07") {
			t.Errorf("%s printed control characters: %q", args[0], stdout)
		}
		if !strings.Contains(stdout, "evil") {
			t.Errorf("%s lost the container: %q", args[0], stdout)
		}
	}
}
