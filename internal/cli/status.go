package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/calctl/calctl/backup/history"
	"github.com/calctl/calctl/installer/contract"
	"github.com/calctl/calctl/installer/home"
	"github.com/calctl/calctl/internal/buildinfo"
	"github.com/calctl/calctl/reporter/agentconfig"
	"github.com/calctl/calctl/reporter/outbox"
	"github.com/spf13/cobra"
)

type statusOptions struct {
	IO     IO
	Getenv func(string) string
	Dir    string
	Output string
}

// statusReport is `calctl status` as data (-o json).
type statusReport struct {
	Install     string                 `json:"install_dir"`
	Why         string                 `json:"found_by"`
	Target      string                 `json:"target"`
	PublicURL   string                 `json:"public_url"`
	Calctl      string                 `json:"calctl_version"`
	CalCom      string                 `json:"calcom_version,omitempty"`
	Services    []statusService        `json:"services"`
	ServicesErr string                 `json:"services_error,omitempty"`
	Health      string                 `json:"health"`
	LastRun     *home.LastRun          `json:"last_run,omitempty"`
	Report      *statusUsage           `json:"last_report,omitempty"`
	Backup      string                 `json:"last_backup,omitempty"`
	Findings    *contract.CheckSummary `json:"open_findings,omitempty"`
}

type statusService struct {
	Name   string `json:"name"`
	State  string `json:"state"`
	Health string `json:"health,omitempty"`
}

type statusUsage struct {
	LastAck time.Time `json:"last_ack,omitzero"`
	Pending int       `json:"pending"`
	Parked  int       `json:"parked"`
}

func newStatusCmd(f *Factory) *cobra.Command {
	opts := &statusOptions{IO: f.IO, Getenv: f.getenv}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "One screen on the install: services, health, versions, last run, last report, last backup, open findings",
		Long: `status shows the install in --dir, else in $CALCTL_INSTALL_DIR, else the one
in the current directory, else the one recorded for this host, on one screen: its services and their
state, whether the public URL answers, calctl's and Cal.com's versions, the
last install run, the last usage report, the last backup (when a backup
history exists) and the findings of the last hardening check.`,
		Example: "  calctl status\n  calctl status --dir /opt/calcom -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runStatus(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Dir, "dir", "", installDirUsage)
	outputFlag(cmd, &opts.Output, "text", textOrJSON)
	return cmd
}

