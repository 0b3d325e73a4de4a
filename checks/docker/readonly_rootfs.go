package docker

import "github.com/calctl/calctl/checks"

// ReadonlyRootfs is DK-007: app containers have a read-only root filesystem.
var ReadonlyRootfs = checks.New(checks.Meta{
	ID: "DK-007", Title: "Read-only root filesystem", Severity: checks.Low,
	Remediation: "`read_only: true` plus `tmpfs: [/tmp]`; test the Next.js cache directory first.",
}, func(f *checks.Facts) []checks.Finding {
	return run(f, false, func(u unit) checks.Finding {
		switch {
		case u.readonly:
			return checks.Finding{Status: checks.Pass, Message: "root filesystem is read-only"}
		case u.role == "app" || u.role == "api":
			return checks.Finding{Status: checks.Warn, Message: "the " + u.role + " container's root filesystem is writable"}
		default:
			return checks.Finding{Status: checks.Pass, Message: "writable root filesystem (exempt: role " + roleName(u.role) + ")"}
		}
	})
})

func roleName(r string) string {
	if r == "" {
		return "other"
	}
	return r
}
