package cli

import (
	"encoding/json"
	"fmt"

	"github.com/calctl/calctl/internal/buildinfo"
	"github.com/spf13/cobra"
)

type versionOptions struct {
	IO     IO
	Output string
}

func newVersionCmd(f *Factory) *cobra.Command {
	opts := &versionOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print calctl's version, commit, build date and Go version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runVersion(opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "text", "output format: text or json")
	return cmd
}

func runVersion(opts *versionOptions) error {
	in := buildinfo.Get()
	switch opts.Output {
	case "json":
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(in)
	case "text", "":
		commit := in.Commit
		if commit == "" {
			commit = "unknown"
		}
		date := in.Date
		if date == "" {
			date = "unknown"
		}
		_, err := fmt.Fprintf(opts.IO.Out, "calctl %s (commit %s, built %s, %s, %s)\n", in.Version, commit, date, in.GoVersion, in.Platform)
		return err
	default:
		return usageErrorf("unknown output format %q: use text or json", opts.Output)
	}
}
