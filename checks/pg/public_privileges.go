package pg

import (
	"strings"

	"github.com/calctl/calctl/checks"
)

// PublicPrivileges is PG-007: PUBLIC may not create in schema public nor connect.
var PublicPrivileges = checks.New(checks.Meta{
	ID: "PG-007", Title: "PUBLIC privileges", Severity: checks.Medium, Needs: needPG,
	Remediation: "REVOKE CREATE ON SCHEMA public FROM PUBLIC; REVOKE CONNECT ON DATABASE calendso FROM PUBLIC (then GRANT CONNECT to the app role).",
}, func(f *checks.Facts) []checks.Finding {
	var is checks.Issues
	if f.PG.PublicCreate {
		is.Add(checks.Warn, "PUBLIC can CREATE in schema public")
	}
	if len(f.PG.PublicConnectDBs) > 0 {
		is.Add(checks.Warn, "PUBLIC can CONNECT to %s", strings.Join(f.PG.PublicConnectDBs, ", "))
	}
	return []checks.Finding{is.Finding(resource(f), "PUBLIC can neither create in schema public nor connect to the app database", nil)}
})
