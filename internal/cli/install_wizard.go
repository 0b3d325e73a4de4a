package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"

	"github.com/calctl/calctl/installer/contract"
	"github.com/calctl/calctl/installer/tui"
	"github.com/calctl/calctl/installer/wizard"
	"github.com/charmbracelet/x/term"
)

// wizardOptions are the install flags the wizard honours.
type wizardOptions struct {
	wizard.Options
	// Accessible runs huh's accessible prompts instead of the full screen.
	Accessible bool
}

// installWizard is `calctl install` on a terminal without --non-interactive:
// it reads the answers file and flags as starting values (not validated
// yet: the wizard asks for what is missing) and runs the wizard.
func installWizard(ctx context.Context, opts *installOptions) error {
	base, err := opts.Answers.answers()
	if err != nil {
		return err
	}
	if err := validFailOn(opts.FailOn); err != nil {
		return err
	}
	wo := wizardOptions{Options: wizard.Options{DryRun: opts.Answers.DryRun, IgnorePreflight: opts.IgnorePreflight, FailOn: opts.FailOn}, Accessible: opts.Accessible}
	f := &Factory{IO: opts.IO, Getenv: opts.Getenv}
	return runWizard(ctx, f, base, wo)
}

// runInstallWizard runs the install wizard with base as its starting
// values; see runWizard.
func runInstallWizard(ctx context.Context, f *Factory, base *contract.Answers, dryRun bool) error {
	return runWizard(ctx, f, base, wizardOptions{Options: wizard.Options{DryRun: dryRun}})
}

// runWizard runs the wizard on the terminal, wired to the real engine,
// gitsource and preflight. Without a terminal on stdin and stderr it never
// starts. CALCTL_ACCESSIBLE=1 (or --accessible) runs huh's accessible
// prompts instead of the full-screen view; NO_COLOR turns colour off.
func runWizard(ctx context.Context, f *Factory, base *contract.Answers, o wizardOptions) error {
	in, inTTY := f.IO.In.(*os.File)
	if !f.IO.IsTerminal || !inTTY || !isTerminal(in) {
		which := "stdin"
		if !f.IO.IsTerminal {
			which = "stderr"
		}
		return usageErrorf("the install wizard needs a terminal, and %s is not one; nothing was changed. To install unattended: calctl install --non-interactive --answers FILE (start from `calctl install --print-answers > FILE`)", which)
	}
	getenv := f.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	if v := getenv("CALCTL_ACCESSIBLE"); v != "" && v != "0" && v != "false" || getenv("TERM") == "dumb" {
		o.Accessible = true // a dumb terminal cannot redraw either
	}
	base, existing, found, renderedEnv := wizard.Start(ctx, base)
	env := wizard.Env(base, getenv)
	// secrets the environment does not give come from the install's .env
	env.DatabaseURL = cmp.Or(env.DatabaseURL, renderedEnv.DatabaseURL)
	env.SMTPPassword = cmp.Or(env.SMTPPassword, renderedEnv.SMTPPassword)
	cfg := tui.Config{
		Answers:    base,
		Env:        env,
		TokenEnv:   cmp.Or(base.Source.TokenEnv, wizard.GitTokenEnv),
		Existing:   existing,
		Found:      found,
		DryRun:     o.DryRun,
		Kubeconfig: defaultKubeconfig(getenv),
		Plain:      getenv("NO_COLOR") != "",
		Backend:    wizard.Backend(getenv, o.Options),
	}
	// every real run is kept in the install directory: answers from the
	// first run on, a masked log, the last run's state (installer/home)
	var lastLog string
	run := cfg.Backend.Run
	cfg.Backend.Run = func(ctx context.Context, a *contract.Answers, env contract.EnvSecrets, sink contract.Sink) error {
		rec := startRecord(a, env, o.DryRun, getenv, io.Discard)
		err := run(ctx, a, env, contract.Tee(sink, rec.sink()))
		lastLog = rec.finish(err, ctx.Err() != nil)
		return err
	}
	var res tui.Result
	var err error
	if o.Accessible {
		res, err = runAccessible(ctx, cfg, in, f.IO.Err)
	} else {
		res, err = tui.Run(ctx, cfg, in, f.IO.Err)
	}
	if err != nil {
		return err
	}
	if res.Outcome == tui.Handoff && res.Upgrade != nil {
		return upgradeHandoff(ctx, f, res.Upgrade, o)
	}
	if res.Outcome == tui.Handoff {
		return kubeHandoff(ctx, f, res, o, getenv)
	}
	if res.Summary != "" && !o.Accessible {
		fmt.Fprint(f.IO.Err, res.Summary)
	}
	if lastLog != "" {
		fmt.Fprintf(f.IO.Err, "calctl: log of this run: %s (its answers are kept next to it)\n", lastLog)
	}
	switch res.Outcome {
	case tui.Finished:
		return installCheckExit(res.Check)
	case tui.Failed:
		return &ExitError{Code: ExitFailure, Err: res.Err}
	case tui.Stopped:
		return &ExitError{Code: ExitInterrupted, Err: fmt.Errorf("install stopped; finished steps stay: calctl install --resume --install-dir %s goes on", res.Answers.InstallDir)}
	}
	return &ExitError{Code: ExitInterrupted, Err: errors.New("install wizard left; nothing was changed")}
}

// runAccessible runs the accessible prompts. They read the terminal in
// cooked mode, where Ctrl+C is a signal that cancels ctx but cannot end a
// read that is waiting for a line: so when ctx ends while a prompt waits,
// the terminal's state is restored (a password prompt turns echo off) and
// the wizard is left at once; while the engine runs, ctx stops it and the
// run ends as it does everywhere else.
func runAccessible(ctx context.Context, cfg tui.Config, in *os.File, out io.Writer) (tui.Result, error) {
	var running atomic.Bool
	run := cfg.Backend.Run
	cfg.Backend.Run = func(ctx context.Context, a *contract.Answers, env contract.EnvSecrets, sink contract.Sink) error {
		running.Store(true)
		return run(ctx, a, env, sink)
	}
	saved, _ := term.GetState(in.Fd())
	type ended struct {
		res tui.Result
		err error
	}
	done := make(chan ended, 1)
	go func() {
		res, err := tui.RunAccessible(ctx, cfg, in, out)
		done <- ended{res, err}
	}()
	select {
	case e := <-done:
		return e.res, e.err
	case <-ctx.Done():
		if running.Load() {
			e := <-done
			return e.res, e.err
		}
		if saved != nil {
			_ = term.Restore(in.Fd(), saved)
		}
		fmt.Fprintln(out)
		return tui.Result{Outcome: tui.Quit}, nil
	}
}
