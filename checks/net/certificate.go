package net

import (
	"fmt"
	"math"

	"github.com/calctl/calctl/checks"
)

// Certificate is NET-001: the public TLS certificate is valid and not about to expire.
var Certificate = checks.New(checks.Meta{
	ID: "NET-001", Title: "Public TLS certificate", Severity: checks.High, Needs: needNet,
	Remediation: "Automate ACME renewal (certbot, Caddy or Traefik) and monitor expiry.",
}, func(f *checks.Facts) []checks.Finding {
	n := f.Net
	if n == nil || n.TLS == nil {
		return []checks.Finding{{Status: checks.Skip, Message: "the public URL is not https"}}
	}
	t := n.TLS
	r := checks.Finding{Resource: n.URL}
	if t.Error != "" {
		r.Status, r.Message = checks.Fail, "TLS handshake failed: "+t.Error
		return []checks.Finding{r}
	}
	days := int(math.Floor(t.NotAfter.Sub(f.Now()).Hours() / 24))
	r.Evidence = checks.Ev("subject", t.Subject, "issuer", t.Issuer, "not_after", t.NotAfter.UTC().Format("2006-01-02T15:04:05Z"), "days_left", fmt.Sprint(days))
	switch {
	case t.VerifyError != "":
		r.Status, r.Message = checks.Fail, "certificate does not verify: "+t.VerifyError
	case days < 7:
		r.Status, r.Message = checks.Fail, fmt.Sprintf("certificate expires in %d days", days)
	case days < 30:
		r.Status, r.Message = checks.Warn, fmt.Sprintf("certificate expires in %d days", days)
	default:
		r.Status, r.Message = checks.Pass, fmt.Sprintf("valid certificate, %d days left", days)
	}
	return []checks.Finding{r}
})
