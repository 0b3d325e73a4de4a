package pg

import (
	"strings"

	"github.com/calctl/calctl/checks"
)

// LogRetention is PG-016: collected log files rotate and are kept for a
// bounded time (pgdsat 3.1.6-3.1.9: log_filename, log_truncate_on_rotation,
// log_rotation_age, log_rotation_size). Audit records must exist for review
// (§164.312(b)); unbounded files fill the disk and stop the database.
var LogRetention = checks.New(checks.Meta{
	ID: "PG-016", Title: "Server log rotation and retention", Severity: checks.Low, Needs: needPG,
	Remediation: "log_rotation_age='1d', log_rotation_size='100MB', a cycling log_filename such as 'postgresql-%a.log' with log_truncate_on_rotation=on (a week), and copy the files off-host for longer retention.",
}, func(f *checks.Facts) []checks.Finding {
	lc, _ := setting(f, "logging_collector")
	if !on(lc) {
		return []checks.Finding{{Status: checks.Skip, Resource: resource(f), Message: "logging_collector is off: no log files to rotate (see PG-015)"}}
	}
	age, _ := setting(f, "log_rotation_age")   // minutes
	size, _ := setting(f, "log_rotation_size") // kB
	trunc, _ := setting(f, "log_truncate_on_rotation")
	name, _ := setting(f, "log_filename")
	ev := checks.Ev("log_rotation_age_min", age, "log_rotation_size_kb", size, "log_truncate_on_rotation", trunc, "log_filename", name)
	var is checks.Issues
	if atoi(age) == 0 && atoi(size) == 0 {
		is.Add(checks.Warn, "log files never rotate (log_rotation_age and log_rotation_size are 0)")
	}
	cycles := strings.Contains(name, "%a") || strings.Contains(name, "%d") || strings.Contains(name, "%H") || strings.Contains(name, "%j")
	timestamped := strings.Contains(name, "%Y") || strings.Contains(name, "%S") || strings.Contains(name, "%M")
	switch {
	case cycles && !timestamped && on(trunc):
	case cycles && !timestamped:
		is.Add(checks.Warn, "log_filename %q cycles but log_truncate_on_rotation is off: old files are appended to, never cleared", name)
	default:
		is.Add(checks.Warn, "log_filename %q makes a new file each rotation and nothing removes old ones: set a retention (cycling name or a cleanup job)", name)
	}
	return []checks.Finding{is.Finding(resource(f), "log files rotate ("+age+" min / "+size+" kB) and cycle ("+name+")", ev)}
})
