package docker

import "github.com/calctl/calctl/checks"

// Logging is DK-006: log driver with retention.
var Logging = checks.New(checks.Meta{
	ID: "DK-006", Title: "Log driver and retention", Severity: checks.Medium,
	Remediation: "daemon.json `log-driver` plus `log-opts` max-size/max-file, shipped off-host (journald, syslog, fluentd, gelf, awslogs).",
}, func(f *checks.Facts) []checks.Finding {
	return run(f, true, func(u unit) checks.Finding {
		c := u.c
		ev := checks.Ev("log_driver", c.LogDriver, "max_size", c.LogOpts["max-size"])
		switch c.LogDriver {
		case "none":
			if u.role == "db" || u.role == "app" {
				return checks.Finding{Status: checks.Fail, Evidence: ev, Message: "logging is off (driver none)"}
			}
			return checks.Finding{Status: checks.Warn, Evidence: ev, Message: "logging is off (driver none)"}
		case "json-file", "local", "":
			if c.LogOpts["max-size"] == "" && c.LogDriver != "local" {
				return checks.Finding{Status: checks.Warn, Evidence: ev, Message: "json-file logs without max-size: unbounded and kept only on this host"}
			}
			return checks.Finding{Status: checks.Pass, Evidence: ev, Message: c.LogDriver + " with rotation (ship logs off-host for audit)"}
		default:
			return checks.Finding{Status: checks.Pass, Evidence: ev, Message: "remote log driver " + c.LogDriver}
		}
	})
})
