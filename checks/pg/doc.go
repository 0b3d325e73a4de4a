// Package pg holds the PG-* checks: PostgreSQL server settings, pg_hba
// rules, roles and privileges, read by the collector over read-only
// sessions. Each check is pure over checks.Facts; a view the audit role may
// not read gives SKIP naming the privilege, never FAIL.
package pg

import (
	"strconv"
	"strings"

	"github.com/calctl/calctl/checks"
)

var needPG = []checks.Source{checks.SourcePG}

func setting(f *checks.Facts, name string) (string, bool) {
	v, ok := f.PG.Settings[name]
	return v, ok
}

// unreadable returns a SKIP finding when the view or setting needed privilege.
func unreadable(f *checks.Facts, what string) (checks.Finding, bool) {
	if p, ok := f.PG.Unreadable[what]; ok {
		return checks.Finding{Status: checks.Skip, Resource: what, Message: what + " is not readable by this role: needs " + p}, true
	}
	return checks.Finding{}, false
}

func on(s string) bool { return strings.EqualFold(s, "on") || s == "1" || strings.EqualFold(s, "true") }

func atoi(s string) int {
	n, _ := strconv.Atoi(strings.TrimSpace(s))
	return n
}

func resource(f *checks.Facts) string {
	if f.PG.Host != "" {
		return "postgres:" + f.PG.Host
	}
	return "postgres"
}
