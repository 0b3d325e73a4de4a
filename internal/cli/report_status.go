package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/calctl/calctl/reporter/agentconfig"
	"github.com/calctl/calctl/reporter/outbox"
	"github.com/spf13/cobra"
)

type reportStatusOptions struct {
	IO      IO
	Setup   agentSetup
	Output  string
	Offline bool
}

func newReportStatusCmd(f *Factory) *cobra.Command {
	opts := &reportStatusOptions{IO: f.IO, Setup: agentSetup{Getenv: f.Getenv}}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Per period: the latest report, the last accepted one, what billing holds, and the fix",
		Long: `Show, per period, the newest revision in the outbox and its state (acked,
pending, parked), the last revision billing accepted from this host, what
billing holds now (asked with GET /v1/usage-reports/{deployment_id}/{period}
unless --offline; then the last answer seen), revisions superseded by newer
ones, and for each problem the command that fixes it.

Exits 1 when a report is parked, an outbox file is corrupt, or billing holds
a total this host did not send.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Setup.ConfigSet = cmd.Flags().Changed("config")
			return runReportStatus(cmd.Context(), opts)
		},
	}
	opts.Setup.bind(cmd)
	outputFlag(cmd, &opts.Output, "text", textOrJSON)
	cmd.Flags().BoolVar(&opts.Offline, "offline", false, "do not ask the billing endpoint; show the last answers seen")
	return cmd
}

func runReportStatus(ctx context.Context, opts *reportStatusOptions) error {
	sum, cfg, problems, err := usageStatus(ctx, &opts.Setup, !opts.Offline, opts.IO.Err)
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
	if problems > 0 || sum.Corrupt > 0 {
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("%d period(s) need action (parked, or billing holds another total), %d corrupt outbox file(s) in %s: see the fix lines above",
			problems, sum.Corrupt, outbox.Dir(cfg.StateDir))}
	}
	return nil
}

// usageStatus summarizes the usage outbox of setup's config for `report
// status` and `doctor`: per period the newest and last accepted revisions,
// what billing holds (asked now when live and the config has an endpoint
// and token, else the last answer seen) and each problem's fix command.
// problems counts periods that need action (parked, or billing holding a
// total this host did not send). Messages about billing go to errw.
func usageStatus(ctx context.Context, setup *agentSetup, live bool, errw io.Writer) (outbox.Summary, agentconfig.Config, int, error) {
	cfg, err := setup.config(true)
	if err != nil {
		return outbox.Summary{}, cfg, 0, err
	}
	live = live && cfg.Endpoint != ""
	if setup.DatabaseURL == "" {
		if _, err := cfg.DatabaseURL(setup.Getenv); err != nil {
			setup.DatabaseURL = "postgresql://unused/unused" // status needs no database
		}
	}
	a, err := setup.agent(cfg, live, false)
	if err != nil {
		if !live {
			return outbox.Summary{}, cfg, 0, err
		}
		fmt.Fprintf(errw, "calctl: not asking billing (%v); showing the last answers seen\n", err)
		if a, err = setup.agent(cfg, false, false); err != nil {
			return outbox.Summary{}, cfg, 0, err
		}
		live = false
	}
	sum, errs, err := a.Status(ctx, live)
	if err != nil {
		return sum, cfg, 0, err
	}
	for _, e := range errs {
		fmt.Fprintf(errw, "calctl: could not ask billing: %v\n", e)
	}
	problems := 0
	for i := range sum.Periods {
		ps := &sum.Periods[i]
		ps.Fix = a.Commands.Fix(*ps)
		if ps.Fix != "" && ps.State != outbox.StatePending {
			problems++
		}
	}
	return sum, cfg, problems, nil
}

func printReportStatus(w io.Writer, sum outbox.Summary, now time.Time) {
	if len(sum.Periods) == 0 && sum.Corrupt == 0 {
		fmt.Fprintln(w, "no reports yet")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PERIOD\tREV\tSTATE\tKIND\tBOOKINGS\tCENTS\tATTEMPTS\tACCEPTED\tBILLING HOLDS\tDETAIL")
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
		case outbox.StatePending:
			if p.NextRetry.After(now) {
				detail = "next retry " + p.NextRetry.UTC().Format(time.RFC3339)
			} else {
				detail = "to send now"
			}
			if p.LastError != "" {
				detail += "; last error: " + reportOneLine(p.LastError)
			}
		}
		if p.Counting != "" && strings.HasPrefix(p.Counting, "full:") {
			detail += " (" + p.Counting + ")"
		}
		accepted := "-"
		if p.Accepted != nil {
			accepted = fmt.Sprintf("r%d %d", p.Accepted.Revision, p.Accepted.Total)
		}
		billing := "unknown"
		if b := p.Billing; b != nil {
			switch {
			case !b.Found:
				billing = "nothing"
			default:
				billing = fmt.Sprintf("r%d %d%s", b.LatestRevision, b.Total, map[bool]string{true: " final", false: ""}[b.Final])
			}
		}
		rev, state := fmt.Sprint(p.Revision), p.State
		if p.Revision == 0 {
			rev, state, kind = "-", "-", "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\t%s\n", p.Period, rev, state, kind, p.Total, p.TotalCents, p.Attempts, accepted, billing, detail)
		for _, s := range p.Superseded {
			fmt.Fprintf(tw, "\t\tsuperseded\tr%d by r%d: %s\t\t\t\t\t\t\n", s.Revision, s.By, reportOneLine(s.Note))
		}
		if p.Fix != "" {
			fmt.Fprintf(tw, "\t\tfix\t%s\t\t\t\t\t\t\n", p.Fix)
		}
	}
	tw.Flush()
	last := "never"
	if !sum.LastAck.IsZero() {
		last = sum.LastAck.UTC().Format(time.RFC3339)
	}
	fmt.Fprintf(w, "%d acked, %d pending, %d parked, %d superseded, %d quarantined; last ack %s\n", sum.Acked, sum.Pending, sum.Parked, sum.Superseded, sum.Quarantined, last)
}

func reportOneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}
