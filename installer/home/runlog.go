package home

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/calctl/calctl/installer/contract"
	"github.com/calctl/calctl/internal/redact"
)

// RunLog is the log of one run in the install directory:
// logs/install-YYYYmmdd-HHMMSS.log, mode 0600. Every line goes through
// redact.String with the run's secrets and redact.URL, so no secret
// reaches the disk.
type RunLog struct {
	// Path is the log file.
	Path    string
	mu      sync.Mutex
	f       *os.File
	w       *bufio.Writer
	secrets []string
	run     LastRun
}

// OpenRunLog creates the log of a run that starts at now in dir. secrets
// are masked wherever they appear (with their URL-encoded forms for
// database URLs).
func OpenRunLog(dir string, now time.Time, dryRun bool, secrets ...string) (*RunLog, error) {
	ld := filepath.Join(dir, LogDir)
	if err := os.MkdirAll(ld, 0o700); err != nil {
		return nil, fmt.Errorf("install log: %w", err)
	}
	base := "install-" + now.UTC().Format("20060102-150405")
	p := filepath.Join(ld, base+".log")
	var f *os.File
	var err error
	for i := 1; ; i++ { // two runs in one second get two logs
		f, err = os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if !os.IsExist(err) || i > 50 {
			break
		}
		p = filepath.Join(ld, fmt.Sprintf("%s-%d.log", base, i))
	}
	if err != nil {
		return nil, fmt.Errorf("install log: %w", err)
	}
	var all []string
	for _, s := range secrets {
		if len(s) >= 4 {
			all = append(all, s)
			all = append(all, redact.URLPasswords(s)...)
		}
	}
	l := &RunLog{Path: p, f: f, w: bufio.NewWriter(f), secrets: all,
		run: LastRun{Started: now.UTC(), DryRun: dryRun, Log: p}}
	l.line("run started %s (dry run: %v)", now.UTC().Format(time.RFC3339), dryRun)
	return l, nil
}

func (l *RunLog) line(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	s = redact.URL(redact.String(s, l.secrets...))
	fmt.Fprintf(l.w, "%s %s\n", time.Now().UTC().Format("15:04:05"), s)
}

// Sink returns the contract.Sink that writes each event as a line.
func (l *RunLog) Sink() contract.Sink {
	return func(e contract.Event) {
		l.mu.Lock()
		defer l.mu.Unlock()
		switch e.Type {
		case contract.EventStepStart:
			l.line("step %s: start", e.Step)
		case contract.EventStepDone:
			l.line("step %s: done in %dms", e.Step, e.DurationMS)
			l.run.Finished = append(l.run.Finished, e.Step)
		case contract.EventStepSkip:
			l.line("step %s: skipped: %s", e.Step, e.Message)
		case contract.EventStepFail:
			l.line("step %s: FAILED: %s", e.Step, e.Error)
			if e.Remedy != "" {
				l.line("  fix: %s", e.Remedy)
			}
			l.run.Step, l.run.Error = e.Step, redact.URL(redact.String(e.Error, l.secrets...))
		case contract.EventChange:
			l.line("%s: %s %s", e.Step, e.Action, e.Path)
		case contract.EventLog:
			if e.Check != nil {
				c := *e.Check
				l.run.Check = &c
			}
			lvl := e.Level
			if lvl == "" {
				lvl = "info"
			}
			l.line("%s: %s: %s", e.Step, lvl, e.Message)
			if e.Remedy != "" {
				l.line("  fix: %s", e.Remedy)
			}
		case contract.EventProgress:
			// progress is for screens
		default:
			if e.Message != "" {
				l.line("%s: %s", e.Type, e.Message)
			}
		}
	}
}

// Close ends the log with the run's outcome (err nil: finished; stopped
// when the user stopped it), flushes it, and records the last run in dir.
func (l *RunLog) Close(dir string, err error, stopped bool) (LastRun, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.run
	r.Ended = time.Now().UTC()
	switch {
	case err == nil:
		r.Outcome = OutcomeFinished
	case stopped:
		r.Outcome = OutcomeStopped
	default:
		r.Outcome = OutcomeFailed
	}
	if err != nil && r.Error == "" {
		r.Error = redact.URL(redact.String(err.Error(), l.secrets...))
	}
	l.line("run %s", r.Outcome)
	ferr := l.w.Flush()
	if cerr := l.f.Close(); ferr == nil {
		ferr = cerr
	}
	if serr := SaveLastRun(dir, r); ferr == nil {
		ferr = serr
	}
	return r, ferr
}
