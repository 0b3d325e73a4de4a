package cli

import (
	"context"
	"fmt"
	"os/exec"
	"strings"

	"github.com/calctl/calctl/installer/contract"
	"github.com/spf13/cobra"
)

type logsOptions struct {
	IO      IO
	Getenv  func(string) string
	Dir     string
	Follow  bool
	Tail    string
	Service string
	// DryRun prints the command instead of running it.
	DryRun bool
}

func newLogsCmd(f *Factory) *cobra.Command {
	opts := &logsOptions{IO: f.IO, Getenv: f.getenv}
	cmd := &cobra.Command{
		Use:   "logs [SERVICE]",
		Short: "Show the logs of the install's services (docker compose logs, or pm2 logs)",
		Example: `  calctl logs            # every service, last 200 lines each
  calctl logs web -f     # follow the web app
  calctl logs --dir /opt/calcom database`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Service = args[0]
			}
			return runLogs(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Dir, "dir", "", installDirUsage)
	cmd.Flags().BoolVarP(&opts.Follow, "follow", "f", false, "keep printing new lines")
	cmd.Flags().StringVar(&opts.Tail, "tail", "200", "lines to show from the end of each log (all: everything)")
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "print the command instead of running it")
	_ = cmd.RegisterFlagCompletionFunc("tail", cobra.FixedCompletions([]string{"50", "200", "1000", "all"}, cobra.ShellCompDirectiveNoFileComp))
	cmd.ValidArgsFunction = func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		return []string{"web", "api", "database", "proxy", "agent", "cron"}, cobra.ShellCompDirectiveNoFileComp
	}
	return cmd
}

func runLogs(ctx context.Context, opts *logsOptions) error {
	in, err := findInstall(ctx, opts.Getenv, opts.Dir)
	if err != nil {
		return err
	}
	var argv []string
	if in.Answers.Target == contract.TargetPM2 {
		argv = []string{"pm2", "logs"}
		if svc := opts.Service; svc != "" {
			// the rendered ecosystem file names its apps calcom-web, calcom-api
			if !strings.HasPrefix(svc, "calcom-") {
				svc = "calcom-" + svc
			}
			argv = append(argv, svc)
		}
		if opts.Tail != "all" {
			argv = append(argv, "--lines", opts.Tail)
		}
		if !opts.Follow {
			argv = append(argv, "--nostream")
		}
	} else {
		sub := []string{"logs", "--tail", opts.Tail}
		if opts.Follow {
			sub = append(sub, "--follow")
		}
		if opts.Service != "" {
			sub = append(sub, opts.Service)
		}
		argv = in.composeArgv(opts.Getenv, sub...)
	}
	fmt.Fprintf(opts.IO.Err, "calctl: logs of the %s: %s\n", in.say(), strings.Join(argv, " "))
	if opts.DryRun {
		fmt.Fprintln(opts.IO.Out, strings.Join(argv, " "))
		return nil
	}
	if _, err := exec.LookPath(argv[0]); err != nil {
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("%s is not installed or not on PATH: the install's logs are read with it", argv[0])}
	}
	return in.run(ctx, opts.Getenv, opts.IO.Out, opts.IO.Err, argv)
}
