// Package home makes the install directory the home of an install: the
// answers of every run (never a secret), a masked, timestamped log of every
// run, the state of the last run, and the list of installs on this host
// that every command falls back to when not told which install
// (internal/cli's locateInstall). It also reads what
// `calctl render` left in a directory (.env, docker-compose.yml) back into
// answers, so the wizard can start from it.
package home

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/calctl/calctl/installer/contract"
	"github.com/calctl/calctl/internal/atomicfile"
	"gopkg.in/yaml.v3"
)

// Files in the install directory.
const (
	// AnswersFile holds the answers of the last run, without secrets.
	AnswersFile = "calctl-answers.yaml"
	// LastRunFile is the state of the last run (LastRun as JSON).
	LastRunFile = "calctl-last-run.json"
	// LogDir holds one log per run, install-YYYYmmdd-HHMMSS.log.
	LogDir = "logs"
)

// SaveAnswers writes a (which holds only the names of the variables with
// the secrets, never a secret) to dir/calctl-answers.yaml, atomically, 0600.
func SaveAnswers(dir string, a *contract.Answers) error {
	return WriteAnswers(filepath.Join(dir, AnswersFile), a)
}

// WriteAnswers writes a as YAML to p, with a head saying which variables
// to export and how to re-run unattended.
func WriteAnswers(p string, a *contract.Answers) error {
	if !filepath.IsAbs(p) {
		abs, err := filepath.Abs(p)
		if err != nil {
			return err
		}
		p = abs
	}
	b, err := yaml.Marshal(a)
	if err != nil {
		return err
	}
	var names []string
	for _, n := range []string{a.Source.TokenEnv, a.Database.URLEnv, a.Email.PasswordEnv, a.Billing.TokenEnv, a.Billing.SigningSecretEnv} {
		if n != "" && !(n == a.Database.URLEnv && a.Database.Mode == contract.DBBundled) {
			names = append(names, n)
		}
	}
	head := "# calctl install answers, saved by calctl install. No secrets are kept here.\n"
	if len(names) > 0 {
		head += "# Export " + strings.Join(names, ", ") + " before:\n"
	}
	head += "#   calctl install --non-interactive --answers " + p + "\n"
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("save answers: %w", err)
	}
	if err := atomicfile.WriteFile(p, append([]byte(head), b...), 0o600); err != nil {
		return fmt.Errorf("save answers: %w", err)
	}
	return nil
}

// LoadAnswers reads dir/calctl-answers.yaml.
func LoadAnswers(dir string) (*contract.Answers, error) {
	return contract.LoadAnswersFile(filepath.Join(dir, AnswersFile))
}

// Outcome of a run.
const (
	OutcomeFinished = "finished"
	OutcomeFailed   = "failed"
	OutcomeStopped  = "stopped"
)

// LastRun is what the last install run in a directory did.
type LastRun struct {
	// Started is when the run began (UTC; OpenRunLog).
	Started time.Time `json:"started"`
	// Ended is when the run ended and its log was closed (UTC; RunLog.Close).
	Ended time.Time `json:"ended"`
	// DryRun is the dryRun flag given to OpenRunLog; calctl install records no
	// dry run, so it is false in every file calctl writes today.
	DryRun bool `json:"dry_run,omitempty"`
	// Outcome is how the run ended: finished, failed or stopped (the Outcome
	// constants; stopped when the user stopped it).
	Outcome string `json:"outcome"`
	// Step is the name of the step that failed (its step-fail event); empty
	// when no step failed.
	Step string `json:"failed_step,omitempty"`
	// Error is the failure with the run's secrets and URL passwords masked:
	// the failed step's error, else the run's own; empty when no step
	// failed and the run returned no error.
	Error string `json:"error,omitempty"`
	// Log is the path of the run's log, <install
	// dir>/logs/install-YYYYmmdd-HHMMSS.log once Settle moved it there; while
	// the install directory does not exist it points into the pending
	// directory (PendingDir).
	Log string `json:"log,omitempty"`
	// Finished are the names of the steps that completed, in the order they
	// did (step-done events); skipped steps are not listed.
	Finished []string `json:"finished_steps,omitempty"`
	// Version (calctl_version) is meant for the calctl version that ran;
	// nothing sets it yet, so it is empty in every file calctl writes today.
	Version string `json:"calctl_version,omitempty"`
	// Check is what the run's final hardening check found (nil when it
	// did not run); calctl status shows its open findings.
	Check *contract.CheckSummary `json:"check,omitempty"`
}

// SaveLastRun writes r to dir/calctl-last-run.json (0600; the error text
// is masked by the caller's log).
func SaveLastRun(dir string, r LastRun) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dir, LastRunFile), append(b, '\n'), 0o600)
}

// LoadLastRun reads dir/calctl-last-run.json; fs.ErrNotExist when no run
// was recorded.
func LoadLastRun(dir string) (LastRun, error) {
	var r LastRun
	b, err := os.ReadFile(filepath.Join(dir, LastRunFile))
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("%s: %w", filepath.Join(dir, LastRunFile), err)
	}
	return r, nil
}

// IsInstall reports whether dir holds an install calctl made or rendered:
// its saved answers, or a .env next to a docker-compose.yml or pm2
// ecosystem file.
func IsInstall(dir string) bool {
	if exists(filepath.Join(dir, AnswersFile)) {
		return true
	}
	if !exists(filepath.Join(dir, ".env")) {
		return false
	}
	for _, f := range []string{"docker-compose.yml", "compose.yml", "ecosystem.config.js", "ecosystem.config.cjs"} {
		if exists(filepath.Join(dir, f)) {
			return true
		}
	}
	return false
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil || !errors.Is(err, fs.ErrNotExist)
}
