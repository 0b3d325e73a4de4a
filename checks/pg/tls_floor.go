package pg

import (
	"strings"

	"github.com/calctl/calctl/checks"
)

// TLSFloor is PG-002: TLS minimum version and cipher list.
var TLSFloor = checks.New(checks.Meta{
	ID: "PG-002", Title: "TLS floor and cipher list", Severity: checks.Medium, Needs: needPG,
	Remediation: "ssl_min_protocol_version='TLSv1.2'; ssl_ciphers='HIGH:!aNULL:!MD5:!3DES'.",
}, func(f *checks.Facts) []checks.Finding {
	ssl, _ := setting(f, "ssl")
	if !on(ssl) {
		return []checks.Finding{{Status: checks.Skip, Resource: resource(f), Message: "ssl=off (see PG-001)"}}
	}
	if skip, ok := unreadable(f, "ssl_min_protocol_version"); ok {
		return []checks.Finding{skip}
	}
	minv, _ := setting(f, "ssl_min_protocol_version")
	ciphers, _ := setting(f, "ssl_ciphers")
	var is checks.Issues
	if minv == "" || minv == "TLSv1" || minv == "TLSv1.1" {
		is.Add(checks.Fail, "ssl_min_protocol_version=%q allows TLS 1.0/1.1", minv)
	}
	for _, weak := range []string{"MEDIUM", "3DES", "RC4", "NULL", "EXPORT"} {
		if offersCipher(ciphers, weak) {
			is.Add(checks.Warn, "ssl_ciphers allows %s", weak)
		}
	}
	ok := "TLS floor " + minv + " and no weak cipher classes"
	if minv != "TLSv1.3" {
		ok += " (info: TLSv1.3 floor is stricter)"
	}
	return []checks.Finding{is.Finding(resource(f), ok, checks.Ev("ssl_min_protocol_version", minv, "ssl_ciphers", ciphers))}
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
