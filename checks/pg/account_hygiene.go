package pg

import (
	"fmt"

	"github.com/calctl/calctl/checks"
)

// AccountHygiene is PG-014: Cal.com users: admins with 2FA, no dormant accounts (counts only).
var AccountHygiene = checks.New(checks.Meta{
	ID: "PG-014", Title: "Cal.com account hygiene (counts only)", Severity: checks.High, Needs: needPG,
	Remediation: "Require 2FA or SAML for all staff (admins first); lock accounts idle for more than 90 days.",
}, func(f *checks.Facts) []checks.Finding {
	if skip, ok := unreadable(f, "users"); ok {
		return []checks.Finding{skip}
	}
	u := f.PG.Users
	if u == nil {
		return []checks.Finding{{Status: checks.Skip, Resource: "users", Message: "no Cal.com users table in this database"}}
	}
	ev := checks.Ev("admins_without_2fa", fmt.Sprint(u.AdminsWithout2FA), "password_users_without_2fa", fmt.Sprint(u.PasswordWithout2FA), "dormant_90d", fmt.Sprint(u.Dormant))
	var is checks.Issues
	if u.AdminsWithout2FA > 0 {
		is.Add(checks.Fail, "%d admin accounts without 2FA", u.AdminsWithout2FA)
	}
	if u.PasswordWithout2FA > 0 {
		is.Add(checks.Warn, "%d password accounts without 2FA", u.PasswordWithout2FA)
	}
	if u.Dormant > 0 {
		is.Add(checks.Warn, "%d unlocked accounts inactive for 90 days", u.Dormant)
	}
	return []checks.Finding{is.Finding("users", "every admin has 2FA; no password account without 2FA; no dormant account", ev)}
})
