package pg

import (
	"strings"

	"github.com/calctl/calctl/checks"
)

// StatementAudit is PG-009: DDL/role auditing without copying PHI into logs.
var StatementAudit = checks.New(checks.Meta{
	ID: "PG-009", Title: "Statement audit without PHI in the logs", Severity: checks.Medium, Needs: needPG,
	Remediation: "Load pgaudit with pgaudit.log='ddl,role', or log_statement='ddl'; keep log_statement=all, log_min_duration_statement=0 and parameter logging off.",
}, func(f *checks.Facts) []checks.Finding {
	spl, _ := setting(f, "shared_preload_libraries")
	ls, _ := setting(f, "log_statement")
	lmd, _ := setting(f, "log_min_duration_statement")
	pal, _ := setting(f, "pgaudit.log")
	pap, _ := setting(f, "pgaudit.log_parameter")
	ev := checks.Ev("log_statement", ls, "log_min_duration_statement", lmd, "shared_preload_libraries", spl, "pgaudit.log", pal)
	var is checks.Issues
	if ls == "all" {
		is.Add(checks.Warn, "log_statement=all copies booking data into the logs (they become ePHI)")
	}
	if lmd == "0" {
		is.Add(checks.Warn, "log_min_duration_statement=0 logs every statement with its data")
	}
	if on(pap) {
		is.Add(checks.Warn, "pgaudit.log_parameter=on logs statement parameters")
	}
	audited := ls == "ddl" || ls == "mod" || ls == "all" ||
		(strings.Contains(spl, "pgaudit") && strings.Contains(pal, "ddl") && strings.Contains(pal, "role"))
	if need, hidden := f.PG.Unreadable["shared_preload_libraries"]; hidden && !audited {
		// pgaudit may well be loaded: this role cannot see the list that
		// says so (it once warned "no statement audit" here).
		if !is.Empty() {
			return []checks.Finding{is.Finding(resource(f), "", ev)}
		}
		return []checks.Finding{{Status: checks.Skip, Resource: resource(f), Evidence: ev,
			Message: "shared_preload_libraries is not readable by this role: needs " + need + " (or --admin-database-url) to see whether pgaudit is loaded"}}
	}
	if !audited {
		is.Add(checks.Warn, "no statement audit: neither pgaudit (ddl,role) nor log_statement=ddl/mod")
	}
	return []checks.Finding{is.Finding(resource(f), "DDL and role changes are audited without logging data", ev)}
})
