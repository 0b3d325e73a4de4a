package docker

import (
	"fmt"

	"github.com/calctl/calctl/checks"
)

// CPULimit is DK-019.
var CPULimit = limitCheck("DK-019", "Container CPU limit", "cpu",
	"Set `cpus` (or deploy.resources.limits.cpus) per service.",
	func(l checks.Limits) (bool, string) {
		if l.CPUs <= 0 {
			return false, ""
		}
		return true, fmt.Sprintf("%g CPUs", l.CPUs)
	})
