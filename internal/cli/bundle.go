package cli

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/checks/bundle"
	"github.com/calctl/calctl/checks/doctor"
	"github.com/calctl/calctl/internal/buildinfo"
	"github.com/calctl/calctl/reporter/agentconfig"
)

type bundleOptions struct {
	IO       IO
	Factory  *Factory
	Target   targetOptions
	Out      string
	Since    string
	Tail     int
	StateDir string
}

func newBundleCmd(f *Factory) *cobra.Command {
	opts := &bundleOptions{IO: f.IO, Factory: f}
	cmd := &cobra.Command{
		Use:   "bundle --out FILE.tar.gz",
		Short: "Write a redacted support bundle (facts, results, doctor, logs, config)",
		Long: `bundle collects the same facts as check and writes a .tar.gz for support:
facts, check results, doctor output, versions, containers and their recent
logs, and the install's .env / compose / pm2 files. Secrets are redacted
before anything is written; manifest.json lists every file and every
redaction (key and rule, never the value). Re-judge it offline with
'calctl check --from-bundle FILE'.

For a Kubernetes namespace (--profile kubernetes, --kubeconfig/--context/
--namespace, or kubernetes answers) it holds the namespace's objects as YAML
with every Secret value redacted (keys kept), its events, its pods' recent
logs (or why there are none), and the K8S facts and results.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Target.dockerSet = cmd.Flags().Changed("docker")
			return runBundle(cmd.Context(), opts)
		},
	}
	addTargetFlags(cmd, &opts.Target)
	cmd.Flags().StringVar(&opts.Out, "out", "", "bundle file to write (.tar.gz)")
	cmd.Flags().StringVar(&opts.Since, "since", "24h", "container logs since (duration like 24h, or RFC 3339)")
	cmd.Flags().IntVar(&opts.Tail, "tail", 500, "last N log lines per container")
	cmd.Flags().StringVar(&opts.StateDir, "state-dir", agentconfig.DefaultStateDir, "calctl state directory (usage outbox)")
	return cmd
}

func runBundle(ctx context.Context, opts *bundleOptions) error {
	if opts.Out == "" {
		return usageErrorf("--out FILE.tar.gz is required")
	}
	if !strings.HasSuffix(opts.Out, ".tar.gz") && !strings.HasSuffix(opts.Out, ".tgz") {
		return usageErrorf("--out %s: the bundle is a .tar.gz", opts.Out)
	}
	if opts.Since != "" {
		if _, err := time.ParseDuration(opts.Since); err != nil {
			if _, err2 := time.Parse(time.RFC3339, opts.Since); err2 != nil {
				return usageErrorf("--since %q: use a duration (24h) or an RFC 3339 time", opts.Since)
			}
		}
	}
	if _, err := os.Stat(opts.Out); err == nil {
		return usageErrorf("%s already exists; choose another --out", opts.Out)
	}
	opts.Target.allowKube = true
	if kt, kube, err := opts.Target.kubeTarget(opts.Factory); err != nil {
		return err
	} else if kube {
		return runKubeBundle(ctx, opts, kt)
	}
	facts, co, err := loadFacts(ctx, opts.Factory, &opts.Target, "")
	if err != nil {
		return err
	}
	rep := judge(facts, checks.Selection{}, nil)
	d := doctor.Build(ctx, facts, rep, doctor.Options{StateDir: opts.StateDir, Top: 20})
	d.RunPreflight(ctx, facts, co, opts.Factory.Getenv)
	in := bundle.Inputs{Facts: facts, Report: rep, Doctor: d, Options: co,
		LogSince: opts.Since, LogTail: opts.Tail, Tool: checks.Tool{Name: "calctl", Version: buildinfo.Version}}
	m, err := bundle.Write(ctx, opts.Out, in)
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.Err, "wrote %s: %d files, %d redactions, %d left out (see manifest.json)\n", opts.Out, len(m.Files)+1, len(m.Redactions), len(m.Omitted))
	return nil
}
