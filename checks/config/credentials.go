package config

import (
	"fmt"
	"sort"
	"strings"

	"github.com/calctl/calctl/checks"
)

// DefaultCredentials is CF-004: default or weak credentials and reused secrets.
var DefaultCredentials = checks.New(checks.Meta{
	ID: "CF-004", Title: "Default or weak credentials", Severity: checks.High, Needs: needFiles,
	Remediation: "Rotate every default value; generate with `openssl rand -base64 24`; use a dedicated DB user, not unicorn_user or postgres; never reuse a secret across keys.",
}, func(f *checks.Facts) []checks.Finding {
	var is checks.Issues
	ev := map[string]string{}
	if v, ok := f.Env("POSTGRES_PASSWORD"); ok {
		weak(&is, "POSTGRES_PASSWORD", v.Len, v.Default)
		ev["POSTGRES_PASSWORD.length"] = fmt.Sprint(v.Len)
	}
	for _, k := range dbURLKeys {
		v, ok := f.Env(k)
		if !ok || v.URL == nil {
			continue
		}
		u := v.URL
		if u.HasPassword {
			weak(&is, k+" password", u.PasswordLen, u.PasswordWeak)
			ev[k+".password_length"] = fmt.Sprint(u.PasswordLen)
		}
		switch u.User {
		case "unicorn_user":
			is.Add(checks.Fail, "%s uses the calcom/docker default user unicorn_user", k)
		case "postgres":
			is.Add(checks.Warn, "%s connects as the postgres superuser account", k)
		}
	}
	for _, k := range []string{"CRON_API_KEY", "EMAIL_SERVER_PASSWORD", "NEXTAUTH_SECRET", "CALENDSO_ENCRYPTION_KEY", "JWT_SECRET"} {
		if v, ok := f.Env(k); ok && v.Default && k != "NEXTAUTH_SECRET" && k != "CALENDSO_ENCRYPTION_KEY" {
			is.Add(checks.Fail, "%s is the published example value", k)
		}
	}
	// Reuse across keys (URLs and POSTGRES_PASSWORD legitimately share the DB password).
	by := map[string][]string{}
	if f.Files != nil {
		for k, v := range f.Files.AppEnv {
			if !v.Secret || v.URL != nil || v.Len < 8 || v.Digest == "" || k == "POSTGRES_PASSWORD" {
				continue
			}
			by[v.Digest] = append(by[v.Digest], k)
		}
	}
	for _, ks := range by {
		if len(ks) > 1 {
			sort.Strings(ks)
			is.Add(checks.Fail, "the same secret value is reused by %s", strings.Join(ks, ", "))
		}
	}
	return []checks.Finding{is.Finding("credentials", "no default, short or reused credentials found", ev)}
})

func weak(is *checks.Issues, what string, n int, def bool) {
	switch {
	case def:
		is.Add(checks.Fail, "%s is a published default", what)
	case n < 12:
		is.Add(checks.Fail, "%s is only %d characters", what, n)
	case n < 16:
		is.Add(checks.Warn, "%s is %d characters (16 or more recommended)", what, n)
	}
}
