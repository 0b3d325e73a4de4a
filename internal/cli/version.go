package cli

import (
	"context"
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
			return runVersion(cmd.Context(), opts)
		},
	}
	outputFlag(cmd, &opts.Output, "text", textOrJSON)
	return cmd
}

func runVersion(_ context.Context, opts *versionOptions) error {
	in := buildinfo.Get()
	// which binary this is: the lean calctl or calctl-kubernetes (plugin.go)
	name := "calctl"
	if Kube != nil {
		name = KubernetesBinary
	}
	if opts.Output == "json" {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Binary string `json:"binary"`
			buildinfo.Info
		}{name, in})
	}
	commit := in.Commit
	if commit == "" {
		commit = "unknown"
	}
	date := in.Date
	if date == "" {
		date = "unknown"
	}
	_, err := fmt.Fprintf(opts.IO.Out, "%s %s (commit %s, built %s, %s, %s)\n", name, in.Version, commit, date, in.GoVersion, in.Platform)
	return err
}
