package pg

import (
	"github.com/calctl/calctl/checks"
)

// LogFileMode is PG-017: log files are readable by the server's user only
// (pgdsat 3.1.5 log_file_mode 0600). Server logs hold user names, client
// addresses and, with statement logging, query text.
var LogFileMode = checks.New(checks.Meta{
	ID: "PG-017", Title: "Server log file permissions", Severity: checks.Medium, Needs: needPG,
	Remediation: "log_file_mode=0600.",
}, func(f *checks.Facts) []checks.Finding {
	lc, _ := setting(f, "logging_collector")
	if !on(lc) {
		return []checks.Finding{{Status: checks.Skip, Resource: resource(f), Message: "logging_collector is off: no log files (see PG-015)"}}
	}
	return []checks.Finding{modeFinding(f, "log_file_mode",
		"every local user can read the server log",
		"the server's group can read the log")}
})
