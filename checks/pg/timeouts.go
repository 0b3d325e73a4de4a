package pg

import (
	"github.com/calctl/calctl/checks"
)

// Timeouts is PG-013: authentication and idle-in-transaction timeouts.
var Timeouts = checks.New(checks.Meta{
	ID: "PG-013", Title: "Authentication and idle timeouts", Severity: checks.Low, Needs: needPG,
	Remediation: "authentication_timeout ≤ 60s; idle_in_transaction_session_timeout='5min'; ALTER ROLE <human> SET idle_session_timeout='15min' (not on the pooled app role).",
}, func(f *checks.Facts) []checks.Finding {
	at, _ := setting(f, "authentication_timeout")               // seconds
	iit, _ := setting(f, "idle_in_transaction_session_timeout") // ms
	var is checks.Issues
	if n := atoi(at); n == 0 || n > 60 {
		is.Add(checks.Warn, "authentication_timeout=%ss (want ≤ 60s)", at)
	}
	if atoi(iit) == 0 {
		is.Add(checks.Warn, "idle_in_transaction_session_timeout is 0 (sessions may hold locks forever)")
	}
	ev := checks.Ev("authentication_timeout_s", at, "idle_in_transaction_session_timeout_ms", iit)
	for role, v := range f.PG.RoleIdleTimeouts {
		ev["idle_session_timeout."+role] = v
	}
	return []checks.Finding{is.Finding(resource(f), "authentication and idle-in-transaction timeouts are set", ev)}
})
