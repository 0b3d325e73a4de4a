package docker

import (
	"strings"

	"github.com/calctl/calctl/checks"
)

// remoteDrivers send logs off the container's host (journald and syslog
// hand them to the host's logging system, which forwards them).
var remoteDrivers = map[string]bool{"journald": true, "syslog": true, "fluentd": true, "gelf": true, "awslogs": true,
	"splunk": true, "gcplogs": true, "logentries": true, "etwlogs": true, "loki": true}

// Logging is DK-006: logs kept with retention and shipped off-host. It once
// passed json-file logs that stayed on the host with no shipper: an audit
// trail on the machine an intruder controls is not one (§164.312(b)).
var Logging = checks.New(checks.Meta{
	ID: "DK-006", Title: "Log driver and retention", Severity: checks.Medium,
	Remediation: "Ship container logs off-host: a remote log driver (journald/syslog forwarded, fluentd, gelf, awslogs) or a shipper (Fluent Bit, Vector, Promtail) reading json-file logs; keep max-size/max-file rotation.",
}, func(f *checks.Facts) []checks.Finding {
	var shippers []string
	if f.Docker != nil {
		shippers = f.Docker.LogShippers
	}
	return run(f, true, func(u unit) checks.Finding {
		c := u.c
		ev := checks.Ev("log_driver", c.LogDriver, "max_size", c.LogOpts["max-size"], "max_file", c.LogOpts["max-file"], "shippers", strings.Join(shippers, "; "))
		switch {
		case c.LogDriver == "none":
			if u.role == "db" || u.role == "app" {
				return checks.Finding{Status: checks.Fail, Evidence: ev, Message: "logging is off (driver none)"}
			}
			return checks.Finding{Status: checks.Warn, Evidence: ev, Message: "logging is off (driver none)"}
		case remoteDrivers[c.LogDriver]:
			return checks.Finding{Status: checks.Pass, Evidence: ev, Message: "log driver " + c.LogDriver + " hands logs to a logging system"}
		case c.LogDriver == "json-file" || c.LogDriver == "local" || c.LogDriver == "":
			if c.LogOpts["max-size"] == "" && c.LogDriver != "local" {
				return checks.Finding{Status: checks.Warn, Evidence: ev, Message: "json-file logs without max-size: unbounded and kept only on this host"}
			}
			if len(shippers) == 0 {
				return checks.Finding{Status: checks.Warn, Evidence: ev, Message: c.LogDriver + " logs are rotated but stay on this host: no log shipper found"}
			}
			return checks.Finding{Status: checks.Pass, Evidence: ev, Message: c.LogDriver + " logs rotated and shipped by " + shippers[0]}
		}
		return checks.Finding{Status: checks.Warn, Evidence: ev, Message: "log driver " + c.LogDriver + ": calctl cannot tell whether it leaves the host"}
	})
})
