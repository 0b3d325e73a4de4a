package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// enumValue is a string flag that accepts only the values in options (case
// insensitively; it stores the option as listed).
type enumValue struct {
	p       *string
	options []string
}

func (e *enumValue) String() string { return *e.p }
func (e *enumValue) Type() string   { return "string" }

func (e *enumValue) Set(v string) error {
	for _, o := range e.options {
		if strings.EqualFold(strings.TrimSpace(v), o) {
			*e.p = o
			return nil
		}
	}
	return fmt.Errorf("valid values are %s", enumList(e.options))
}

func enumList(options []string) string { return "{" + strings.Join(options, "|") + "}" }

// enumFlag binds a string flag that accepts only options, after cli/cli's
// cmdutil.StringEnumFlag: the help text lists them, shell completion offers
// them, and any other value is a usage error (exit 2) while flags are
// parsed, before the command runs. Every enum flag of calctl goes through
// it, so the list a flag accepts is written once.
func enumFlag(cmd *cobra.Command, p *string, name, shorthand, def string, options []string, usage string) *pflag.Flag {
	*p = def
	f := cmd.Flags().VarPF(&enumValue{p: p, options: options}, name, shorthand, usage+": "+enumList(options))
	_ = cmd.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(options, cobra.ShellCompDirectiveNoFileComp))
	return f
}

// outputFlag is -o/--output, an enumFlag.
func outputFlag(cmd *cobra.Command, p *string, def string, options []string) *pflag.Flag {
	return enumFlag(cmd, p, "output", "o", def, options, "output format")
}

// textOrJSON are the formats of most commands' -o.
var textOrJSON = []string{"text", "json"}
