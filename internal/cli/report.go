package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/calctl/calctl/internal/redact"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/calctl/calctl/internal/atomicfile"
	"github.com/calctl/calctl/internal/buildinfo"
	"github.com/calctl/calctl/internal/secret"
	"github.com/calctl/calctl/reporter"
	"github.com/calctl/calctl/reporter/agent"
	"github.com/calctl/calctl/reporter/agentconfig"
	"github.com/calctl/calctl/reporter/outbox"
	"github.com/calctl/calctl/reporter/sender"
	"github.com/spf13/cobra"
)

// agentSetup holds what report and agent share: where the config is and
// what the command line overrides.
type agentSetup struct {
	Getenv     func(string) string
	ConfigPath string
	// ConfigSet is true when --config was given (then a missing file is an
	// error even for a dry run).
	ConfigSet   bool
	DatabaseURL string
	StateDir    string
	// Backoff and HTTPTimeout are fixed by the commands; tests shorten them.
	Backoff     sender.Backoff
	HTTPTimeout time.Duration
	// WatchInterval is how often the agent looks at the credential files
	// (0: agent.DefaultWatchInterval).
	WatchInterval time.Duration
	// stateDirSet records --state-dir, for the advice commands.
	stateDirSet bool
	// found says which install's config was used when --config was not
	// given and the default file is absent (installer/home.Find).
	found string
}

// commands spells calctl's commands as they must be typed for this config,
// for advice: --config when it is not the default, --state-dir when given.
func (s *agentSetup) commands(c agentconfig.Config) agent.Commands {
	var flags []string
	if c.Path != "" && c.Path != agentconfig.DefaultPath {
		flags = append(flags, "--config "+agent.ShellQuote(c.Path))
	}
	if s.stateDirSet {
		flags = append(flags, "--state-dir "+agent.ShellQuote(c.StateDir))
	}
	src := c.TokenFile
	if src == "" {
		src = "$" + agentconfig.TokenEnv
		if c.TokenEnv != "" {
			src = "$" + c.TokenEnv
		}
	}
	return agent.Commands{Flags: strings.Join(flags, " "), TokenSource: src}
}

func (s *agentSetup) bind(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&s.ConfigPath, "config", agentconfig.DefaultPath, "agent config file (mode 0600)")
	fl.StringVar(&s.DatabaseURL, "database-url", "", "Cal.com's database URL (default: from the config's env_file or DATABASE_URL)")
	fl.StringVar(&s.StateDir, "state-dir", "", "state directory (outbox, watermarks); overrides state_dir")
}

// config loads the agent config. Without --config, a missing default file
// is tolerated when allowMissing (a dry run needs no endpoint).
func (s *agentSetup) config(allowMissing bool) (agentconfig.Config, error) {
	c, err := agentconfig.Load(s.ConfigPath)
	if err != nil && !s.ConfigSet && errors.Is(err, os.ErrNotExist) {
		// no --config and no default file: the install locateInstall
		// finds has its own (a dry run goes on without one)
		p, why, lerr := installAgentConfig(s.Getenv)
		switch {
		case lerr == nil:
			if c, err = agentconfig.Load(p); err == nil {
				s.ConfigPath, s.ConfigSet = p, true
				s.found = "calctl: using the agent config of the install in " + filepath.Dir(filepath.Dir(p)) + " (" + why + "): " + p
			}
		case !allowMissing:
			return c, around(lerr, s.ConfigPath+" does not exist, and ", "")
		}
	}
	if err != nil {
		if allowMissing && !s.ConfigSet && errors.Is(err, os.ErrNotExist) {
			c = agentconfig.Default()
			c.DeploymentID = "unconfigured"
		} else {
			return c, err
		}
	}
	if s.StateDir != "" {
		c.StateDir = s.StateDir
		s.stateDirSet = true
	}
	return c, nil
}

