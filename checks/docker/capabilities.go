package docker

import (
	"strings"

	"github.com/calctl/calctl/checks"
)

var dangerousCaps = []string{"ALL", "SYS_ADMIN", "SYS_PTRACE", "SYS_MODULE", "DAC_READ_SEARCH"}

// Capabilities is DK-011: privilege escalation, capabilities, seccomp.
var Capabilities = checks.New(checks.Meta{
	ID: "DK-011", Title: "Privilege escalation, capabilities, seccomp", Severity: checks.Medium,
	Remediation: "`security_opt: [\"no-new-privileges:true\"]`, `cap_drop: [ALL]`; never seccomp/apparmor unconfined.",
}, func(f *checks.Facts) []checks.Finding {
	return run(f, false, func(u unit) checks.Finding {
		var is checks.Issues
		for _, c := range dangerousCaps {
			if hasFold(u.capAdd, c) || hasFold(u.capAdd, "CAP_"+c) {
				is.Add(checks.Fail, "adds capability %s", c)
			}
		}
		nnp := false
		for _, o := range u.secOpt {
			lo := strings.ToLower(o)
			if strings.Contains(lo, "unconfined") {
				is.Add(checks.Fail, "security option %s", o)
			}
			if strings.HasPrefix(lo, "no-new-privileges") && !strings.HasSuffix(lo, "false") {
				nnp = true
			}
		}
		if !nnp {
			is.Add(checks.Warn, "no-new-privileges is not set")
		}
		if !hasFold(u.capDrop, "ALL") {
			is.Add(checks.Warn, "capabilities are not dropped (cap_drop: ALL)")
		}
		return is.Finding(u.name, "no-new-privileges set, all capabilities dropped", checks.Ev("cap_add", strings.Join(u.capAdd, ","), "cap_drop", strings.Join(u.capDrop, ",")))
	})
})
