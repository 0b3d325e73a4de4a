package pg

import (
	"strings"

	"github.com/calctl/calctl/checks"
)

// ConnectionLogging is PG-008: log_connections and a useful log_line_prefix.
var ConnectionLogging = checks.New(checks.Meta{
	ID: "PG-008", Title: "Connection logging", Severity: checks.Medium, Needs: needPG,
	Remediation: "log_connections=on, log_disconnections=on, log_line_prefix='%m [%p] user=%u db=%d app=%a client=%h ', log_timezone='UTC'.",
}, func(f *checks.Facts) []checks.Finding {
	lc, _ := setting(f, "log_connections")
	ld, _ := setting(f, "log_disconnections")
	prefix, _ := setting(f, "log_line_prefix")
	tz, _ := setting(f, "log_timezone")
	var is checks.Issues
	if lc == "" || strings.EqualFold(lc, "off") {
		is.Add(checks.Fail, "log_connections is off")
	}
	if !on(ld) {
		is.Add(checks.Warn, "log_disconnections is off")
	}
	var missing []string
	if !strings.Contains(prefix, "%m") && !strings.Contains(prefix, "%t") && !strings.Contains(prefix, "%n") {
		missing = append(missing, "time (%m)")
	}
	for _, esc := range []string{"%u", "%d", "%h"} {
		if !strings.Contains(prefix, esc) {
			missing = append(missing, esc)
		}
	}
	if !strings.Contains(prefix, "%p") && !strings.Contains(prefix, "%c") {
		missing = append(missing, "%p")
	}
	if len(missing) > 0 {
		is.Add(checks.Warn, "log_line_prefix lacks %s", strings.Join(missing, ", "))
	}
	if tz != "" && tz != "UTC" && tz != "Etc/UTC" {
		is.Add(checks.Warn, "log_timezone=%s (UTC recommended)", tz)
	}
	return []checks.Finding{is.Finding(resource(f), "connections and disconnections are logged with time, user, database, host and pid",
		checks.Ev("log_connections", lc, "log_disconnections", ld, "log_line_prefix", prefix, "log_timezone", tz))}
})
