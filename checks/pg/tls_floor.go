package pg

import (
	"strings"

	"github.com/calctl/calctl/checks"
)

// TLSFloor is PG-002: the TLS versions and suites a client can really
// negotiate (handshakes with the server), and the settings behind them. It
// once passed a server that took a TLS 1.2 suite without forward secrecy
// because only the cipher-string classes were read.
var TLSFloor = checks.New(checks.Meta{
	ID: "PG-002", Title: "TLS floor and cipher list", Severity: checks.Medium, Needs: needPG,
	Remediation: "ssl_min_protocol_version='TLSv1.2'; ssl_ciphers='ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL' (forward-secret suites only; OpenSSL's HIGH still includes RSA key exchange).",
}, func(f *checks.Facts) []checks.Finding {
	ssl, _ := setting(f, "ssl")
	if !on(ssl) {
		return []checks.Finding{{Status: checks.Skip, Resource: resource(f), Message: "ssl=off (see PG-001)"}}
	}
	minv, _ := setting(f, "ssl_min_protocol_version")
	ciphers, _ := setting(f, "ssl_ciphers")
	ev := checks.Ev("ssl_min_protocol_version", minv, "ssl_ciphers", ciphers)
	var is checks.Issues
	probed := f.PG.TLSVersions != nil
	if probed {
		var acc []string
		for _, v := range []string{"TLS1.0", "TLS1.1", "TLS1.2", "TLS1.3"} {
			if f.PG.TLSVersions[v] {
				acc = append(acc, v)
			}
		}
		ev["accepted"] = strings.Join(acc, ",")
		for _, v := range []string{"TLS1.0", "TLS1.1"} {
			if f.PG.TLSVersions[v] {
				is.Add(checks.Fail, "a %s handshake succeeded", v)
			}
		}
		if f.PG.WeakSuite != "" {
			ev["weak_suite"] = f.PG.WeakSuite
			is.Add(checks.Warn, "the server accepted %s (no forward secrecy or a weak cipher)", f.PG.WeakSuite)
		}
	}
	if _, unread := f.PG.Unreadable["ssl_min_protocol_version"]; !unread {
		if !probed && (minv == "" || minv == "TLSv1" || minv == "TLSv1.1") {
			is.Add(checks.Fail, "ssl_min_protocol_version=%q allows TLS 1.0/1.1", minv)
		}
		for _, weak := range []string{"MEDIUM", "3DES", "RC4", "NULL", "EXPORT"} {
			if offersCipher(ciphers, weak) {
				is.Add(checks.Warn, "ssl_ciphers allows %s", weak)
			}
		}
	} else if !probed {
		skip, _ := unreadable(f, "ssl_min_protocol_version")
		return []checks.Finding{skip}
	}
	ok := "no TLS below 1.2 and no weak TLS 1.2 suite accepted in handshakes"
	if !probed {
		ok = "TLS floor " + minv + " and no weak cipher classes (settings only: no handshake was possible)"
	}
	return []checks.Finding{is.Finding(resource(f), ok, ev)}
})

// offersCipher reports whether an OpenSSL cipher string enables class c
// (listed without a "!" or "-" prefix).
func offersCipher(list, c string) bool {
	for _, p := range strings.FieldsFunc(list, func(r rune) bool { return r == ':' || r == ',' || r == ' ' }) {
		p = strings.TrimPrefix(p, "+")
		if strings.HasPrefix(p, "!") || strings.HasPrefix(p, "-") {
			continue
		}
		if strings.Contains(strings.ToUpper(p), c) {
			return true
		}
	}
	return false
}
