package config

import (
	"strings"

	"github.com/calctl/calctl/checks"
)

var dbURLKeys = []string{"DATABASE_URL", "DATABASE_DIRECT_URL", "DATABASE_READ_URL", "DATABASE_WRITE_URL"}

// DBTLS is CF-003: sslmode of the database URLs (and DATABASE_DIRECT_URL present).
var DBTLS = checks.New(checks.Meta{
	ID: "CF-003", Title: "DB TLS in connection URLs", Severity: checks.High, Needs: needFiles,
	Remediation: "Use `?sslmode=verify-full&sslrootcert=<ca.pem>` (Prisma: `sslaccept=strict`) for any remote database; never PGSSLMODE=no-verify. Set DATABASE_DIRECT_URL (same as DATABASE_URL without a pooler).",
}, func(f *checks.Facts) []checks.Finding {
	var out []checks.Finding
	pgssl := strings.ToLower(f.EnvValue("PGSSLMODE"))
	for _, k := range dbURLKeys {
		v, ok := f.Env(k)
		if !ok || v.URL == nil {
			continue
		}
		u := v.URL
		mode := strings.ToLower(u.Params["sslmode"])
		if mode == "" && pgssl != "" {
			mode = pgssl
		}
		accept := strings.ToLower(u.Params["sslaccept"])
		ev := checks.Ev("host", u.Host, "sslmode", mode, "local", boolStr(u.Local))
		r := checks.Finding{Resource: k, Evidence: ev, Location: v.Loc()}
		switch {
		case pgssl == "no-verify" && !u.Local:
			r.Status, r.Message = checks.Fail, "PGSSLMODE=no-verify disables certificate checks for a remote database"
		case mode == "verify-full" || accept == "strict":
			r.Status, r.Message = checks.Pass, "certificate and host name are verified"
		case u.Local:
			r.Status, r.Message = checks.Pass, "database host "+u.Host+" is local; TLS is optional (info)"
		case mode == "require" || mode == "verify-ca":
			r.Status, r.Message = checks.Warn, "sslmode="+mode+" encrypts but does not fully verify the server"
		default:
			if mode == "" {
				mode = "(none)"
			}
			r.Status, r.Message = checks.Fail, "remote database "+u.Host+" with sslmode="+mode+": traffic may be plaintext"
		}
		out = append(out, r)
	}
	if _, ok := f.Env("DATABASE_URL"); ok {
		if _, ok := f.Env("DATABASE_DIRECT_URL"); !ok {
			out = append(out, checks.Finding{Status: checks.Warn, Resource: "DATABASE_DIRECT_URL",
				Message: "DATABASE_DIRECT_URL is not set: migrations fail with `Environment variable not found: DATABASE_DIRECT_URL`"})
		}
	}
	if len(out) == 0 {
		return []checks.Finding{{Status: checks.Fail, Resource: "DATABASE_URL", Message: "no DATABASE_URL found in the configuration"}}
	}
	return out
})

func boolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
