package docker

import (
	"github.com/calctl/calctl/checks"
)

// LogRotation is DK-021: container logs on the host are bounded — json-file
// with max-size and max-file (the local driver rotates by default). Without
// it one chatty container fills the disk the database writes to.
var LogRotation = checks.New(checks.Meta{
	ID: "DK-021", Title: "Container log rotation", Severity: checks.Low,
	Remediation: "logging: {driver: json-file, options: {max-size: \"10m\", max-file: \"5\"}} per service, or log-opts in daemon.json.",
}, func(f *checks.Facts) []checks.Finding {
	return run(f, false, func(u unit) checks.Finding {
		d := u.logDriver
		ev := checks.Ev("log_driver", d, "max_size", u.logOpts["max-size"], "max_file", u.logOpts["max-file"])
		switch {
		case u.c == nil && d == "":
			if f.Docker != nil && f.Docker.LoggingDriver == "local" {
				return checks.Finding{Status: checks.Pass, Evidence: ev, Message: "the engine's default local driver rotates"}
			}
			return checks.Finding{Status: checks.Warn, Evidence: ev, Message: "no logging options: the engine's defaults apply (json-file without rotation unless daemon.json sets log-opts)"}
		case d == "local":
			return checks.Finding{Status: checks.Pass, Evidence: ev, Message: "local driver (rotates: 20 MB × 5 by default)"}
		case d == "json-file" || d == "":
			if u.logOpts["max-size"] == "" {
				return checks.Finding{Status: checks.Warn, Evidence: ev, Message: "json-file logs without max-size grow without bound"}
			}
			if u.logOpts["max-file"] == "" {
				return checks.Finding{Status: checks.Pass, Evidence: ev, Message: "json-file rotated at " + u.logOpts["max-size"] + " (one old file kept)"}
			}
			return checks.Finding{Status: checks.Pass, Evidence: ev, Message: "json-file rotated at " + u.logOpts["max-size"] + " × " + u.logOpts["max-file"]}
		case d == "none":
			return checks.Finding{Status: checks.Skip, Evidence: ev, Message: "logging is off (see DK-006)"}
		}
		return checks.Finding{Status: checks.Pass, Evidence: ev, Message: "log driver " + d + " keeps no files on this host"}
	})
})
