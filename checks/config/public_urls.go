package config

import (
	"net/url"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/internal/localhost"
)

var publicURLKeys = []string{"NEXT_PUBLIC_WEBAPP_URL", "NEXTAUTH_URL", "NEXT_PUBLIC_WEBSITE_URL", "NEXT_PUBLIC_API_V2_URL", "API_URL", "WEB_APP_URL"}

// PublicURLs is CF-005: public URLs use https.
var PublicURLs = checks.New(checks.Meta{
	ID: "CF-005", Title: "Public URLs use HTTPS", Severity: checks.High, Needs: needFiles,
	Remediation: "Serve Cal.com over https and set NEXT_PUBLIC_WEBAPP_URL / NEXTAUTH_URL to https:// (NextAuth then uses __Secure- cookies); rebuild, since NEXT_PUBLIC_* is inlined at build time.",
}, func(f *checks.Facts) []checks.Finding {
	var out []checks.Finding
	for _, k := range publicURLKeys {
		v, ok := f.Env(k)
		if !ok || v.Value == "" {
			continue
		}
		r := checks.Finding{Resource: k, Location: v.Loc(), Evidence: checks.Ev("url", v.Value)}
		u, err := url.Parse(v.Value)
		switch {
		case err != nil || u.Host == "":
			r.Status, r.Message = checks.Warn, k+" is not an absolute URL"
		case u.Scheme == "https":
			r.Status, r.Message = checks.Pass, k+" uses https"
		case localhost.IsLoopback(u.Hostname()):
			r.Status, r.Message = checks.Pass, k+" is http on "+u.Hostname()+" (local only)"
		default:
			r.Status, r.Message = checks.Fail, k+" uses "+u.Scheme+":// on "+u.Hostname()
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		return []checks.Finding{{Status: checks.Skip, Resource: "NEXT_PUBLIC_WEBAPP_URL", Message: "no public URL variable is set"}}
	}
	return out
})
