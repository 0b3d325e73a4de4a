package cli

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/calctl/calctl/installer/tui"
)

// selfExecutable is the calctl the upgrade handoff re-executes
// (os.Executable); tests point it at a stub that records its arguments.
var selfExecutable = os.Executable

// upgradeHandoff runs the upgrade the wizard's Welcome screen gathered
// (tui.Handoff with Result.Upgrade): `calctl upgrade --ref REF --dir DIR`,
// plus --dry-run when the wizard was started with it, by re-executing this
// calctl on the same terminal. It says first what it runs, forwards
// SIGINT and SIGTERM, and exits with the upgrade's exit code.
func upgradeHandoff(ctx context.Context, f *Factory, u *tui.UpgradeHandoff, o wizardOptions) error {
	self, err := selfExecutable()
	if err != nil {
		return fmt.Errorf("run calctl upgrade: cannot find this calctl (%w); run it yourself: calctl upgrade --ref %s --dir %s", err, u.Ref, u.Dir)
	}
	args := []string{"upgrade", "--ref", u.Ref, "--dir", u.Dir}
	if o.DryRun {
		args = append(args, "--dry-run")
	}
	fmt.Fprintf(f.IO.Err, "calctl: upgrading the install: calctl %s\n", strings.Join(args, " "))
	return runAttached(ctx, f.IO, self, args, nil)
}
