package pg

import (
	"github.com/calctl/calctl/checks"
)

// HBAAuth is PG-004: weak client authentication in pg_hba.
var HBAAuth = checks.New(checks.Meta{
	ID: "PG-004", Title: "Weak client auth in pg_hba", Severity: checks.Critical, Needs: needPG,
	Remediation: "Use scram-sha-256 (or cert/peer) and narrow addresses to the app subnet; never POSTGRES_HOST_AUTH_METHOD=trust (see DK-008).",
}, func(f *checks.Facts) []checks.Finding {
	if skip, ok := unreadable(f, "pg_hba_file_rules"); ok {
		return []checks.Finding{skip}
	}
	var is checks.Issues
	for _, h := range f.PG.HBA {
		if h.Error != "" {
			is.Add(checks.Warn, "line %d has an error: %s", h.Line, h.Error)
			continue
		}
		tcp := h.Type != "local"
		switch h.AuthMethod {
		case "reject", "scram-sha-256", "cert", "peer", "gss", "sspi":
		case "trust", "password":
			if tcp {
				is.Add(checks.Fail, "line %d: %s %s for %s", h.Line, h.Type, h.AuthMethod, addr(h))
			} else {
				is.Add(checks.Warn, "line %d: local %s", h.Line, h.AuthMethod)
			}
		default:
			is.Add(checks.Warn, "line %d: %s uses %s", h.Line, h.Type, h.AuthMethod)
		}
		if tcp && h.AuthMethod != "reject" && (h.Address == "all" || h.Netmask == "0.0.0.0" || h.Netmask == "::" || h.Address == "0.0.0.0") {
			is.Add(checks.Warn, "line %d accepts any address", h.Line)
		}
	}
	return []checks.Finding{is.Finding(resource(f), "pg_hba uses only scram-sha-256, cert or peer", nil)}
})
