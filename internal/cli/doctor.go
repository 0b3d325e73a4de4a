package cli

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/checks/doctor"
	"github.com/calctl/calctl/reporter/agentconfig"
)

type doctorOptions struct {
	IO         IO
	Factory    *Factory
	Target     targetOptions
	Output     string
	FromBundle string
	StateDir   string
	BillingURL string
	Top        int
	// Usage reads the usage agent's config (--config) for the per-period
	// reporting state; a missing default config means defaults.
	Usage agentSetup
}

func newDoctorCmd(f *Factory) *cobra.Command {
	opts := &doctorOptions{IO: f.IO, Factory: f, Usage: agentSetup{Getenv: f.Getenv}}
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "One-screen diagnosis of a Cal.com install, with the next command for each problem",
		Long: `doctor shows versions, connectivity (database, Docker, public URL, billing
endpoint), containers and restarts, failed Prisma migrations, the usage
outbox and the most severe check findings, each with the command to run next.

Exit codes: 0 once the report is written; 4 when the database could not be
reached (the report says why, in one line with the fix; the diagnosis is
incomplete); 1 when calctl itself failed; 2 for a command-line mistake.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Target.dockerSet = cmd.Flags().Changed("docker")
			opts.Usage.ConfigSet = cmd.Flags().Changed("config")
			if cmd.Flags().Changed("state-dir") {
				opts.Usage.StateDir = opts.StateDir
			}
			return runDoctor(cmd.Context(), opts)
		},
	}
	addTargetFlags(cmd, &opts.Target)
	outputFlag(cmd, &opts.Output, "text", textOrJSON)
	cmd.Flags().StringVar(&opts.FromBundle, "from-bundle", "", "diagnose from a support bundle")
	cmd.Flags().StringVar(&opts.StateDir, "state-dir", agentconfig.DefaultStateDir, "calctl state directory (usage outbox); default: the agent config's state_dir")
	cmd.Flags().StringVar(&opts.Usage.ConfigPath, "config", agentconfig.DefaultPath, "usage agent config, for the reporting state per month (optional)")
	cmd.Flags().StringVar(&opts.BillingURL, "billing-url", "", "billing endpoint to probe (optional)")
	cmd.Flags().IntVar(&opts.Top, "top", 8, "how many findings to show")
	return cmd
}

func runDoctor(ctx context.Context, opts *doctorOptions) error {
	if opts.FromBundle == "" && opts.Usage.ConfigSet {
		// An explicit agent config names the deployment it reports for:
		// diagnose that one when no other target was given.
		aimAtAgentDeployment(&opts.Target, &opts.Usage)
	}
	facts, co, err := loadFacts(ctx, opts.Factory, &opts.Target, opts.FromBundle)
	if err != nil {
		return err
	}
	rep := judge(facts, checks.Selection{}, nil)
	dopts := doctor.Options{StateDir: opts.StateDir, BillingURL: opts.BillingURL, Top: opts.Top, FromBundle: opts.FromBundle}
	if opts.FromBundle == "" {
		// Per month: what was sent, what billing holds now, and the fix.
		if sum, cfg, _, err := usageStatus(ctx, &opts.Usage, true, opts.IO.Err); err == nil {
			dopts.Usage, dopts.StateDir = &sum, cfg.StateDir
		} else if opts.Usage.ConfigSet {
			return err
		}
	}
	d := doctor.Build(ctx, facts, rep, dopts)
	if opts.FromBundle == "" {
		d.RunPreflight(ctx, facts, co, opts.Factory.Getenv)
	} else {
		d.PreflightNote = "not run on a bundle (see doctor.txt in the bundle)"
	}
	if opts.Output == "json" {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(d); err != nil {
			return err
		}
	} else if err := d.WriteText(opts.IO.Out); err != nil {
		return err
	}
	// The report is out; a database calctl could not reach makes the
	// diagnosis incomplete (its PG checks are ERROR), as for check.
	if st := facts.Source(checks.SourcePG); opts.FromBundle == "" && st.Error != "" {
		return &ExitError{Code: ExitIncomplete, Err: fmt.Errorf("the database was not reached, so the diagnosis is incomplete: %s", st.Error)}
	}
	return nil
}

// aimAtAgentDeployment fills an empty target from the agent config: its
// env_file is the install's .env, else its database URL is the database to
// diagnose. A config that cannot be read leaves the target as it is (the
// usage section reports that error).
func aimAtAgentDeployment(t *targetOptions, u *agentSetup) {
	if t.Dir != "" || t.EnvFile != "" || t.ComposeFile != "" || t.PM2File != "" || t.DatabaseURL != "" || t.URL != "" {
		return
	}
	c, err := agentconfig.Load(u.ConfigPath)
	if err != nil {
		return
	}
	if c.EnvFile != "" {
		t.EnvFile = c.EnvFile
		return
	}
	if u.DatabaseURL != "" {
		t.DatabaseURL = u.DatabaseURL
	} else if url, err := c.DatabaseURL(u.Getenv); err == nil {
		t.DatabaseURL = url.Reveal()
	}
}
