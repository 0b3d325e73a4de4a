package installer

import (
	"slices"
	"testing"

	"github.com/calctl/calctl/installer/contract"
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
