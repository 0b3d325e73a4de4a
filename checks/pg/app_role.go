package pg

import (
	"strings"

	"github.com/calctl/calctl/checks"
)

// AppRole is PG-006: the app role has least privilege; at most one login superuser.
var AppRole = checks.New(checks.Meta{
	ID: "PG-006", Title: "App role least privilege; superuser count", Severity: checks.High, Needs: needPG,
	Remediation: "Create a NOSUPERUSER owner role, REASSIGN OWNED to it and repoint DATABASE_URL; keep postgres for break-glass only.",
}, func(f *checks.Facts) []checks.Finding {
	a := f.PG.AppRole
	var is checks.Issues
	if a.Super {
		is.Add(checks.Fail, "the app role %s is a superuser", a.Name)
	}
	if a.RDSSuperuser {
		is.Add(checks.Warn, "the app role %s is a member of rds_superuser", a.Name)
	}
	if a.CreateRole {
		is.Add(checks.Warn, "the app role can create roles")
	}
	if a.CreateDB {
		is.Add(checks.Warn, "the app role can create databases")
	}
	if a.BypassRLS && !a.Super {
		is.Add(checks.Warn, "the app role bypasses row-level security")
	}
	if n := len(f.PG.LoginSuperusers); n > 1 {
		is.Add(checks.Warn, "%d login superusers: %s", n, strings.Join(f.PG.LoginSuperusers, ", "))
	}
	return []checks.Finding{is.Finding("role:"+a.Name, "the app role "+a.Name+" is not privileged and there is at most one login superuser",
		checks.Ev("role", a.Name, "superuser", boolStr(a.Super), "login_superusers", strings.Join(f.PG.LoginSuperusers, ",")))}
})
