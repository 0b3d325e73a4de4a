// Package cli holds calctl's cobra commands: one file per command, each an
// options struct, a constructor that binds flags to it, and a run function
// that tests call directly. Errors become exit codes in one place, Main.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/calctl/calctl/internal/redact"
	"github.com/spf13/cobra"
)

// Exit codes. They are part of calctl's interface: scripts depend on them.
const (
	// ExitOK means success.
	ExitOK = 0
	// ExitFailure means calctl itself failed or was misused.
	ExitFailure = 1
	// ExitUsage means the command line was wrong.
	ExitUsage = 2
	// ExitFindings means a check found problems at or above --fail-on.
	ExitFindings = 3
	// ExitIncomplete means the audit did not run in full: a selected check
	// is ERROR (its collector failed) and --allow-errors was not given.
	ExitIncomplete = 4
	// ExitInterrupted means calctl was stopped by a signal.
	ExitInterrupted = 130
)

// IO is where a command reads and writes: data to Out, talk to Err.
type IO struct {
	// In is standard input (the wizard reads the terminal through it).
	In io.Reader
	// Out receives data: reports, JSON, the printed answers.
	Out io.Writer
	// Err receives talk: progress, events, warnings and errors.
	Err io.Writer
	// IsTerminal reports whether Err is a terminal (live progress lines).
	IsTerminal bool
}

// Factory carries what every command needs; tests build their own.
type Factory struct {
	// IO is where commands read and write.
	IO IO
	// Getenv reads the environment (tests pass their own).
	Getenv func(string) string
}

func (f *Factory) getenv(k string) string {
	if f == nil || f.Getenv == nil {
		return ""
	}
	return f.Getenv(k)
}

// DefaultFactory uses the process's stdin, stdout, stderr and environment.
func DefaultFactory() *Factory {
	return &Factory{
		IO:     IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, IsTerminal: isTerminal(os.Stderr)},
		Getenv: os.Getenv,
	}
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// ExitError is an error that carries its own exit code.
type ExitError struct {
	// Code is the process exit code (one of the Exit* constants).
	Code int
	// Err is printed as calctl's last line; nil prints nothing.
	Err error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// usageError marks a command-line mistake.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usageErrorf returns an error that exits with ExitUsage.
func usageErrorf(format string, a ...any) error {
	return usageError{fmt.Errorf(format, a...)}
}

// Main runs calctl with args and returns the process exit code.
func Main(ctx context.Context, args []string) int {
	f := DefaultFactory()
	defer exitAfterGrace(ctx, f.IO.Err, InterruptGrace, osExit)()
	return Run(ctx, f, args)
}

// Run runs calctl with a given factory; it is Main for tests.
func Run(ctx context.Context, f *Factory, args []string) int {
	root := NewRootCmd(f)
	root.SetArgs(args)
	err := root.ExecuteContext(withArgs(ctx, args)) // withArgs: for a re-execution of calctl-kubernetes (plugin.go)
	return exitCode(ctx, f, err)
}

// exitCode is the one place where errors become exit codes and a one-line
// message on stderr. The message loses any URL credentials on the way
// (internal/redact), whatever produced it.
func exitCode(ctx context.Context, f *Factory, err error) int {
	if err == nil {
		return ExitOK
	}
	say := func(err error) { fmt.Fprintf(f.IO.Err, "calctl: %s\n", redact.String(err.Error())) }
	var ee *ExitError
	var ue usageError
	switch {
	case errors.As(err, &ee):
		if ee.Err != nil {
			say(ee.Err)
		}
		return ee.Code
	case errors.As(err, &ue), strings.HasPrefix(err.Error(), "unknown command "), strings.HasPrefix(err.Error(), "unknown shorthand flag"):
		say(err)
		return ExitUsage
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		fmt.Fprintln(f.IO.Err, "calctl: interrupted")
		return ExitInterrupted
	default:
		say(err)
		return ExitFailure
	}
}

// NewRootCmd builds the calctl command tree.
func NewRootCmd(f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "calctl",
		Short: "Install, check and report on a self-hosted Cal.com",
		Long: `calctl installs Cal.com on your own infrastructure (docker-compose or pm2,
bundled Postgres, an external one or AWS RDS), checks the install against
HIPAA-relevant hardening rules, collects redacted support bundles, and
reports booking usage for the Infrastructure Plan.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.Err)
	root.SetIn(f.IO.In)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w (see '%s --help')", err, c.CommandPath())}
	})
	root.AddCommand(
		newVersionCmd(f),
		newCompletionCmd(f),
		newCloneCmd(f),
		newInstallCmd(f), newRenderCmd(f),
		newCheckCmd(f), newDoctorCmd(f), newBundleCmd(f), newVerifyCmd(f),
		newReportCmd(f), newAgentCmd(f), newCronCmd(f),
		newBackupCmd(f), newRestoreCmd(f), newUpgradeCmd(f),
		newStatusCmd(f), newLogsCmd(f), newUninstallCmd(f), newManCmd(f),
	)
	addDay2Conveniences(root)
	return root
}
