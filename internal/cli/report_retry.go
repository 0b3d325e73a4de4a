package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/calctl/calctl/reporter"
	"github.com/calctl/calctl/reporter/outbox"
	"github.com/calctl/calctl/reporter/sender"
	"github.com/spf13/cobra"
)

type reportRetryOptions struct {
	IO     IO
	Setup  agentSetup
	Period string
	Output string
	Wait   time.Duration
}

func newReportRetryCmd(f *Factory) *cobra.Command {
	opts := &reportRetryOptions{IO: f.IO, Setup: agentSetup{Getenv: f.Getenv, Backoff: sender.DefaultBackoff}}
	cmd := &cobra.Command{
		Use:   "retry",
		Short: "Send parked or waiting reports again now",
		Long: `Send again, now, the newest report of each period (or of --period) that the
endpoint refused (parked) or that waits for a retry. Fix the cause first (the
token, the endpoint, the deployment id): 'calctl report status' says what it
is. The report goes under its own Idempotency-Key and body; if the endpoint
says the revision was taken by another body, it is renumbered and sent again.

Exits 1 when a report is still parked or undelivered after --wait.`,
		Example: `  calctl report retry --period 2026-11
  calctl report retry --config /etc/calctl/agent.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Setup.ConfigSet = cmd.Flags().Changed("config")
			return runReportRetry(cmd.Context(), opts)
		},
	}
	opts.Setup.bind(cmd)
	cmd.Flags().StringVar(&opts.Period, "period", "", "only this month, YYYY-MM (default: every parked or waiting report)")
	outputFlag(cmd, &opts.Output, "text", textOrJSON)
	cmd.Flags().DurationVar(&opts.Wait, "wait", time.Minute, "how long to keep retrying transient failures")
	return cmd
}

func runReportRetry(ctx context.Context, opts *reportRetryOptions) error {
	var periods []reporter.Period
	if opts.Period != "" {
		p, err := reporter.ParsePeriod(opts.Period)
		if err != nil {
			return usageErrorf("--period: %v", err)
		}
		periods = []reporter.Period{p}
	}
	cfg, err := opts.Setup.config(false)
	if err != nil {
		return err
	}
	if opts.Setup.DatabaseURL == "" {
		if _, err := cfg.DatabaseURL(opts.Setup.Getenv); err != nil {
			opts.Setup.DatabaseURL = "postgresql://unused/unused" // retry sends what is queued; it does not count
		}
	}
	a, err := opts.Setup.agent(cfg, true, true)
	if err != nil {
		return err
	}
	n, err := a.Retry(ctx, periods)
	if err != nil {
		return err
	}
	if n == 0 {
		what := "any period"
		if opts.Period != "" {
			what = opts.Period
		}
		fmt.Fprintf(opts.IO.Err, "nothing parked or waiting for %s\n", what)
	}
	d, err := a.DeliverUntil(ctx, opts.Wait)
	if err != nil {
		return err
	}
	sum, err := outbox.Summarize(a.StateDir)
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, p := range periods {
		want[p.String()] = true
	}
	var shown []outbox.PeriodStatus
	var left int
	for _, ps := range sum.Periods {
		if len(want) > 0 && !want[ps.Period] {
			continue
		}
		ps.Fix = a.Commands.Fix(ps)
		if ps.State == outbox.StateParked || ps.State == outbox.StatePending {
			left++
		}
		shown = append(shown, ps)
	}
	if opts.Output == "json" {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(shown); err != nil {
			return err
		}
	} else {
		for _, ps := range shown {
			if ps.Revision == 0 {
				continue
			}
			fmt.Fprintf(opts.IO.Out, "%s  revision %d %s", ps.Period, ps.Revision, ps.State)
			switch ps.State {
			case outbox.StateAcked:
				fmt.Fprintf(opts.IO.Out, " (receipt %s)\n", reportOneLine(ps.Receipt))
			case outbox.StateParked:
				fmt.Fprintf(opts.IO.Out, ": %s\n  fix: %s\n", reportOneLine(ps.LastError), ps.Fix)
			default:
				fmt.Fprintf(opts.IO.Out, "; %s\n", ps.Fix)
			}
		}
	}
	if left > 0 {
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("%d report(s) still parked or undelivered (%d delivered, %d renumbered in this run)", left, d.Acked, d.Renumbered)}
	}
	return nil
}
