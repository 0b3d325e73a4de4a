package cli

import (
	"context"

	"github.com/spf13/cobra"
)

type completionOptions struct {
	IO    IO
	Shell string
	// Root is the command tree the script completes.
	Root *cobra.Command
}

// completionShells are the shells `calctl completion` writes scripts for.
var completionShells = []string{"bash", "zsh", "fish", "powershell"}

func newCompletionCmd(f *Factory) *cobra.Command {
	opts := &completionOptions{IO: f.IO}
	return &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print a shell completion script",
		Long: `Print a shell completion script. For example:

  calctl completion bash > /etc/bash_completion.d/calctl
  calctl completion zsh > "${fpath[1]}/_calctl"
  calctl completion fish > ~/.config/fish/completions/calctl.fish`,
		ValidArgs: completionShells,
		Args: func(cmd *cobra.Command, args []string) error {
			if err := cobra.ExactArgs(1)(cmd, args); err != nil {
				return usageError{err}
			}
			if err := cobra.OnlyValidArgs(cmd, args); err != nil {
				return usageError{err}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Shell, opts.Root = args[0], cmd.Root()
			return runCompletion(cmd.Context(), opts)
		},
	}
}

func runCompletion(_ context.Context, opts *completionOptions) error {
	out := opts.IO.Out
	switch opts.Shell {
	case "bash":
		return opts.Root.GenBashCompletionV2(out, true)
	case "zsh":
		return opts.Root.GenZshCompletion(out)
	case "fish":
		return opts.Root.GenFishCompletion(out, true)
	default:
		return opts.Root.GenPowerShellCompletionWithDesc(out)
	}
}
