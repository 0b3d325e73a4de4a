package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/installer"
	"github.com/calctl/calctl/installer/contract"
	"github.com/calctl/calctl/templates"
	"github.com/spf13/cobra"
)

// answersFlags are the flags install and render share: where the answers
// come from and the overrides of single answers.
type answersFlags struct {
	File   string
	Set    []string
	Named  []*answerFlag // flags that override one answer each
	Output string
	DryRun bool
}

// answerFlag is a flag that overrides one answer. It records whether it
// was given, so applying it needs no *cobra.Command.
type answerFlag struct {
	key   string // the answer's key path, e.g. database.mode
	value string
	given bool
	enum  *enumValue // restricts the value when the answer is an enum
}

func (f *answerFlag) String() string { return f.value }
func (f *answerFlag) Type() string   { return "string" }

func (f *answerFlag) Set(v string) error {
	if f.enum != nil {
		if err := f.enum.Set(v); err != nil {
			return err
		}
	} else {
		f.value = v
	}
	f.given = true
	return nil
}

func (af *answersFlags) bind(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&af.File, "answers", "", "answers file (YAML; see --print-answers and docs/answers.md)")
	fl.StringArrayVar(&af.Set, "set", nil, "override one answer: KEY.PATH=VALUE (repeatable; lists comma-separated)")
	enumFlag(cmd, &af.Output, "output", "o", "text", textOrJSON, "event output, text to stderr or JSON lines to stdout")
	fl.BoolVar(&af.DryRun, "dry-run", false, "print what would change (diffs with secrets masked) and change nothing")
	af.Named = nil
	for _, n := range []struct {
		flag, key, help string
		options         []string
	}{
		{"install-dir", "install_dir", "directory for the configuration and the clone", nil},
		{"public-url", "public_url", "URL users open, e.g. https://cal.example.com", nil},
		{"target", "target", "process manager", contract.Targets},
		{"database", "database.mode", "where Postgres runs", contract.DatabaseModes},
		{"proxy", "proxy", "TLS proxy", contract.Proxies},
		{"source-url", "source.url", "git URL of the Cal.com monorepo", nil},
		{"ref", "source.ref", "branch, tag or commit to check out", nil},
		{"submodules", "source.submodules", "what to do with submodules", contract.SubmoduleModes},
	} {
		f := &answerFlag{key: n.key}
		help := n.help + " (answer " + n.key + ")"
		if n.options != nil {
			f.enum = &enumValue{p: &f.value, options: n.options}
			help += ": " + enumList(n.options)
		}
		fl.Var(f, n.flag, help)
		if n.options != nil {
			_ = cmd.RegisterFlagCompletionFunc(n.flag, cobra.FixedCompletions(n.options, cobra.ShellCompDirectiveNoFileComp))
		}
		af.Named = append(af.Named, f)
	}
}

// answers reads the answers file and applies the flags and --set, without
// defaults or validation: the wizard starts from them as they are.
func (af *answersFlags) answers() (*contract.Answers, error) {
	a := &contract.Answers{}
	if af.File != "" {
		var err error
		if a, err = contract.LoadAnswersFile(af.File); err != nil {
			return nil, answersErr(err)
		}
	}
	for _, f := range af.Named {
		if f.given {
			if err := a.Set(f.key, f.value); err != nil {
				return nil, answersErr(err)
			}
		}
	}
	for _, kv := range af.Set {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, usageErrorf("--set %q: want KEY.PATH=VALUE", kv)
		}
		if err := a.Set(k, v); err != nil {
			return nil, answersErr(err)
		}
	}
	return a, nil
}

// load reads the answers file, applies flags and --set, defaults and
// validation, then the secrets from the environment. Nothing on disk is
// touched before this succeeds.
func (af *answersFlags) load(getenv func(string) string) (*contract.Answers, contract.EnvSecrets, error) {
	a, err := af.answers()
	if err != nil {
		return nil, contract.EnvSecrets{}, err
	}
	if err := a.Finish(); err != nil {
		return nil, contract.EnvSecrets{}, answersErr(err)
	}
	env, err := a.ResolveEnv(getenv)
	if err != nil {
		return nil, contract.EnvSecrets{}, answersErr(err)
	}
	return a, env, nil
}

// answersErr turns bad answers into a usage error (exit 2).
func answersErr(err error) error {
	var ae *contract.AnswersError
	if errors.As(err, &ae) || errors.Is(err, fs.ErrNotExist) {
		return usageError{err}
	}
	return err
}

func (af *answersFlags) sink(io IO) contract.Sink {
	if af.Output == "json" {
		return contract.JSONView(io.Out)
	}
	return contract.TextView(io.Err)
}

type installOptions struct {
	IO              IO
	Getenv          func(string) string
	Answers         answersFlags
	NonInteractive  bool
	PrintAnswers    bool
	Resume          bool
	Accessible      bool
	IgnorePreflight []string
	// FailOn is the lowest severity of an unwaived check FAIL that makes the
	// install exit 3 ("none": never).
	FailOn string
	// Sink, when set, receives events too (tests).
	Sink contract.Sink
}

