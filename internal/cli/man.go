package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

func newManCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:    "man DIR",
		Short:  "Write calctl's man pages (section 1), generated from the commands, into DIR",
		Hidden: true, // for packagers (.goreleaser.yaml); users read them with man calctl
		Args:   cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := os.MkdirAll(args[0], 0o755); err != nil {
				return err
			}
			root := cmd.Root()
			root.DisableAutoGenTag = true // pages do not change with the build date
			h := &doc.GenManHeader{Title: "CALCTL", Section: "1", Source: "calctl", Manual: "calctl manual"}
			if err := doc.GenManTree(root, h, args[0]); err != nil {
				return fmt.Errorf("man pages: %w", err)
			}
			fmt.Fprintf(f.IO.Err, "calctl: man pages written to %s\n", args[0])
			return nil
		},
	}
}
