package cli

import "github.com/spf13/cobra"

func newCloneCmd(f *Factory) *cobra.Command {
	return &cobra.Command{Use: "clone URL DIR", Short: "Clone Cal.com with its submodules resolved, flattened or skipped"}
}
