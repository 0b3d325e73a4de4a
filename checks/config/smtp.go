package config

import (
	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/internal/localhost"
)

// SMTP is CF-009: the SMTP transport uses TLS ports.
var SMTP = checks.New(checks.Meta{
	ID: "CF-009", Title: "SMTP transport", Severity: checks.Medium, Needs: needFiles,
	Remediation: "Use port 465 (implicit TLS) or 587 (STARTTLS) with a mail provider covered by a BAA: booking e-mails carry attendee data.",
}, func(f *checks.Facts) []checks.Finding {
	host := f.EnvValue("EMAIL_SERVER_HOST")
	if host == "" {
		return []checks.Finding{{Status: checks.Skip, Resource: "EMAIL_SERVER_HOST", Message: "no SMTP server is configured"}}
	}
	port := f.EnvValue("EMAIL_SERVER_PORT")
	v, _ := f.Env("EMAIL_SERVER_PORT")
	r := checks.Finding{Resource: host, Location: v.Loc(), Evidence: checks.Ev("host", host, "port", port)}
	switch {
	case localhost.IsLoopback(host):
		r.Status, r.Message = checks.Pass, "SMTP relay on the local host"
	case port == "465":
		r.Status, r.Message = checks.Pass, "port 465 uses implicit TLS (certificate not probed)"
	case port == "587":
		r.Status, r.Message = checks.Pass, "port 587 submission with STARTTLS (not probed)"
	case port == "25" || port == "":
		r.Status, r.Message = checks.Warn, "port 25 (or unset): TLS is opportunistic at best"
	default:
		r.Status, r.Message = checks.Warn, "non-standard SMTP port "+port+": cannot tell whether TLS is used"
	}
	return []checks.Finding{r}
})
