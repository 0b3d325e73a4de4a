package docker

import (
	"fmt"

	"github.com/calctl/calctl/checks"
)

// PidsLimit is DK-020.
var PidsLimit = limitCheck("DK-020", "Container PIDs limit", "pids",
	"Set `pids_limit` per service (a few hundred for Node, more for Postgres with many connections).",
	func(l checks.Limits) (bool, string) {
		if l.Pids <= 0 {
			return false, ""
		}
		return true, fmt.Sprint(l.Pids)
	})