// agent builds the reporting agent. withSender adds the endpoint, token and
// signing secret; withSigning only the signing secret (for --export).
func (s *agentSetup) agent(c agentconfig.Config, withSender, withSigning bool) (*agent.Agent, error) {
	dbURL := secret.Secret(s.DatabaseURL)
	if dbURL == "" {
		var err error
		if dbURL, err = c.DatabaseURL(s.Getenv); err != nil {
			return nil, err
		}
	}
	host, _ := os.Hostname()
	a := &agent.Agent{
		DeploymentID: c.DeploymentID, DatabaseURL: dbURL, StateDir: c.StateDir, LiveSince: c.LiveSince,
		Grace: c.Grace, Interval: c.Interval, Backoff: s.Backoff, Hostname: host, Version: buildinfo.Version,
		Commands: s.commands(c), WatchInterval: s.WatchInterval,
		Credentials: &agent.Credentials{
			Files: []string{c.TokenFile, c.SigningSecretFile},
			Load:  func() (secret.Secret, secret.Secret, error) { return c.Secrets(s.Getenv) },
		},
	}
	if withSender || withSigning {
		snd := &sender.Sender{Endpoint: c.Endpoint, UserAgent: buildinfo.UserAgent()}
		var err error
		if snd.SigningSecret, err = c.SigningSecret(s.Getenv); err != nil {
			return nil, err
		}
		if withSender {
			if c.Endpoint == "" {
				return nil, fmt.Errorf("no endpoint in %s: set endpoint (the billing URL) or use --dry-run / --export", c.Path)
			}
			if err := sender.ValidateEndpoint(c.Endpoint); err != nil {
				return nil, err
			}
			if snd.Token, err = c.Token(s.Getenv); err != nil {
				return nil, err
			}
			if snd.Client, err = sender.NewClient(c.CAFile, s.HTTPTimeout); err != nil {
				return nil, err
			}
		}
		a.Sender = snd
	}
	return a, nil
}

type reportOptions struct {
	IO     IO
	Setup  agentSetup
	Period string
	DryRun bool
	Output string
	Export string
	Wait   time.Duration
}

func newReportCmd(f *Factory) *cobra.Command {
	opts := &reportOptions{IO: f.IO, Setup: agentSetup{Getenv: f.Getenv, Backoff: sender.DefaultBackoff}}
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Count bookings as the Infrastructure Plan bills them and report them",
		Long: `Count the bookings in Cal.com's database per UTC month (every row of "Booking"
created in the month, any status, reschedules included), print the count, the
breakdown and the estimate, compare it with what billing holds, then queue the
report in the outbox and send it, signed, to the billing endpoint.

Without --period it counts the current month and every closed month that has
no final report yet. A closed month gets its final report once the grace
period after its end has passed; --period on a month whose final was accepted
recounts it in full and sends a correction if the count changed.

A month whose report the endpoint refused stays parked (exit 1) until
'calctl report retry' sends it again; report prints the command.

--dry-run only counts. --export FILE writes the signed document for an
air-gapped upload instead of sending; its Idempotency-Key is the one the online
path uses, so both converge. Reports not delivered within --wait stay in the
outbox for 'calctl agent' (or the next run). See docs/usage-reporting.md.`,
		Example: `  calctl report --dry-run --database-url "$DATABASE_URL"
  calctl report --period 2026-10 -o json
  calctl report --export /media/usb/usage-2026-10.json --period 2026-10
  calctl report status
  calctl report retry --period 2026-10`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Setup.ConfigSet = cmd.Flags().Changed("config")
			return runReport(cmd.Context(), opts)
		},
	}
	opts.Setup.bind(cmd)
	fl := cmd.Flags()
	fl.StringVar(&opts.Period, "period", "", "month to count, YYYY-MM (default: the due months)")
	fl.BoolVar(&opts.DryRun, "dry-run", false, "count and print only; write and send nothing")
	outputFlag(cmd, &opts.Output, "text", textOrJSON)
	fl.StringVar(&opts.Export, "export", "", "write the signed report(s) to FILE instead of sending")
	fl.DurationVar(&opts.Wait, "wait", time.Minute, "how long to keep retrying delivery before leaving it to the agent")
	cmd.AddCommand(newReportStatusCmd(f), newReportRetryCmd(f))
	return cmd
}

// reportCounting is how a period was counted, in -o json.
type reportCounting struct {
	Method string `json:"method"`
	// RowsRead is how many rows above the watermark matched the month.
	RowsRead int64 `json:"rows_read"`
	// Fallback says why the whole month was counted where an incremental
	// count could not be proven exact (hot standby, sequence CACHE > 1, …).
	Fallback string `json:"fallback,omitempty"`
}

// reportJSONLine is one period in -o json.
type reportJSONLine struct {
	Action   string              `json:"action"`
	State    string              `json:"state,omitempty"`
	Key      string              `json:"idempotency_key,omitempty"`
	Scanned  int64               `json:"rows_read"`
	Full     bool                `json:"full_count"`
	Counting *reportCounting     `json:"counting,omitempty"`
	Billing  *outbox.BillingView `json:"billing,omitempty"`
	Note     string              `json:"note,omitempty"`
	Fix      string              `json:"fix,omitempty"`
	Report   reporter.Report     `json:"report"`
}

