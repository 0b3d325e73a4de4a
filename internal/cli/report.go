package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
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
breakdown and the estimate, then queue the report in the outbox and send it,
signed, to the billing endpoint.

Without --period it counts the current month and every closed month that has
no final report yet. A closed month gets its final report once the grace
period after its end has passed; --period on a month whose final was accepted
recounts it in full and sends a correction if the count changed.

--dry-run only counts. --export FILE writes the signed document for an
air-gapped upload instead of sending; its Idempotency-Key is the one the online
path uses, so both converge. Reports not delivered within --wait stay in the
outbox for 'calctl agent' (or the next run). See docs/usage-reporting.md.`,
		Example: `  calctl report --dry-run --database-url "$DATABASE_URL"
  calctl report --period 2026-10 -o json
  calctl report --export /media/usb/usage-2026-10.json --period 2026-10
  calctl report status`,
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
	cmd.AddCommand(newReportStatusCmd(f))
	return cmd
}

// reportJSONLine is one period in -o json.
type reportJSONLine struct {
	Action  string          `json:"action"`
	State   string          `json:"state,omitempty"`
	Key     string          `json:"idempotency_key,omitempty"`
	Scanned int64           `json:"rows_read"`
	Full    bool            `json:"full_count"`
	Report  reporter.Report `json:"report"`
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
	state := map[string]string{}
	for _, ps := range sum.Periods {
		state[ps.Key] = ps.State
	}
	if opts.Output == "json" {
		lines := []reportJSONLine{}
		for _, r := range results {
			l := reportJSONLine{Action: string(r.Action), Scanned: r.Count.Scanned, Full: r.Count.Full, Report: r.Report}
			if r.Entry != nil {
				l.Key, l.State = r.Entry.Key, state[r.Entry.Key]
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
			st := ""
			if r.Entry != nil {
				st = state[r.Entry.Key]
			}
			printReportText(opts.IO.Out, r, st)
		}
	}
	if sum.Parked > 0 {
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("%d report(s) parked (refused by the endpoint); see 'calctl report status'", sum.Parked)}
	}
	if d.Pending > 0 {
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("%d report(s) not delivered yet (next retry %s); they stay in the outbox for 'calctl agent' or the next run", d.Pending, d.NextRetry.Format(time.RFC3339))}
	}
	return nil
}

func printReportText(w io.Writer, r agent.PeriodResult, state string) {
	rep := r.Report
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
	switch r.Action {
	case agent.DryRun:
		fmt.Fprintf(tw, "  revision\t%d would be queued (dry run)\n", rep.Revision)
	case agent.Unchanged:
		fmt.Fprintf(tw, "  revision\t%d unchanged, %s\n", rep.Revision, state)
	case agent.FinalSent:
		fmt.Fprintf(tw, "  revision\t%d final already queued, %s\n", rep.Revision, state)
	default:
		fmt.Fprintf(tw, "  revision\t%d queued, %s\n", rep.Revision, state)
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

type reportStatusOptions struct {
	IO     IO
	Setup  agentSetup
	Output string
}

func newReportStatusCmd(f *Factory) *cobra.Command {
	opts := &reportStatusOptions{IO: f.IO, Setup: agentSetup{Getenv: f.Getenv}}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show each period's latest report: acked, pending or parked",
		Long: `Show, per period, the latest revision in the outbox and its state (acked,
pending or parked), the endpoint's receipt, the next retry and the last error.
Exits 1 when a report is parked or an outbox file is corrupt.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Setup.ConfigSet = cmd.Flags().Changed("config")
			return runReportStatus(cmd.Context(), opts)
		},
	}
	opts.Setup.bind(cmd)
	outputFlag(cmd, &opts.Output, "text", textOrJSON)
	return cmd
}

func runReportStatus(_ context.Context, opts *reportStatusOptions) error {
	cfg, err := opts.Setup.config(true)
	if err != nil {
		return err
	}
	sum, err := outbox.Summarize(cfg.StateDir)
	if err != nil {
		return err
	}
	if opts.Output == "json" {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(sum); err != nil {
			return err
		}
	} else {
		printReportStatus(opts.IO.Out, sum, time.Now())
	}
	for _, p := range sum.Problems {
		fmt.Fprintln(opts.IO.Err, "calctl: "+p)
	}
	if sum.Parked > 0 || sum.Corrupt > 0 {
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("%d parked, %d corrupt report(s) in %s", sum.Parked, sum.Corrupt, outbox.Dir(cfg.StateDir))}
	}
	return nil
}

func printReportStatus(w io.Writer, sum outbox.Summary, now time.Time) {
	if len(sum.Periods) == 0 && sum.Corrupt == 0 {
		fmt.Fprintln(w, "no reports yet")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PERIOD\tREV\tSTATE\tKIND\tBOOKINGS\tCENTS\tATTEMPTS\tDETAIL")
	for _, p := range sum.Periods {
		kind := "provisional"
		if p.Correction {
			kind = "correction"
		} else if p.Final {
			kind = "final"
		}
		var detail string
		switch p.State {
		case outbox.StateAcked:
			detail = "receipt " + reportOneLine(p.Receipt)
		case outbox.StateParked:
			detail = "refused: " + reportOneLine(p.LastError)
		default:
			if p.NextRetry.After(now) {
				detail = "next retry " + p.NextRetry.UTC().Format(time.RFC3339)
			} else {
				detail = "to send now"
			}
			if p.LastError != "" {
				detail += "; last error: " + reportOneLine(p.LastError)
			}
		}
		if len(p.Parked) > 0 {
			detail += fmt.Sprintf(" (older parked revisions: %v)", p.Parked)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%d\t%d\t%d\t%s\n", p.Period, p.Revision, p.State, kind, p.Total, p.TotalCents, p.Attempts, detail)
	}
	tw.Flush()
	last := "never"
	if !sum.LastAck.IsZero() {
		last = sum.LastAck.UTC().Format(time.RFC3339)
	}
	fmt.Fprintf(w, "%d acked, %d pending, %d parked, %d quarantined; last ack %s\n", sum.Acked, sum.Pending, sum.Parked, sum.Quarantined, last)
}

func reportOneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}
