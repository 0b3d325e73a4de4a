package docker

import (
	"github.com/calctl/calctl/checks"
)

// limitCheck builds the memory, CPU and PIDs limit checks (CIS Docker 5.11,
// 5.12, 5.29): a runaway or compromised container must not starve the
// database next to it (HIPAATable cites §164.308(a)(1)(ii)(B), risk
// management; the citation review in docs/checks.md dropped (a)(7)(ii)(C)
// for availability measures).
func limitCheck(id, title, what, fix string, get func(l checks.Limits) (bool, string)) checks.Check {
	return checks.New(checks.Meta{ID: id, Title: title, Severity: checks.Low, Remediation: fix},
		func(f *checks.Facts) []checks.Finding {
			return run(f, false, func(u unit) checks.Finding {
				set, v := get(u.limits)
				ev := checks.Ev(what, v)
				if !set {
					return checks.Finding{Status: checks.Warn, Evidence: ev, Message: "no " + what + " limit"}
				}
				return checks.Finding{Status: checks.Pass, Evidence: ev, Message: what + " limit " + v}
			})
		})
}
