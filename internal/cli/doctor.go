package cli

import (
	"context"
	"encoding/json"

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
}

func newDoctorCmd(f *Factory) *cobra.Command {
	opts := &doctorOptions{IO: f.IO, Factory: f}
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "One-screen diagnosis of a Cal.com install, with the next command for each problem",
		Long: `doctor shows versions, connectivity (database, Docker, public URL, billing
endpoint), containers and restarts, failed Prisma migrations, the usage
outbox and the most severe check findings, each with the command to run next.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Target.dockerSet = cmd.Flags().Changed("docker")
			return runDoctor(cmd.Context(), opts)
		},
	}
	addTargetFlags(cmd, &opts.Target)
	outputFlag(cmd, &opts.Output, "text", textOrJSON)
	cmd.Flags().StringVar(&opts.FromBundle, "from-bundle", "", "diagnose from a support bundle")
	cmd.Flags().StringVar(&opts.StateDir, "state-dir", agentconfig.DefaultStateDir, "calctl state directory (usage outbox)")
	cmd.Flags().StringVar(&opts.BillingURL, "billing-url", "", "billing endpoint to probe (optional)")
	cmd.Flags().IntVar(&opts.Top, "top", 8, "how many findings to show")
	return cmd
}

func runDoctor(ctx context.Context, opts *doctorOptions) error {
	facts, co, err := loadFacts(ctx, opts.Factory, &opts.Target, opts.FromBundle)
	if err != nil {
		return err
	}
	rep := judge(facts, checks.Selection{}, nil)
	d := doctor.Build(ctx, facts, rep, doctor.Options{StateDir: opts.StateDir, BillingURL: opts.BillingURL, Top: opts.Top, FromBundle: opts.FromBundle})
	if opts.FromBundle == "" {
		d.RunPreflight(ctx, facts, co, opts.Factory.Getenv)
	} else {
		d.PreflightNote = "not run on a bundle (see doctor.txt in the bundle)"
	}
	if opts.Output == "json" {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(d)
	}
	return d.WriteText(opts.IO.Out)
}
