package pg

import (
	"fmt"

	"github.com/calctl/calctl/checks"
)

// maxSessionMinutes is the longest app session calctl accepts without a
// WARN: an hour. HIPAA names no number for automatic logoff (addressable,
// §164.312(a)(2)(iii)); an hour is what a workstation policy usually allows.
const maxSessionMinutes = 60

// SessionLifetime is PG-020: Cal.com's login sessions end. Cal.com signs
// NextAuth JWT sessions with no maxAge, so NextAuth's default of 30 days
// applies, unless a user sets a session timeout (users.metadata
// "sessionTimeout", minutes), which the JWT encoder then uses as maxAge
// (cal.com@7c44b28:packages/features/auth/lib/next-auth-options.ts,
// AUTH_OPTIONS.session and jwt.encode). Counts only, never rows.
var SessionLifetime = checks.New(checks.Meta{
	ID: "PG-020", Title: "App session lifetime (automatic logoff)", Severity: checks.Medium, Needs: needPG,
	Remediation: "Have every staff account set a session timeout of 60 minutes or less (Settings → Security → Session timeout); Cal.com's default keeps a login for 30 days.",
}, func(f *checks.Facts) []checks.Finding {
	if skip, ok := unreadable(f, "users"); ok {
		return []checks.Finding{skip}
	}
	u := f.PG.Users
	if u == nil {
		return []checks.Finding{{Status: checks.Skip, Resource: "users", Message: "no Cal.com users table in this database"}}
	}
	if !u.SessionsRead {
		return []checks.Finding{{Status: checks.Skip, Resource: "users", Message: "users.metadata (where Cal.com keeps session timeouts) could not be read: an older schema"}}
	}
	ev := checks.Ev("active_users", fmt.Sprint(u.Active), "without_session_timeout", fmt.Sprint(u.NoSessionTimeout),
		"session_timeout_over_60min", fmt.Sprint(u.LongSessionTimeout))
	var is checks.Issues
	if u.NoSessionTimeout > 0 {
		is.Add(checks.Warn, "%d of %d active accounts keep the default 30-day session (no session timeout set)", u.NoSessionTimeout, u.Active)
	}
	if u.LongSessionTimeout > 0 {
		is.Add(checks.Warn, "%d accounts have a session timeout over %d minutes", u.LongSessionTimeout, maxSessionMinutes)
	}
	return []checks.Finding{is.Finding("users", fmt.Sprintf("every active account has a session timeout of %d minutes or less", maxSessionMinutes), ev)}
})
