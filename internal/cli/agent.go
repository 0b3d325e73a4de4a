package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/calctl/calctl/internal/buildinfo"
	"github.com/calctl/calctl/internal/redact"
	"github.com/calctl/calctl/reporter/sender"
	"github.com/spf13/cobra"
)

type agentOptions struct {
	IO        IO
	Setup     agentSetup
	LogFormat string
}

func newAgentCmd(f *Factory) *cobra.Command {
	opts := &agentOptions{IO: f.IO, Setup: agentSetup{Getenv: f.Getenv, Backoff: sender.DefaultBackoff}}
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Count and report bookings on a schedule, forever",
		Long: `Run the usage agent: every interval (default 6h; each deployment gets its own
offset within the interval, from a hash of its deployment_id) it counts the
current month and every closed month without a final report, queues changed
counts as new revisions in the outbox (fsynced before any send), and delivers
them, signed, retrying transient failures with backoff. After a month ends
plus the grace period (default 72h) it sends the month's final report.

It survives restarts, outages and kill -9 without losing or double-billing a
report. SIGTERM or SIGINT stops it within a second; a send in flight is
abandoned and resent later under the same Idempotency-Key.

Logs go to stderr (slog), one line per submission; --log-format json for
journald or a log shipper. See docs/usage-reporting.md.`,
		Example: `  calctl agent --config /etc/calctl/agent.yaml --log-format json`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Setup.ConfigSet = cmd.Flags().Changed("config")
			return runAgent(cmd.Context(), opts)
		},
	}
	opts.Setup.bind(cmd)
	enumFlag(cmd, &opts.LogFormat, "log-format", "", "text", textOrJSON, "log format")
	return cmd
}

// newAgentLogger logs text, or JSON when format is "json".
func newAgentLogger(w io.Writer, format string) *slog.Logger {
	o := &slog.HandlerOptions{Level: slog.LevelInfo}
	// Secrets are secret.Secret (masked in logs); redact.Handler also takes
	// URL credentials out of messages and errors (a sender's Post "https://...").
	if format == "json" {
		return slog.New(redact.Handler(slog.NewJSONHandler(w, o)))
	}
	return slog.New(redact.Handler(slog.NewTextHandler(w, o)))
}

func runAgent(ctx context.Context, opts *agentOptions) error {
	log := newAgentLogger(opts.IO.Err, opts.LogFormat)
	cfg, err := opts.Setup.config(false)
	if err != nil {
		return err
	}
	a, err := opts.Setup.agent(cfg, true, true)
	if err != nil {
		return err
	}
	a.Log = log.With("version", buildinfo.Version)
	if err := a.Run(ctx); err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	return nil
}
