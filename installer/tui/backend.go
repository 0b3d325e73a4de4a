// Package tui is the `calctl install` wizard: bubbletea models that gather
// contract.Answers with huh forms, show the plan, and draw the
// contract.Event stream of a run (DESIGN.md habit 5: the TUI only draws
// events).
//
// The package touches nothing outside the terminal. Every live check, the
// plan, the run and the saving of answers come in as callbacks in Backend,
// which installer/wizard fills with the real engine, gitsource and preflight.
// Tests pass in-memory backends: that is not a mock of a service, because
// the callbacks ARE this package's contract with the world.
package tui

import (
	"context"

	"github.com/calctl/calctl/installer/contract"
	"github.com/calctl/calctl/internal/secret"
)

// Backend is everything the wizard asks of the world. Each callback may be
// slow; the wizard calls it off the UI goroutine and cancels ctx when the
// user moves on or quits. A nil callback means "not available": the wizard
// says so and carries on.
type Backend struct {
	// ProbeSource checks that the repository (and, for submodule mode
	// resolve, its private submodules) can be read with token. It returns a
	// short description of what it reached, or an error with the reason.
	ProbeSource func(ctx context.Context, a *contract.Answers, token secret.Secret) (string, error)
	// ProbeDatabase connects to an external or RDS database with url (and
	// a.Database.CAFile) and reports the server version and TLS.
	ProbeDatabase func(ctx context.Context, a *contract.Answers, url secret.Secret) (DBInfo, error)
	// Preflight runs the host checks for a and reports each finding through
	// found as it is found. The error is for checks that could not run.
	Preflight func(ctx context.Context, a *contract.Answers, env contract.EnvSecrets, found func(contract.Finding)) error
	// Plan is the --dry-run of a: the steps and what each would change,
	// secrets masked.
	Plan func(ctx context.Context, a *contract.Answers, env contract.EnvSecrets) (Plan, error)
	// Run runs the install and reports every event to sink. It honours
	// ctx: cancelling it stops the running step.
	Run func(ctx context.Context, a *contract.Answers, env contract.EnvSecrets, sink contract.Sink) error
	// IgnorePreflight, when set, is told the preflight checks the user
	// chose to ignore on the Target screen: the backend's preflight and run
	// then report them as --ignore-preflight does.
	IgnorePreflight func(checks []string)
	// SaveAnswers writes a (which holds no secrets, only the names of the
	// environment variables that do) to path.
	SaveAnswers func(path string, a *contract.Answers) error
}

// DBInfo is what a database connection test learned.
type DBInfo struct {
	// Version is the server_version the server reported.
	Version string
	// TLS reports whether the connection is encrypted.
	TLS bool
}

// Plan is what the Review screen shows.
type Plan struct {
	// Steps are the plan's step names in order.
	Steps []string
	// Changes are the files and commands the run would change.
	Changes []contract.Change
	// Notes are other lines the dry run reported (skips, warnings).
	Notes []string
}

// Config starts a wizard.
type Config struct {
	// Answers are the starting values (flags, an answers file, or the
	// existing install); defaults are applied to a copy.
	Answers *contract.Answers
	// Env holds secrets already in the environment (CALCTL_GIT_TOKEN, ...).
	Env contract.EnvSecrets
	// TokenEnv is the variable the wizard offers for the git token.
	TokenEnv string
	// Existing is true when install_dir already holds an install: the
	// wizard offers upgrade/repair and never shows the kept secrets.
	Existing bool
	// Found says where the starting values came from when the wizard
	// found them in the install directory ("saved answers of the last
	// run", "a .env and docker-compose.yml made by calctl render"); the
	// Welcome screen says so. Empty: nothing was found.
	Found string
	// Kubeconfig is the kubeconfig target kubernetes uses when the answers
	// name none ($KUBECONFIG, then ~/.kube/config): the prefilled value.
	Kubeconfig string
	// DryRun makes the Run screen a dry run: nothing is written.
	DryRun bool
	// Plain draws without colour (NO_COLOR).
	Plain bool
	// Backend is the world.
	Backend Backend
}

// Outcome is how the wizard ended.
type Outcome int

// Outcomes.
const (
	// Quit means the user left before the run; nothing was changed.
	Quit Outcome = iota
	// Finished means the run ended successfully.
	Finished
	// Failed means the run failed and the user quit.
	Failed
	// Stopped means the user stopped the run with Ctrl+C.
	Stopped
	// Handoff means the wizard ends and the caller runs another command
	// on the terminal: calctl upgrade when Result.Upgrade is set (the
	// Welcome screen of an existing install), else calctl-kubernetes with
	// Result.Answers and Result.Env (the user confirmed the Review of
	// target kubernetes; the lean calctl links no kubernetes code).
	Handoff
)

// Result is what the wizard returns.
type Result struct {
	// Outcome is how the wizard ended.
	Outcome Outcome
	// Answers are the answers the wizard ended with.
	Answers *contract.Answers
	// Summary is the Summary screen as plain text, for printing after the
	// terminal is restored.
	Summary string
	// Err is the run's error when Outcome is Failed or Stopped.
	Err error
	// Check is what the install's final check step found (nil when it did
	// not run).
	Check *contract.CheckSummary
	// Env holds the secrets the wizard gathered, for a Handoff (the
	// answers name the variables they go in); empty otherwise.
	Env contract.EnvSecrets
	// Upgrade is the upgrade chosen on the Welcome screen, for a Handoff
	// to calctl upgrade; nil otherwise.
	Upgrade *UpgradeHandoff
}
