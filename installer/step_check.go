package installer

import (
	"context"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/checks/catalog"
	"github.com/calctl/calctl/checks/collect"
	"github.com/calctl/calctl/installer/contract"
)

// checkStep runs calctl's hardening checks against what was just
// installed — the compose project's containers, the bundled or external
// database, the config files, the public URL, the host — and reports the
// summary and the worst findings with their fix. It never fails the
// install: whether findings make `calctl install` exit non-zero is the
// --fail-on flag's call (State.FailOn), made by the command after the run.
type checkStep struct{}

func (checkStep) Name() string { return contract.StepCheck }

func (checkStep) Skip(s *State) (bool, string) {
	if s.DryRun {
		return true, "dry run: nothing was installed to check"
	}
	return false, ""
}

// checkTop is how many findings the step shows.
const checkTop = 5

func (checkStep) Run(ctx context.Context, s *State) error {
	a := s.Answers
	o := collect.Options{Dir: a.InstallDir, Docker: a.Target == TargetCompose, Host: true, Timeout: 15 * time.Second}
	switch {
	case a.Database.Mode == DBRDS:
		o.Profile = "rds"
	case a.Target == TargetPM2:
		o.Profile = "pm2"
	default:
		o.Profile = "compose"
	}
	var w *checks.Waivers
	if p := s.Path("waivers.yaml"); fileExists(p) {
		var err error
		if w, err = checks.LoadWaivers(p); err != nil {
			s.Logf("warn", "waivers.yaml not used: %v", err)
		}
	}
	facts, err := collect.Collect(ctx, o)
	if err != nil {
		s.Emit(Event{Type: EventLog, Level: "warn", Message: "the hardening checks could not run: " + err.Error(),
			Remedy: "calctl check --dir " + a.InstallDir})
		return nil
	}
	rep := checks.Run(facts, catalog.For(facts.Target.Profile), checks.Selection{}, w)
	sum := Summarize(rep, s.FailOn)
	sum.Command = "calctl check --dir " + a.InstallDir + " -o html --out hardening-report.html"
	s.Check = &sum
	level := "info"
	if sum.Fail > 0 || sum.Error > 0 {
		level = "warn"
	}
	s.Emit(Event{Type: EventLog, Level: level, Message: strings.TrimRight(sum.Text(), "\n"), Check: &sum})
	return nil
}

// Summarize turns a check report into the install's summary: counts, the
// unwaived FAILs at or above failOn ("" or "none": never), and the worst
// findings first (FAIL, then ERROR, then WARN; higher severity first).
func Summarize(rep *checks.Report, failOn string) contract.CheckSummary {
	s := rep.Summary
	sum := contract.CheckSummary{Pass: s.Pass, Warn: s.Warn, Fail: s.Fail, Skip: s.Skip, Manual: s.Manual, Error: s.Error, Waived: s.Waived, FailOn: failOn}
	if sum.FailOn == "" {
		sum.FailOn = "none"
	}
	if sev, err := checks.ParseSeverity(failOn); err == nil {
		sum.AtOrAbove = len(checks.Findings(rep.Results, sev, false))
	}
	rank := map[checks.Status]int{checks.Fail: 3, checks.Error: 2, checks.Warn: 1}
	var top []checks.Result
	for _, r := range rep.Results {
		if r.Waiver == nil && rank[r.Status] > 0 {
			top = append(top, r)
		}
	}
	sort.SliceStable(top, func(i, j int) bool {
		if rank[top[i].Status] != rank[top[j].Status] {
			return rank[top[i].Status] > rank[top[j].Status]
		}
		return top[i].Severity.Rank() > top[j].Severity.Rank()
	})
	if len(top) > checkTop {
		top = top[:checkTop]
	}
	for _, r := range top {
		fix := r.Remediation
		if r.Status == checks.Error {
			fix = "see the cause above; calctl check --only " + r.ID
		}
		sum.Top = append(sum.Top, contract.CheckFinding{ID: r.ID, Status: string(r.Status), Severity: string(r.Severity),
			Resource: r.Resource, Message: r.Message, Fix: fix})
	}
	return sum
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}
