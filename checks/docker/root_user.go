package docker

import (
	"strings"

	"github.com/calctl/calctl/checks"
)

// RootUser is DK-002: containers do not run as root.
var RootUser = checks.New(checks.Meta{
	ID: "DK-002", Title: "Container runs as root", Severity: checks.Medium,
	Remediation: "Set `user: \"1000:1000\"` in compose or a `USER node` line in the Dockerfile.",
}, func(f *checks.Facts) []checks.Finding {
	return run(f, false, func(u unit) checks.Finding {
		ev := checks.Ev("config_user", u.user)
		if !isRootUser(u.user) {
			return checks.Finding{Status: checks.Pass, Evidence: ev, Message: "runs as " + u.user}
		}
		if u.c != nil && len(u.c.ProcessUsers) > 0 {
			ev["process_users"] = strings.Join(u.c.ProcessUsers, ",")
			allNonRoot := true
			for _, p := range u.c.ProcessUsers {
				if p == "root" || p == "0" {
					allNonRoot = false
				}
			}
			if allNonRoot {
				return checks.Finding{Status: checks.Pass, Evidence: ev, Message: "starts as root but its processes run as " + ev["process_users"]}
			}
		}
		return checks.Finding{Status: checks.Warn, Evidence: ev, Message: "runs as root (no USER set)"}
	})
})
