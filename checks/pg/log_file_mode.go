package pg

import (
	"fmt"

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
	s, _ := setting(f, "log_file_mode")
	m, ok := mode(s)
	ev := checks.Ev("log_file_mode", s)
	r := checks.Finding{Resource: resource(f), Evidence: ev}
	switch {
	case !ok:
		r.Status, r.Message = checks.Skip, "log_file_mode was not read"
	case m&0o007 != 0:
		r.Status, r.Message = checks.Fail, fmt.Sprintf("log_file_mode=%04o: every local user can read the server log", m)
	case m&0o070 != 0:
		r.Status, r.Message = checks.Warn, fmt.Sprintf("log_file_mode=%04o: the server's group can read the log", m)
	default:
		r.Status, r.Message = checks.Pass, fmt.Sprintf("log_file_mode=%04o", m)
	}
	return []checks.Finding{r}
})
