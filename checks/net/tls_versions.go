package net

import (
	"strings"

	"github.com/calctl/calctl/checks"
)

// TLSVersions is NET-002: only TLS 1.2+ and no insecure cipher suites.
var TLSVersions = checks.New(checks.Meta{
	ID: "NET-002", Title: "TLS versions and ciphers", Severity: checks.High, Needs: needNet,
	Remediation: "Proxy config: `ssl_protocols TLSv1.2 TLSv1.3` with a modern cipher list.",
}, func(f *checks.Facts) []checks.Finding {
	n := f.Net
	if n == nil || n.Versions == nil {
		return []checks.Finding{{Status: checks.Skip, Message: "the public URL is not https"}}
	}
	if n.HandshakeError != "" {
		return []checks.Finding{{Status: checks.Error, Resource: n.URL, Evidence: checks.Ev("handshakes", n.HandshakeError),
			Message: "no TLS handshake succeeded, so nothing was observed: " + n.HandshakeError}}
	}
	var is checks.Issues
	var acc []string
	for _, v := range []string{"TLS1.0", "TLS1.1", "TLS1.2", "TLS1.3"} {
		if n.Versions[v] {
			acc = append(acc, v)
		}
	}
	for _, v := range []string{"TLS1.0", "TLS1.1"} {
		if n.Versions[v] {
			is.Add(checks.Fail, "%s is accepted", v)
		}
	}
	if n.InsecureSuite != "" {
		is.Add(checks.Warn, "weak TLS 1.2 suite accepted: %s (no forward secrecy or a weak cipher)", n.InsecureSuite)
	}
	ok := "only TLS 1.2+ with secure suites"
	if !n.Versions["TLS1.3"] {
		ok += " (info: TLS 1.3 not offered)"
	}
	return []checks.Finding{is.Finding(n.URL, ok, checks.Ev("accepted", strings.Join(acc, ",")))}
})
