package cli

import (
	"time"

	"github.com/calctl/calctl/internal/buildinfo"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// addDay2Conveniences gives the command tree what users of gh and kubectl
// expect: `calctl --version`, and completion of every --period flag with
// the recent months (the --target, -o and --profile enums complete through
// enumFlag already).
func addDay2Conveniences(root *cobra.Command) {
	in := buildinfo.Get()
	root.Version = in.Version
	root.SetVersionTemplate("calctl {{.Version}} (commit " + orUnknown(in.Commit) + ", built " + orUnknown(in.Date) + ", " + in.GoVersion + ", " + in.Platform + ")\n")
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.Flags().VisitAll(func(fl *pflag.Flag) {
			if fl.Name == "period" {
				if _, ok := c.GetFlagCompletionFunc("period"); !ok {
					_ = c.RegisterFlagCompletionFunc("period", completePeriods)
				}
			}
		})
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// completePeriods offers the current UTC month and the twelve before it,
// newest first (periods are UTC months, YYYY-MM: usage-protocol.md).
func completePeriods(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	now := time.Now().UTC()
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	out := make([]string, 0, 13)
	for i := 0; i < 13; i++ {
		out = append(out, first.AddDate(0, -i, 0).Format("2006-01"))
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
