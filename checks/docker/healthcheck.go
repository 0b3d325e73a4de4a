package docker

import "github.com/calctl/calctl/checks"

// Healthcheck is DK-010: db and app have healthchecks and are healthy.
var Healthcheck = checks.New(checks.Meta{
	ID: "DK-010", Title: "Healthchecks", Severity: checks.Low,
	Remediation: "db: `healthcheck: test: [\"CMD\", \"pg_isready\"]`; the app image already has a HEALTHCHECK.",
}, func(f *checks.Facts) []checks.Finding {
	return run(f, false, func(u unit) checks.Finding {
		if u.c != nil && u.c.Health == "unhealthy" {
			return checks.Finding{Status: checks.Fail, Message: "the container is unhealthy now"}
		}
		if u.healthy {
			return checks.Finding{Status: checks.Pass, Message: "healthcheck defined"}
		}
		if u.role == "db" || u.role == "app" {
			return checks.Finding{Status: checks.Warn, Message: "no healthcheck on the " + u.role + " container"}
		}
		return checks.Finding{Status: checks.Pass, Message: "no healthcheck (not a db or app container)"}
	})
})
