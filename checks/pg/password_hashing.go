package pg

import (
	"strings"

	"github.com/calctl/calctl/checks"
)

// PasswordHashing is PG-005: scram-sha-256 and no md5 hashes left.
var PasswordHashing = checks.New(checks.Meta{
	ID: "PG-005", Title: "Password hashing", Severity: checks.Medium, Needs: needPG,
	Remediation: "password_encryption='scram-sha-256', then re-set each password with ALTER ROLE … PASSWORD.",
}, func(f *checks.Facts) []checks.Finding {
	pe, _ := setting(f, "password_encryption")
	r := resource(f)
	ev := checks.Ev("password_encryption", pe)
	if pe == "md5" {
		return []checks.Finding{{Status: checks.Fail, Resource: r, Message: "password_encryption=md5", Evidence: ev}}
	}
	if skip, ok := unreadable(f, "pg_authid"); ok {
		skip.Message = "password_encryption=" + pe + ", but " + skip.Message + " to confirm no md5 hashes remain"
		skip.Evidence = ev
		return []checks.Finding{skip}
	}
	if len(f.PG.MD5Roles) > 0 {
		return []checks.Finding{{Status: checks.Warn, Resource: r, Evidence: ev,
			Message: "login roles still have md5 hashes: " + strings.Join(f.PG.MD5Roles, ", ")}}
	}
	return []checks.Finding{{Status: checks.Pass, Resource: r, Evidence: ev, Message: "scram-sha-256 and no md5 hashes"}}
})
