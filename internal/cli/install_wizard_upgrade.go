package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"

	"github.com/calctl/calctl/installer/tui"
	"github.com/calctl/calctl/internal/shutdown"
)

// selfExecutable is the calctl the upgrade handoff re-executes
// (os.Executable); tests point it at a stub that records its arguments.
var selfExecutable = os.Executable

// upgradeHandoff runs the upgrade the wizard's Welcome screen gathered
// (tui.Handoff with Result.Upgrade): `calctl upgrade --ref REF --dir DIR`,
// plus --dry-run when the wizard was started with it, by re-executing this
// calctl on the same terminal. It says first what it runs, forwards
// SIGINT and SIGTERM, and exits with the upgrade's exit code.
func upgradeHandoff(ctx context.Context, f *Factory, u *tui.UpgradeHandoff, o wizardOptions) error {
	self, err := selfExecutable()
	if err != nil {
		return fmt.Errorf("run calctl upgrade: cannot find this calctl (%w); run it yourself: calctl upgrade --ref %s --dir %s", err, u.Ref, u.Dir)
	}
	args := []string{"upgrade", "--ref", u.Ref, "--dir", u.Dir}
	if o.DryRun {
		args = append(args, "--dry-run")
	}
	fmt.Fprintf(f.IO.Err, "calctl: upgrading the install: calctl %s\n", strings.Join(args, " "))
	cmd := exec.Command(self, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = f.IO.In, f.IO.Out, f.IO.Err
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("run %s upgrade: %w", self, err)
	}
	// calctl's exit after a signal waits for the child (as execKubernetes)
	defer shutdown.Hold()()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	ctxDone := ctx.Done()
	for {
		select {
		case sig := <-sigs:
			// the upgrade decides what an interrupt means (it rolls back)
			_ = cmd.Process.Signal(sig)
		case <-ctxDone:
			ctxDone = nil
			_ = cmd.Process.Signal(os.Interrupt)
		case err := <-done:
			var ee *exec.ExitError
			if err != nil && !errors.As(err, &ee) {
				return fmt.Errorf("calctl upgrade: %w", err)
			}
			return siblingExit(err)
		}
	}
}
