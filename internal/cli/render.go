package cli

import (
	"context"

	"github.com/calctl/calctl/installer"
	"github.com/calctl/calctl/installer/contract"
	"github.com/spf13/cobra"
)

type renderOptions struct {
	IO      IO
	Getenv  func(string) string
	Answers answersFlags
	Out     string
	Sink    contract.Sink
}

func newRenderCmd(f *Factory) *cobra.Command {
	opts := &renderOptions{IO: f.IO, Getenv: f.Getenv}
	cmd := &cobra.Command{
		Use:   "render",
		Short: "Render docker-compose or pm2 configuration, .env and secrets only",
		Long: `render runs the render, secrets and write steps of install and nothing else:
no preflight, clone, start or migration. For people who deploy with their own
tools. Secrets are generated once and kept byte for byte on every re-run;
changed files are backed up to <name>.bak-<UTC timestamp>.`,
		Example: `  calctl render --answers answers.yaml --out ./calcom --dry-run
  DATABASE_URL=postgresql://... calctl render --answers answers.yaml --out /opt/calcom`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRender(cmd.Context(), opts)
		},
	}
	opts.Answers.bind(cmd)
	cmd.Flags().StringVar(&opts.Out, "out", "", "directory to write to (overrides install_dir)")
	return cmd
}

func runRender(ctx context.Context, opts *renderOptions) error {
	if opts.Out != "" {
		abs, err := absPath(opts.Out)
		if err != nil {
			return usageErrorf("--out %q: %v", opts.Out, err)
		}
		opts.Answers.Set = append([]string{"install_dir=" + abs}, opts.Answers.Set...)
	}
	a, env, err := opts.Answers.load(opts.Getenv)
	if err != nil {
		return err
	}
	plan := installer.RenderPlan()
	if a.Target == contract.TargetKubernetes {
		if Kube == nil || Kube.RenderPlan == nil {
			return runKubernetesSibling(ctx, opts.IO)
		}
		plan = Kube.RenderPlan()
	}
	s := &installer.State{Answers: a, Env: env, Getenv: opts.Getenv, DryRun: opts.Answers.DryRun}
	e := &installer.Engine{Sink: contract.Tee(opts.Answers.sink(opts.IO), opts.Sink)}
	return runEngine(ctx, e, plan, s)
}
