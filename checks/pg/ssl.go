package pg

import "github.com/calctl/calctl/checks"

// SSL is PG-001: the server has TLS on and the audit session used it.
var SSL = checks.New(checks.Meta{
	ID: "PG-001", Title: "Server TLS on; the audit session is encrypted", Severity: checks.High, Needs: needPG,
	Remediation: "Set ssl=on with server.crt/server.key (the official postgres image ships ssl=off); RDS has TLS on.",
}, func(f *checks.Facts) []checks.Finding {
	ssl, _ := setting(f, "ssl")
	ev := checks.Ev("ssl", ssl, "session_ssl", boolStr(f.PG.SessionSSL), "session_tls", f.PG.SessionTLS, "local", boolStr(f.PG.Local))
	r := checks.Finding{Resource: resource(f), Evidence: ev}
	switch {
	case on(ssl) && f.PG.SessionSSL:
		r.Status, r.Message = checks.Pass, "ssl=on and this session is encrypted ("+f.PG.SessionTLS+")"
	case on(ssl):
		r.Status, r.Message = checks.Warn, "ssl=on but this session was not encrypted: clients can still connect in plaintext"
	case f.PG.Local:
		r.Status, r.Message = checks.Warn, "ssl=off; the database is only reached over a local path"
	default:
		r.Status, r.Message = checks.Fail, "ssl=off on a remote database: traffic with ePHI is plaintext"
	}
	return []checks.Finding{r}
})

func boolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