func runReport(ctx context.Context, opts *reportOptions) error {
	if opts.DryRun && opts.Export != "" {
		return usageErrorf("--dry-run and --export exclude each other: an export queues a revision")
	}
	var periods []reporter.Period
	if opts.Period != "" {
		p, err := reporter.ParsePeriod(opts.Period)
		if err != nil {
			return usageErrorf("--period: %v", err)
		}
		periods = []reporter.Period{p}
	}
	cfg, err := opts.Setup.config(opts.DryRun)
	if err != nil {
		return err
	}
	if opts.Setup.found != "" {
		fmt.Fprintln(opts.IO.Err, opts.Setup.found)
	}
	a, err := opts.Setup.agent(cfg, !opts.DryRun && opts.Export == "", opts.Export != "")
	if err != nil {
		return err
	}
	results, err := a.Count(ctx, agent.CountOptions{Periods: periods, DryRun: opts.DryRun})
	if err != nil {
		return err
	}
	if opts.Export != "" {
		if err := writeReportExport(a, opts.Export, results); err != nil {
			return err
		}
		fmt.Fprintf(opts.IO.Err, "wrote %d signed report(s) to %s; upload it to the billing portal\n", len(results), opts.Export)
	}
	var d agent.Delivery
	if !opts.DryRun && opts.Export == "" {
		// say what the wait is for, before it starts
		fmt.Fprintf(opts.IO.Err, "delivering %d report(s) to %s; waiting up to %s (--wait) for each to be acknowledged, retrying transient failures; then the agent goes on\n",
			len(results), redact.URL(cfg.Endpoint), opts.Wait)
		if d, err = a.DeliverUntil(ctx, opts.Wait); err != nil {
			return err
		}
	}
	var sum outbox.Summary
	if !opts.DryRun {
		if sum, err = outbox.Summarize(a.StateDir); err != nil {
			return err
		}
	}
	byPeriod := map[string]outbox.PeriodStatus{}
	for _, ps := range sum.Periods {
		byPeriod[ps.Period] = ps
	}
	if opts.Output == "json" {
		lines := []reportJSONLine{}
		for _, r := range results {
			l := reportJSONLine{Action: string(r.Action), Scanned: r.Count.Scanned, Full: r.Count.Full, Report: r.Report, Billing: r.Billing, Note: r.Note}
			if !r.Count.At.IsZero() {
				l.Counting = &reportCounting{Method: r.Count.Method(), RowsRead: r.Count.Scanned, Fallback: r.Count.Fallback}
			}
			if ps, ok := byPeriod[r.Period.String()]; ok && r.Entry != nil {
				l.Key, l.State, l.Fix = ps.Key, ps.State, a.Commands.Fix(ps)
				l.Report = reportOf(ps, r.Report)
			}
			lines = append(lines, l)
		}
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(lines); err != nil {
			return err
		}
	} else {
		for _, r := range results {
			ps, ok := byPeriod[r.Period.String()]
			if !ok || r.Entry == nil {
				ps = outbox.PeriodStatus{}
			}
			printReportText(opts.IO.Out, r, ps, a.Commands)
		}
	}
	// Parked months the run did not count (their final exists) are still
	// undelivered: say so, with the command that sends them.
	counted := map[string]bool{}
	for _, r := range results {
		counted[r.Period.String()] = true
	}
	var parked []string
	for _, ps := range sum.Periods {
		if ps.State != outbox.StateParked {
			continue
		}
		parked = append(parked, ps.Period)
		if !counted[ps.Period] && opts.Output == "text" {
			fmt.Fprintf(opts.IO.Out, "%s  revision %d parked: %s\n  fix: %s\n", ps.Period, ps.Revision, reportOneLine(ps.LastError), a.Commands.Fix(ps))
		}
	}
	if len(parked) > 0 {
		fix := a.Commands.Retry(parked[0])
		if len(parked) > 1 {
			fix = a.Commands.RetryAll()
		}
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("%d report(s) parked (refused by the endpoint: %s); after fixing the cause run: %s",
			len(parked), strings.Join(parked, ", "), fix)}
	}
	if d.Pending > 0 {
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("%d report(s) not delivered yet (next retry %s); they stay in the outbox for 'calctl agent', or run: %s",
			d.Pending, d.NextRetry.Format(time.RFC3339), a.Commands.RetryAll())}
	}
	return nil
}

