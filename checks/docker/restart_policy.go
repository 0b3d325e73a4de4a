package docker

import "github.com/calctl/calctl/checks"

// RestartPolicy is DK-005: db and app restart after a crash or reboot.
var RestartPolicy = checks.New(checks.Meta{
	ID: "DK-005", Title: "Restart policy", Severity: checks.Low,
	Remediation: "`restart: unless-stopped` (CIS 5.15 prefers on-failure:5; record the deviation).",
}, func(f *checks.Facts) []checks.Finding {
	return run(f, false, func(u unit) checks.Finding {
		ev := checks.Ev("restart", u.restart)
		switch u.restart {
		case "always", "unless-stopped", "on-failure":
			return checks.Finding{Status: checks.Pass, Evidence: ev, Message: "restart policy " + u.restart}
		}
		if u.role == "db" || u.role == "app" || u.role == "api" {
			return checks.Finding{Status: checks.Warn, Evidence: ev, Message: "no restart policy on the " + u.role + " container: it stays down after a crash or reboot"}
		}
		return checks.Finding{Status: checks.Pass, Evidence: ev, Message: "no restart policy (not a db or app container)"}
	})
})
