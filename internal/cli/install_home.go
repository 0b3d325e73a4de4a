package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/calctl/calctl/installer/contract"
	"github.com/calctl/calctl/installer/home"
)

// runRecord keeps a run in the install directory (installer/home): the
// answers before the run starts (so a failed or stopped run is never
// retyped), a masked log of every event, the last run's state, and the
// install in this host's list. Dry runs write nothing.
type runRecord struct {
	dir     string // the install directory
	pending string // where answers and log are kept until dir exists
	log     *home.RunLog
	getenv  func(string) string
	warn    io.Writer
}

// startRecord begins the record of a real run of a; on a dry run it
// returns nil (whose methods do nothing). The answers and the log start in
// the pending directory (home.PendingDir) and move into the install
// directory when the run ends and the directory exists, so a run that
// fails before creating it still changes nothing there. Failing to keep
// the record warns and never stops the install.
func startRecord(a *contract.Answers, env contract.EnvSecrets, dryRun bool, getenv func(string) string, warn io.Writer) *runRecord {
	if dryRun || a == nil || a.InstallDir == "" {
		return nil
	}
	r := &runRecord{dir: a.InstallDir, pending: home.PendingDir(getenv, a.InstallDir), getenv: getenv, warn: warn}
	if err := home.SaveAnswers(r.pending, a); err != nil {
		fmt.Fprintf(warn, "calctl: could not keep the answers for the next run: %v\n", err)
	}
	l, err := home.OpenRunLog(r.pending, time.Now(), false, env.GitToken.Reveal(), env.DatabaseURL.Reveal(), env.SMTPPassword.Reveal(),
		env.BillingToken.Reveal(), env.SigningSecret.Reveal(), env.LicenseKey.Reveal())
	if err != nil {
		fmt.Fprintf(warn, "calctl: no install log: %v\n", err)
		return r
	}
	r.log = l
	return r
}

// sink is the log's event sink (nil without a log).
func (r *runRecord) sink() contract.Sink {
	if r == nil || r.log == nil {
		return nil
	}
	return r.log.Sink()
}

// finish closes the log with the outcome, moves answers and log into the
// install directory when it exists, records the install for this host,
// and returns the log's path ("" without one).
func (r *runRecord) finish(err error, stopped bool) string {
	if r == nil {
		return ""
	}
	outcome := home.OutcomeFinished
	switch {
	case err != nil && stopped:
		outcome = home.OutcomeStopped
	case err != nil:
		outcome = home.OutcomeFailed
	}
	if r.log != nil {
		if _, cerr := r.log.Close(r.pending, err, stopped); cerr != nil {
			fmt.Fprintf(r.warn, "calctl: install log: %v\n", cerr)
		}
	}
	where, serr := home.Settle(r.pending, r.dir)
	if serr != nil {
		fmt.Fprintf(r.warn, "calctl: moving the answers and log into %s: %v\n", r.dir, serr)
	}
	if rerr := home.Record(r.getenv, r.dir, outcome, time.Now()); rerr != nil {
		fmt.Fprintf(r.warn, "calctl: could not record the install for this host (%s): %v\n", home.InstallsFile(r.getenv), rerr)
	}
	if r.log == nil {
		return ""
	}
	return filepath.Join(where, home.LogDir, filepath.Base(r.log.Path))
}

// resumeAnswers is `install --resume`: the answers the last run saved in
// the install directory (--install-dir, else what locateInstall finds:
// $CALCTL_INSTALL_DIR, the current directory, the install recorded for
// this host). It says what it resumes.
func resumeAnswers(af *answersFlags, getenv func(string) string, out io.Writer) error {
	if af.File != "" {
		return usageErrorf("--resume reads the answers saved in the install directory; leave out --answers")
	}
	dir := ""
	for _, f := range af.Named {
		if f.key == "install_dir" && f.given {
			dir = f.value
		}
	}
	// a recorded run that failed before creating its directory kept its
	// answers in the pending directory: that is an install to resume
	at, err := locateInstall(getenv, "--install-dir DIR", dir, func(d string) bool { return home.SavedAnswers(getenv, d) != "" })
	if err != nil {
		return err
	}
	dir, why := at.Dir, at.Why
	p := home.SavedAnswers(getenv, dir)
	if p == "" {
		return usageErrorf("--resume: no answers were saved for %s (%s): nothing to resume; run calctl install", dir, home.AnswersFile)
	}
	af.File = p
	msg := fmt.Sprintf("calctl: resuming the install in %s (%s) from %s", dir, why, p)
	if lr, err := home.LoadLastRun(filepath.Dir(p)); err == nil {
		msg += fmt.Sprintf("; last run %s %s", lr.Outcome, lr.Ended.Format(time.RFC3339))
		if lr.Step != "" {
			msg += " at step " + lr.Step
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		msg += "; last run unknown: " + err.Error()
	}
	fmt.Fprintln(out, msg+"; finished steps are checked and skipped quickly")
	return nil
}

// installAgentConfig is the agent config (agent/agent.yaml, written by
// render when billing is set) of the install locateInstall finds
// ($CALCTL_INSTALL_DIR, the current directory, the one recorded for this
// host), with why that install. The error says what was looked at: no
// install, or an install without an agent config.
func installAgentConfig(getenv func(string) string) (path, why string, err error) {
	at, err := locateInstall(getenv, "--config FILE", "", nil)
	if err != nil {
		return "", "", err
	}
	p := filepath.Join(at.Dir, "agent", "agent.yaml")
	if _, err := os.Stat(p); err != nil {
		return "", "", &ExitError{Code: ExitFailure, Err: fmt.Errorf("the install in %s (%s) has no agent config %s: calctl render writes it when billing is set; pass --config FILE", at.Dir, at.Why, p)}
	}
	return p, at.Why, nil
}
