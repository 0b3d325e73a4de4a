package docker

import "github.com/calctl/calctl/checks"

// Privileged is DK-001: no privileged containers.
var Privileged = checks.New(checks.Meta{
	ID: "DK-001", Title: "Privileged containers", Severity: checks.Critical,
	Remediation: "Drop `privileged: true`; add single capabilities instead.",
}, func(f *checks.Facts) []checks.Finding {
	return run(f, false, func(u unit) checks.Finding {
		if u.privileged {
			return checks.Finding{Status: checks.Fail, Message: "runs privileged: full access to the host"}
		}
		return checks.Finding{Status: checks.Pass, Message: "not privileged"}
	})
})
