package pg

import (
	"strings"

	"github.com/calctl/calctl/checks"
)

// LogCollector is PG-015: the server's log is captured somewhere durable —
// the logging collector writes files, or log_destination hands it to syslog
// or the event log, or (in a container) stderr goes to the Docker log driver.
// pgdsat 3.1.2-3.1.4 (log_destination, logging_collector).
var LogCollector = checks.New(checks.Meta{
	ID: "PG-015", Title: "Server log collected", Severity: checks.Medium, Needs: needPG,
	Remediation: "logging_collector=on (files under log_directory), or log_destination='syslog' forwarded off-host; in a container keep stderr and ship the Docker logs (DK-006).",
}, func(f *checks.Facts) []checks.Finding {
	lc, _ := setting(f, "logging_collector")
	dest, _ := setting(f, "log_destination")
	ev := checks.Ev("logging_collector", lc, "log_destination", dest)
	r := checks.Finding{Resource: resource(f), Evidence: ev}
	switch {
	case on(lc):
		r.Status, r.Message = checks.Pass, "the logging collector writes the server log to files ("+dest+")"
	case strings.Contains(dest, "syslog") || strings.Contains(dest, "eventlog"):
		r.Status, r.Message = checks.Pass, "the server log goes to "+dest
	case f.PG.Via != "" || containerDB(f):
		r.Status, r.Message = checks.Pass, "the server logs to stderr inside a container: the Docker log driver keeps it (see DK-006 for retention and shipping)"
	default:
		r.Status, r.Message = checks.Warn, "logging_collector is off and log_destination="+dest+": the server log goes to whatever started postgres, and may be lost"
	}
	return []checks.Finding{r}
})

// containerDB reports whether a db container of the install was seen.
func containerDB(f *checks.Facts) bool {
	if f.Docker == nil {
		return false
	}
	for _, c := range f.Docker.Containers {
		if c.Role == "db" {
			return true
		}
	}
	return false
}
