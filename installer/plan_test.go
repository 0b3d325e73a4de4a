package installer

import (
	"slices"
	"testing"

	"github.com/calctl/calctl/installer/contract"
	"github.com/calctl/calctl/installer/gitsource"
)

// TestPlanStepNames keeps the step names the contract publishes equal to
// the steps' own, in plan order.
func TestPlanStepNames(t *testing.T) {
	names := func(plan []Step) []string {
		var out []string
		for _, s := range plan {
			out = append(out, s.Name())
		}
		return out
	}
	if got := names(InstallPlan(&Answers{})); !slices.Equal(got, contract.InstallSteps) {
		t.Errorf("InstallPlan: %q, contract.InstallSteps: %q", got, contract.InstallSteps)
	}
	if got := names(RenderPlan()); !slices.Equal(got, contract.RenderSteps) {
		t.Errorf("RenderPlan: %q, contract.RenderSteps: %q", got, contract.RenderSteps)
	}
}

// TestSubmoduleModesAreGitsources: the modes the answers and flags accept
// are the ones the clone understands.
func TestSubmoduleModesAreGitsources(t *testing.T) {
	for _, m := range contract.SubmoduleModes {
		if got, err := gitsource.ParseMode(m); err != nil || string(got) != m {
			t.Errorf("gitsource.ParseMode(%q) = %q, %v", m, got, err)
		}
	}
}