func runStatus(ctx context.Context, opts *statusOptions) error {
	in, err := findInstall(ctx, opts.Getenv, opts.Dir)
	if err != nil {
		return err
	}
	a := in.Answers
	r := statusReport{Install: in.Dir, Why: in.Why, Target: a.Target, PublicURL: a.PublicURL, Calctl: buildinfo.Get().Version}
	r.CalCom = calcomVersion(a.Source.Dir)
	r.Services, r.ServicesErr = services(ctx, in, opts.Getenv)
	r.Health = health(ctx, a)
	if lr, err := home.LoadLastRun(in.Dir); err == nil {
		r.LastRun = &lr
		r.Findings = lr.Check
	}
	if p := filepath.Join(in.Dir, "agent", "agent.yaml"); fileExists(p) {
		if c, err := agentconfig.Load(p); err == nil {
			if sum, err := outbox.Summarize(c.StateDir); err == nil {
				r.Report = &statusUsage{LastAck: sum.LastAck, Pending: sum.Pending, Parked: sum.Parked}
			}
		}
	}
	r.Backup = lastBackup(in.Dir)
	if opts.Output == "json" {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	w := opts.IO.Out
	kv := func(k, v string) { fmt.Fprintf(w, "%-13s %s\n", k, v) }
	kv("install", in.Dir+"  ("+in.Why+")")
	kv("target", a.Target+", public URL "+a.PublicURL)
	kv("health", r.Health)
	v := "calctl " + r.Calctl
	if r.CalCom != "" {
		v += ", Cal.com " + r.CalCom
	}
	kv("versions", v)
	switch {
	case r.ServicesErr != "":
		kv("services", r.ServicesErr)
	case len(r.Services) == 0:
		kv("services", "none running")
	default:
		for i, s := range r.Services {
			k := ""
			if i == 0 {
				k = "services"
			}
			st := s.State
			if s.Health != "" {
				st += " (" + s.Health + ")"
			}
			kv(k, fmt.Sprintf("%-10s %s", s.Name, st))
		}
	}
	if lr := r.LastRun; lr != nil {
		s := fmt.Sprintf("%s %s", lr.Outcome, lr.Ended.Local().Format("2006-01-02 15:04"))
		if lr.Step != "" {
			s += " at step " + lr.Step
		}
		kv("last run", s+"  (log: "+lr.Log+")")
	} else {
		kv("last run", "not recorded")
	}
	switch {
	case r.Report == nil:
		kv("last report", "no usage agent configured")
	case r.Report.LastAck.IsZero():
		kv("last report", fmt.Sprintf("none acknowledged yet (%d pending, %d parked)", r.Report.Pending, r.Report.Parked))
	default:
		kv("last report", fmt.Sprintf("acknowledged %s (%d pending, %d parked)", r.Report.LastAck.Local().Format("2006-01-02 15:04"), r.Report.Pending, r.Report.Parked))
	}
	kv("last backup", cmpOr(r.Backup, "no backup history in the install directory"))
	if c := r.Findings; c != nil {
		kv("findings", fmt.Sprintf("%d fail, %d warn, %d waived at the last install run; now: %s", c.Fail, c.Warn, c.Waived, c.Command))
		for _, f := range c.Top {
			kv("", fmt.Sprintf("%s %s %s: %s", f.Status, f.ID, f.Resource, f.Message))
		}
	} else {
		kv("findings", "no check recorded; run calctl check --dir "+in.Dir)
	}
	return nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// calcomVersion is the version in the checkout's apps/web/package.json
// (Cal.com versions the web app there; calcom-facts.md §1).
func calcomVersion(src string) string {
	b, err := os.ReadFile(filepath.Join(src, "apps", "web", "package.json"))
	if err != nil {
		return ""
	}
	var p struct {
		Version string `json:"version"`
	}
	if json.Unmarshal(b, &p) != nil {
		return ""
	}
	return p.Version
}

// services lists the install's services: compose containers of its
// project, or pm2 processes.
func services(ctx context.Context, in *day2Install, getenv func(string) string) ([]statusService, string) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if in.Answers.Target == contract.TargetPM2 {
		out, err := exec.CommandContext(ctx, "pm2", "jlist").Output()
		if err != nil {
			return nil, "pm2 jlist: " + err.Error()
		}
		var procs []struct {
			Name string `json:"name"`
			Env  struct {
				Status string `json:"status"`
			} `json:"pm2_env"`
		}
		if err := json.Unmarshal(out, &procs); err != nil {
			return nil, "pm2 jlist: " + err.Error()
		}
		var ss []statusService
		for _, p := range procs {
			ss = append(ss, statusService{Name: p.Name, State: p.Env.Status})
		}
		return ss, ""
	}
	var out strings.Builder
	var errb strings.Builder
	if err := in.run(ctx, getenv, &out, &errb, in.composeArgv(getenv, "ps", "--all", "--format", "json")); err != nil {
		return nil, firstLineOf(strings.TrimSpace(errb.String()) + " " + err.Error())
	}
	var ss []statusService
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		var items []map[string]any
		if strings.HasPrefix(line, "[") { // older compose prints one array
			_ = json.Unmarshal([]byte(line), &items)
		} else {
			var one map[string]any
			if json.Unmarshal([]byte(line), &one) == nil {
				items = append(items, one)
			}
		}
		for _, it := range items {
			ss = append(ss, statusService{Name: fmt.Sprint(it["Service"]), State: fmt.Sprint(it["State"]), Health: strings.TrimSpace(fmt.Sprint(orEmpty(it["Health"])))})
		}
	}
	return ss, ""
}

func orEmpty(v any) any {
	if v == nil {
		return ""
	}
	return v
}

func firstLineOf(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// health asks the public URL (the address people open) for its page.
func health(ctx context.Context, a *contract.Answers) string {
	if a.PublicURL == "" {
		return "unknown (no public URL)"
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.PublicURLClean()+"/", nil)
	if err != nil {
		return "unknown: " + err.Error()
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "not answering: " + firstLineOf(err.Error())
	}
	resp.Body.Close()
	if resp.StatusCode >= 500 {
		return fmt.Sprintf("unhealthy: %s answered %s", a.PublicURL, resp.Status)
	}
	return fmt.Sprintf("answering: %s → %s", a.PublicURL, resp.Status)
}

// lastBackup is the newest backup in the install's history
// (backup/history: <install>/.calctl/history.jsonl), with the newest
// successful one when the newest failed; "" when there is no history.
func lastBackup(dir string) string {
	events, err := history.Read(dir)
	if err != nil || len(events) == 0 {
		return ""
	}
	e, ok := history.Last(events, history.KindBackup, "")
	if !ok {
		return ""
	}
	s := fmt.Sprintf("%s %s", e.Result, e.Time.Local().Format("2006-01-02 15:04"))
	if e.File != "" {
		s += ": " + e.File
	}
	if e.Size > 0 {
		s += fmt.Sprintf(" (%d bytes)", e.Size)
	}
	if e.Result != history.ResultOK {
		if e.Error != "" {
			s += ": " + e.Error
		}
		if okEv, ok := history.Last(events, history.KindBackup, history.ResultOK); ok {
			s += "; last good " + okEv.Time.Local().Format("2006-01-02 15:04")
		}
	}
	return s
}
