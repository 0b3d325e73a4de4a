package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calctl/calctl/installer/tui"
	"github.com/calctl/calctl/installer/wizard"
)

// TestWizardUpgradeHandoff: the upgrade chosen on the wizard's Welcome
// screen (tui.Handoff with Result.Upgrade; the choice itself is
// installer/tui's TestUpgradeHandoff) re-executes calctl as
// `upgrade --ref REF --dir DIR [--dry-run]` on the same streams, says first
// what it runs, and exits with the upgrade's code. calctl here is a STUB
// script put in through the selfExecutable test hook: it records its argv
// and exits 5, because the subject is what the wizard hands over (the
// upgrade itself is upgrade_test.go's).
func TestWizardUpgradeHandoff(t *testing.T) {
	rec := t.TempDir()
	stub := filepath.Join(t.TempDir(), "calctl")
	script := "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"" + filepath.Join(rec, "argv") + "\"\necho upgrading\nexit 5\n"
	if err := os.WriteFile(stub, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	old := selfExecutable
	selfExecutable = func() (string, error) { return stub, nil }
	t.Cleanup(func() { selfExecutable = old })

	u := &tui.UpgradeHandoff{Ref: "v5.9.0", Dir: "/opt/calcom"}
	for _, tc := range []struct {
		name   string
		dryRun bool
		want   string
	}{
		{"upgrade", false, "upgrade --ref v5.9.0 --dir /opt/calcom"},
		{"dry-run", true, "upgrade --ref v5.9.0 --dir /opt/calcom --dry-run"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			f := &Factory{IO: IO{In: os.Stdin, Out: &out, Err: &errb}, Getenv: os.Getenv}
			err := upgradeHandoff(context.Background(), f, u, wizardOptions{Options: wizard.Options{DryRun: tc.dryRun}})
			var ee *ExitError
			if !errors.As(err, &ee) || ee.Code != 5 {
				t.Fatalf("err = %v, want the upgrade's exit 5", err)
			}
			argv, err := os.ReadFile(filepath.Join(rec, "argv"))
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(strings.Fields(string(argv)), " "); got != tc.want {
				t.Errorf("calctl ran with %q, want %q", got, tc.want)
			}
			if line := "calctl: upgrading the install: calctl " + tc.want + "\n"; !strings.HasPrefix(errb.String(), line) {
				t.Errorf("stderr = %q, want first the line %q", errb.String(), line)
			}
			if out.String() != "upgrading\n" {
				t.Errorf("the upgrade's stdout did not reach the terminal's: %q", out.String())
			}
		})
	}
}