// reportOf is the report as it stands in the outbox after delivery (a
// renumbered report carries its new revision).
func reportOf(ps outbox.PeriodStatus, r reporter.Report) reporter.Report {
	if ps.Revision > r.Revision && ps.Total == r.Bookings.Total {
		r.Revision = ps.Revision
	}
	return r
}

func printReportText(w io.Writer, r agent.PeriodResult, ps outbox.PeriodStatus, cmds agent.Commands) {
	rep := reportOf(ps, r.Report)
	if r.Action == agent.BillingCurrent {
		fmt.Fprintf(w, "%s  %s\n", r.Period, r.Note)
		return
	}
	kind := "provisional"
	switch {
	case rep.Correction:
		kind = "final (correction)"
	case rep.Final:
		kind = "final"
	}
	live := "live"
	if !rep.Live {
		live = "not live (before live_since): not billed"
	}
	fmt.Fprintf(w, "%s  %s, %s\n", rep.Period, kind, live)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  bookings\t%d\n", rep.Bookings.Total)
	for _, s := range reporter.KnownStatuses {
		fmt.Fprintf(tw, "    %s\t%d\n", s, rep.Bookings.ByStatus[s])
	}
	for s, n := range rep.Bookings.ByStatus {
		if !slices.Contains(reporter.KnownStatuses, s) {
			fmt.Fprintf(tw, "    %s\t%d\n", s, n)
		}
	}
	fmt.Fprintf(tw, "  reschedules\t%d\n", rep.Bookings.Reschedules)
	e := rep.Estimate
	fmt.Fprintf(tw, "  estimate\t%s (base %d + %d × %d = %d cents)\n", reportDollars(e.TotalCents), e.BaseCents, e.OverageBookings, e.UnitCents, e.TotalCents)
	if r.Count.Fallback != "" {
		fmt.Fprintf(tw, "  counting\tfull count of the month: %s\n", r.Count.Fallback)
	}
	state := ps.State
	switch r.Action {
	case agent.DryRun:
		fmt.Fprintf(tw, "  revision\t%d would be queued (dry run)\n", rep.Revision)
	case agent.Unchanged:
		fmt.Fprintf(tw, "  revision\t%d unchanged, %s\n", rep.Revision, state)
	case agent.Parked:
		fmt.Fprintf(tw, "  revision\t%d parked (refused: %s)\n", rep.Revision, reportOneLine(ps.LastError))
	case agent.FinalSent:
		fmt.Fprintf(tw, "  revision\t%d final already queued, %s\n", rep.Revision, state)
	default:
		fmt.Fprintf(tw, "  revision\t%d queued, %s\n", rep.Revision, state)
	}
	if r.Note != "" && r.Action != agent.Parked {
		fmt.Fprintf(tw, "  note\t%s\n", r.Note)
	}
	if fix := cmds.Fix(ps); fix != "" && ps.State != outbox.StateAcked {
		fmt.Fprintf(tw, "  fix\t%s\n", fix)
	}
	tw.Flush()
}

func reportDollars(cents int64) string { return fmt.Sprintf("$%d.%02d", cents/100, cents%100) }

// reportExportDoc is what --export writes: per report the body, byte for byte,
// and the headers the online path would send, Authorization excepted (the
// token is not written to the file; the upload authenticates itself).
type reportExportDoc struct {
	Format  string              `json:"format"`
	Method  string              `json:"method"`
	Path    string              `json:"path"`
	Reports []reportExportEntry `json:"reports"`
}

type reportExportEntry struct {
	IdempotencyKey string            `json:"idempotency_key"`
	Headers        map[string]string `json:"headers"`
	Body           string            `json:"body"`
}

func writeReportExport(a *agent.Agent, path string, results []agent.PeriodResult) error {
	doc := reportExportDoc{Format: "calctl.usage-export/v1", Method: "POST", Path: sender.Path, Reports: []reportExportEntry{}}
	for _, r := range results {
		if r.Entry == nil {
			continue
		}
		h := a.Sender.Headers(r.Entry.Key, []byte(r.Entry.Body))
		hm := map[string]string{}
		for k := range h {
			hm[k] = h.Get(k)
		}
		doc.Reports = append(doc.Reports, reportExportEntry{IdempotencyKey: r.Entry.Key, Headers: hm, Body: r.Entry.Body})
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("--export: %w", err)
	}
	return nil
}
