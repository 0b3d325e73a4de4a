package config

import (
	"strings"

	"github.com/calctl/calctl/checks"
)

var dbURLKeys = []string{"DATABASE_URL", "DATABASE_DIRECT_URL", "DATABASE_READ_URL", "DATABASE_WRITE_URL"}

// DBTLS is CF-003: each database URL read the way the driver that reads it
// does (calcom-facts.md §9 "Prisma and TLS"): DATABASE_DIRECT_URL (and
// DATABASE_URL when there is none) by Prisma's engine, which runs every
// `prisma migrate deploy`; DATABASE_URL by the runtime driver — the engine,
// or node-postgres when the checkout uses @prisma/adapter-pg (the engine
// when no checkout is found, as on every tree before it). A remote URL its
// driver would use without verifying the certificate FAILs: the engine reads
// libpq's sslmode=verify-full as prefer and accepts any certificate.
var DBTLS = checks.New(checks.Meta{
	ID: "CF-003", Title: "DB TLS in connection URLs", Severity: checks.High, Needs: needFiles,
	Remediation: "Write each URL in its driver's form: for Prisma's engine (DATABASE_DIRECT_URL, and DATABASE_URL before @prisma/adapter-pg) `?sslmode=require&sslcert=<ca.pem>&sslaccept=strict`; for node-postgres `?sslmode=verify-full&sslrootcert=<ca.pem>` (calctl install writes both from database.ca_file). Never PGSSLMODE=no-verify. Set DATABASE_DIRECT_URL (same as DATABASE_URL without a pooler).",
}, func(f *checks.Facts) []checks.Finding {
	var out []checks.Finding
	pgssl := strings.ToLower(f.EnvValue("PGSSLMODE"))
	runtime := "engine"
	if f.Files != nil && f.Files.PrismaDriver != "" {
		runtime = f.Files.PrismaDriver
	}
	_, hasDirect := f.Env("DATABASE_DIRECT_URL")
	for _, k := range dbURLKeys {
		v, ok := f.Env(k)
		if !ok || v.URL == nil {
			continue
		}
		u := v.URL
		drivers := []string{"engine"}
		if k == "DATABASE_URL" {
			drivers = []string{runtime}
			if !hasDirect && runtime != "engine" {
				drivers = append(drivers, "engine") // migrations read it too
			}
		}
		for _, d := range drivers {
			t := u.TLS[d]
			ev := checks.Ev("host", u.Host, "sslmode", u.Params["sslmode"], "local", boolStr(u.Local), "driver", d)
			r := checks.Finding{Resource: k, Evidence: ev, Location: v.Loc()}
			who := map[string]string{"engine": "Prisma's engine (migrations)", "node-postgres": "node-postgres (the app)"}[d]
			if k == "DATABASE_URL" && d == "engine" && runtime == "engine" {
				who = "Prisma's engine (the app)"
			}
			switch {
			case u.Local:
				r.Status, r.Message = checks.Pass, "database host "+u.Host+" is local; TLS is optional (info)"
			case pgssl == "no-verify" && d != "engine":
				r.Status, r.Message = checks.Fail, "PGSSLMODE=no-verify disables certificate checks for a remote database"
			case t.Verified:
				r.Status, r.Message = checks.Pass, who+": certificate and host name are verified"
			default:
				r.Status, r.Message = checks.Fail, who+" would reach "+u.Host+" without verifying the server: "+t.Why
			}
			out = append(out, r)
		}
	}
	if _, ok := f.Env("DATABASE_URL"); ok && !hasDirect {
		out = append(out, checks.Finding{Status: checks.Warn, Resource: "DATABASE_DIRECT_URL",
			Message: "DATABASE_DIRECT_URL is not set: migrations fail with `Environment variable not found: DATABASE_DIRECT_URL`"})
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
