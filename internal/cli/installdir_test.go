package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calctl/calctl/installer/home"
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
