package cli

import (
	"context"
	"fmt"

	"github.com/calctl/calctl/internal/cronjob"
	"github.com/calctl/calctl/internal/dotenv"
	"github.com/calctl/calctl/internal/safefile"
	"github.com/spf13/cobra"
)

type cronOptions struct {
	IO        IO
	Getenv    func(string) string
	Config    string
	EnvFile   string
	Once      bool
	LogFormat string
}

func newCronCmd(f *Factory) *cobra.Command {
	opts := &cronOptions{IO: f.IO, Getenv: f.Getenv}
	cmd := &cobra.Command{
		Use:   "cron",
		Short: "Call Cal.com's cron routes on the schedules of the checked-out tree",
		Long: `Run Cal.com's cron routes (booking reminders, workflow e-mails, calendar
cache clean-up, ...): nothing calls them unless the host schedules it. calctl
install writes cron/cron.yaml from the routes and schedules the checked-out
tree gives them (.github/workflows/cron-*.yml, apps/web/vercel.json) and runs
this command as the compose cron service or, on pm2 hosts, as the systemd unit
cron/calctl-cron.service.

The key comes from CRON_API_KEY (and CRON_SECRET for routes that want
"Bearer"), in the environment or in --env-file (Cal.com's .env, read as
compose reads it). Schedules are UTC. --once calls every route once and exits
non-zero if any did not answer 2xx.`,
		Example: `  calctl cron --config /opt/calcom/cron/cron.yaml --env-file /opt/calcom/.env
  calctl cron --config cron/cron.yaml --once`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runCron(cmd.Context(), opts) },
	}
	cmd.Flags().StringVar(&opts.Config, "config", "", "cron.yaml written by calctl install (required)")
	cmd.Flags().StringVar(&opts.EnvFile, "env-file", "", "read CRON_API_KEY and CRON_SECRET from this .env instead of the environment")
	cmd.Flags().BoolVar(&opts.Once, "once", false, "call every route once now and exit")
	enumFlag(cmd, &opts.LogFormat, "log-format", "", "text", textOrJSON, "log format")
	return cmd
}

func runCron(ctx context.Context, opts *cronOptions) error {
	log := newAgentLogger(opts.IO.Err, opts.LogFormat)
	if opts.Config == "" {
		return usageErrorf("--config is required")
	}
	b, err := safefile.ReadFile(opts.Config, 1<<20)
	if err != nil {
		return fmt.Errorf("cron: %w", err)
	}
	cfg, err := cronjob.ParseConfig(b)
	if err != nil {
		return err
	}
	keys := cronjob.Keys{APIKey: opts.Getenv("CRON_API_KEY"), Secret: opts.Getenv("CRON_SECRET")}
	if opts.EnvFile != "" {
		f, err := dotenv.Read(opts.EnvFile)
		if err != nil {
			return fmt.Errorf("cron: %w", err)
		}
		keys.APIKey, _ = f.Lookup("CRON_API_KEY")
		keys.Secret, _ = f.Lookup("CRON_SECRET")
	}
	if keys.APIKey == "" && keys.Secret == "" {
		return fmt.Errorf("cron: CRON_API_KEY and CRON_SECRET are empty; set them (calctl install writes them to .env)")
	}
	r := &cronjob.Runner{Config: cfg, Keys: keys, Log: log}
	if opts.Once {
		return r.Once(ctx)
	}
	log.Info("cron runner started", "jobs", len(cfg.Jobs), "base_url", cfg.BaseURL)
	return r.Run(ctx)
}
