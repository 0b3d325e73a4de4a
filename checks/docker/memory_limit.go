package docker

import (
	"fmt"

	"github.com/calctl/calctl/checks"
)

// MemoryLimit is DK-018.
var MemoryLimit = limitCheck("DK-018", "Container memory limit", "memory",
	"Set `mem_limit` (or deploy.resources.limits.memory) per service, sized from `docker stats`.",
	func(l checks.Limits) (bool, string) {
		if l.MemoryBytes <= 0 {
			return false, ""
		}
		return true, fmt.Sprintf("%d MiB", l.MemoryBytes>>20)
	})
