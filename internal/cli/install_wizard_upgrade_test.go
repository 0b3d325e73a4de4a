package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calctl/calctl/installer/contract"
	"github.com/calctl/calctl/installer/home"
	"github.com/calctl/calctl/installer/tui"
	"github.com/calctl/calctl/installer/wizard"
	"github.com/calctl/calctl/internal/testenv"
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

// savedV58Install is an install directory holding only the answers a
// compose install of v5.8.0 saved: what the Welcome screen offers the
// upgrade on.
func savedV58Install(t *testing.T) string {
	t.Helper()
	installDir := filepath.Join(t.TempDir(), "calcom")
	a := &contract.Answers{InstallDir: installDir, Target: contract.TargetCompose}
	a.Source.URL, a.Source.Ref = "https://github.com/calcom/cal.com.git", "v5.8.0"
	a.PublicURL = "https://cal.example.com"
	if err := home.SaveAnswers(installDir, a); err != nil {
		t.Fatal(err)
	}
	return installDir
}

// TestInstallWizardUpgradeInTmux drives the real calctl binary on a real
// terminal (tmux) over an install directory that holds saved answers: the
// Welcome screen offers the upgrade, and choosing it with --dry-run leaves
// the wizard and re-executes the same binary as `calctl upgrade --ref REF
// --dir DIR --dry-run` on the terminal (no stub: the real upgrade command
// runs; its dry run writes nothing).
func TestInstallWizardUpgradeInTmux(t *testing.T) {
	installDir := savedV58Install(t)
	before := testenv.TreeHash(t, installDir)
	bin := buildWizardBinary(t)
	env := []string{"HOME=" + t.TempDir(), "CALCTL_INSTALLS_FILE=" + filepath.Join(t.TempDir(), "installs.json"), "TERM=xterm-256color", "NO_COLOR=1", "PATH=" + os.Getenv("PATH")}
	tm := startTmux(t, 60, 15, env, bin, "install", "--dry-run", "--install-dir", installDir)
	tm.waitFor("1/8 Welcome", "Found there", "Change settings and re-run the install", "Upgrade this install to another Cal.com version")
	tm.snap("upgrade-offer")
	tm.noColor()
	tm.keys("Down", "Enter")
	tm.waitFor("Upgrade to ref", "now: v5.8.0")
	tm.keys("C-u")
	tm.typeText("v5.9.0")
	tm.snap("upgrade-ref")
	tm.keys("Enter")
	tm.waitFor("verified backup", "--dry-run")
	tm.snap("upgrade-confirm")
	tm.keys("Enter")
	tm.waitFor("EXIT=")
	// the whole scrollback, wrapped lines joined: the upgrade's output is
	// longer than the 15 lines on screen
	s := tm.run("capture-pane", "-p", "-J", "-S", "-", "-t", tm.name)
	line := "calctl: upgrading the install: calctl upgrade --ref v5.9.0 --dir " + installDir + " --dry-run\n"
	i := strings.Index(s, line)
	if i < 0 {
		t.Fatalf("calctl did not say %q; the terminal shows:\n%s", line, s)
	}
	// what follows is the real upgrade's dry run, to its end
	if rest := s[i+len(line):]; !strings.Contains(rest, "nothing was written") || !strings.Contains(rest, "EXIT=0") || strings.Contains(rest, "1/8 Welcome") {
		t.Errorf("after the handoff the terminal shows:\n%s", rest)
	}
	if after := testenv.TreeHash(t, installDir); after != before {
		t.Errorf("the dry-run upgrade changed the install directory")
	}
}

// TestInstallWizardUpgradeAccessibleInTmux: the accessible prompts offer
// the same upgrade on an existing install, with both choices numbered and
// the default stated, and hand off to the real `calctl upgrade --dry-run`.
func TestInstallWizardUpgradeAccessibleInTmux(t *testing.T) {
	installDir := savedV58Install(t)
	before := testenv.TreeHash(t, installDir)
	bin := buildWizardBinary(t)
	env := []string{"HOME=" + t.TempDir(), "CALCTL_INSTALLS_FILE=" + filepath.Join(t.TempDir(), "installs.json"), "TERM=xterm-256color", "CALCTL_ACCESSIBLE=1", "PATH=" + os.Getenv("PATH")}
	tm := startTmux(t, 100, 30, env, bin, "install", "--dry-run", "--install-dir", installDir)
	line := func(s string) { tm.typeText(s); tm.keys("Enter") }
	tm.waitFor("1. Change settings and re-run the install", "2. Upgrade this install to another Cal.com version", "Enter a number between 1 and 2 [1]:")
	line("2")
	tm.waitFor("now v5.8.0) [v5.8.0]:")
	line("v5 9")
	tm.waitFor("✗ a ref has no spaces")
	line("v5.9.0")
	tm.waitFor("Runs: calctl upgrade --ref v5.9.0 --dir ", "Start the upgrade now? [y/N]:")
	// the terminal wraps the long line: read it joined
	if j := tm.run("capture-pane", "-p", "-J", "-t", tm.name); !strings.Contains(j, "Runs: calctl upgrade --ref v5.9.0 --dir "+installDir+" --dry-run\n") {
		t.Errorf("the prompts do not say what runs:\n%s", j)
	}
	tm.snap("accessible-upgrade")
	line("y")
	tm.waitFor("EXIT=")
	s := tm.run("capture-pane", "-p", "-J", "-S", "-", "-t", tm.name)
	if !strings.Contains(s, "calctl: upgrading the install: calctl upgrade --ref v5.9.0 --dir "+installDir+" --dry-run") || !strings.Contains(s, "EXIT=0") {
		t.Errorf("the accessible upgrade did not hand off to calctl upgrade:\n%s", s)
	}
	if after := testenv.TreeHash(t, installDir); after != before {
		t.Errorf("the dry-run upgrade changed the install directory")
	}
}