func newInstallCmd(f *Factory) *cobra.Command {
	opts := &installOptions{IO: f.IO, Getenv: f.Getenv}
	cmd := &cobra.Command{
		Use:   "install",
		Short: "Install Cal.com: preflight, clone, secrets, render, start, migrate, seed, verify, check",
		Long: `On a terminal, install starts the install wizard (the default): it asks for
the answers, checks them live, shows the plan and runs it. Without a terminal
on stdin and stderr it refuses, unless --non-interactive is given.

With --non-interactive, install runs the whole install from an answers file and flags: preflight checks,
clone of the Cal.com monorepo, rendering of docker-compose or pm2 configuration,
secrets (generated once and kept), start, database migrations, verification and
the usage agent. Every step is idempotent: re-running changes only what differs.

Secrets never go in the answers file; keys ending in _env name the environment
variable that holds them.`,
		Example: `  calctl install --print-answers > answers.yaml
  calctl install --non-interactive --answers answers.yaml --dry-run
  CALCTL_GIT_TOKEN=... calctl install --non-interactive --answers answers.yaml -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runInstall(cmd.Context(), opts)
		},
	}
	opts.Answers.bind(cmd)
	cmd.Flags().BoolVar(&opts.NonInteractive, "non-interactive", false, "run from the answers file and flags, without the wizard")
	cmd.Flags().BoolVar(&opts.PrintAnswers, "print-answers", false, "print a commented answers template and exit")
	cmd.Flags().BoolVar(&opts.Resume, "resume", false, "continue a failed or stopped install from the answers it saved in the install directory")
	cmd.Flags().BoolVar(&opts.Accessible, "accessible", false, "wizard only: plain prompts for screen readers (also CALCTL_ACCESSIBLE=1)")
	cmd.Flags().StringSliceVar(&opts.IgnorePreflight, "ignore-preflight", nil, "preflight checks to report as warnings instead of errors (NAME,...; 'all' for every check)")
	cmd.Flags().StringVar(&opts.FailOn, "fail-on", "none", "exit 3 after the install when the final hardening checks find an unwaived FAIL at or above this severity (critical, high, medium, low; none: never)")
	return cmd
}

func runInstall(ctx context.Context, opts *installOptions) error {
	if opts.PrintAnswers {
		b, err := fs.ReadFile(templates.FS(), "install/answers.yaml")
		if err != nil {
			return err
		}
		_, err = opts.IO.Out.Write(b)
		return err
	}
	if opts.Resume {
		if err := resumeAnswers(&opts.Answers, opts.Getenv, opts.IO.Err); err != nil {
			return err
		}
	}
	if !opts.NonInteractive {
		// the wizard (install_wizard.go) is a face on the same engine; it
		// refuses to start without a terminal on stdin and stderr, and
		// points to --non-interactive --answers (docs/wizard.md): a piped
		// `calctl install 2>&1 | tee log` never installs on defaults
		return installWizard(ctx, opts)
	}
	if err := validFailOn(opts.FailOn); err != nil {
		return err
	}
	a, env, err := opts.Answers.load(opts.Getenv)
	if err != nil {
		return err
	}
	plan := installer.InstallPlan(a)
	if a.Target == contract.TargetKubernetes {
		if Kube == nil || Kube.InstallPlan == nil {
			return runKubernetesSibling(ctx, opts.IO)
		}
		plan = Kube.InstallPlan()
	}
	s := &installer.State{Answers: a, Env: env, Getenv: opts.Getenv, DryRun: opts.Answers.DryRun,
		Stdout: opts.IO.Err, Stderr: opts.IO.Err, IgnorePreflight: opts.IgnorePreflight, FailOn: opts.FailOn}
	rec := startRecord(a, env, opts.Answers.DryRun, opts.Getenv, opts.IO.Err)
	e := &installer.Engine{Sink: contract.Tee(opts.Answers.sink(opts.IO), opts.Sink, rec.sink())}
	err = runEngine(ctx, e, plan, s)
	if log := rec.finish(err, ctx.Err() != nil); log != "" {
		fmt.Fprintf(opts.IO.Err, "calctl: log of this run: %s (its answers are kept next to it: calctl install --resume --install-dir %s)\n", log, a.InstallDir)
	}
	if err != nil {
		return err
	}
	return installCheckExit(s.Check)
}

func validFailOn(v string) error {
	if v == "none" || v == "" {
		return nil
	}
	if _, err := checks.ParseSeverity(v); err != nil {
		return usageErrorf("--fail-on: %v (or none)", err)
	}
	return nil
}

// installCheckExit decides the install's exit code from its check step:
// 3 when --fail-on is set and an unwaived FAIL is at or above it.
func installCheckExit(c *contract.CheckSummary) error {
	if c == nil || c.FailOn == "none" || c.AtOrAbove == 0 {
		return nil
	}
	first := ""
	if len(c.Top) > 0 {
		first = fmt.Sprintf(" (first: %s %s)", c.Top[0].ID, c.Top[0].Resource)
	}
	return &ExitError{Code: ExitFindings, Err: fmt.Errorf("Cal.com is installed, but the hardening checks found %d unwaived finding(s) at or above %s%s; see %s",
		c.AtOrAbove, c.FailOn, first, c.Command)}
}

func runEngine(ctx context.Context, e *installer.Engine, plan []installer.Step, s *installer.State) error {
	if err := e.Run(ctx, plan, s); err != nil {
		if ctx.Err() != nil {
			return err
		}
		// the engine already reported the failure and its remedy as events:
		// repeat only the headline
		var sf *contract.StepFailure
		if errors.As(err, &sf) {
			headline, _, _ := strings.Cut(sf.Err.Error(), "\n")
			return &ExitError{Code: ExitFailure, Err: fmt.Errorf("step %s failed: %s", sf.Step, headline)}
		}
		return &ExitError{Code: ExitFailure, Err: err}
	}
	return nil
}

func absPath(p string) (string, error) { return filepath.Abs(p) }
