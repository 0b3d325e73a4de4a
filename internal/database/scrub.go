package database

import (
	"net/url"
	"sort"
	"strings"

	"github.com/calctl/calctl/internal/redact"
)

// Scrub returns err with the URL's password (in every spelling the URL
// holds it), any sslpassword and the URL itself masked, keeping the error
// chain (errors.Is / errors.As still find context.Canceled,
// *pgconn.PgError, ...). A nil err gives nil. The masking is
// internal/redact's: calctl's one redaction rule.
func (u *URL) Scrub(err error) error {
	return redact.Error(err, u.secrets...)
}

// Scrub is URL.Scrub for a raw URL that may not even parse.
func Scrub(err error, raw string) error {
	return (&URL{secrets: secretsOf(strings.TrimSpace(raw))}).Scrub(err)
}

// secretsOf lists the strings to mask in messages about raw: the whole URL,
// the user-info password as written and decoded, and password= /
// sslpassword= values in a query or keyword/value string. Longest first, so
// that a password inside the URL is masked as part of the URL.
func secretsOf(raw string) []string {
	set := map[string]bool{}
	add := func(s string) {
		if s != "" {
			set[s] = true
			if d, err := url.PathUnescape(s); err == nil && d != "" {
				set[d] = true
			}
			if d, err := url.QueryUnescape(s); err == nil && d != "" {
				set[d] = true
			}
		}
	}
	if raw == "" {
		return nil
	}
	set[raw] = true
	for _, p := range redact.URLPasswords(raw) {
		add(p)
	}
	if rest, ok := strings.CutPrefix(raw, "postgresql://"); ok || strings.HasPrefix(raw, "postgres://") {
		if !ok {
			rest = strings.TrimPrefix(raw, "postgres://")
		}
		// The user info ends at the LAST '@' before the path for this
		// purpose: a password with an unescaped '@' must still be masked
		// whole, whatever a parser makes of it.
		auth := rest
		if i := strings.IndexByte(auth, '/'); i >= 0 {
			auth = auth[:i]
		}
		if i := strings.LastIndexByte(auth, '@'); i >= 0 {
			if _, pw, ok := strings.Cut(auth[:i], ":"); ok {
				add(pw)
			}
		}
		// And at the first '@' (libpq's reading), in case a '/' is in it.
		if i := strings.IndexByte(rest, '@'); i >= 0 {
			if _, pw, ok := strings.Cut(rest[:i], ":"); ok {
				add(pw)
			}
		}
		_, q, _ := strings.Cut(raw, "?")
		for _, p := range splitQuery(q) {
			if p.key == "password" || p.key == "sslpassword" {
				add(p.value)
			}
		}
	} else {
		for _, key := range []string{"password", "sslpassword"} {
			for _, f := range strings.Fields(raw) {
				if v, ok := strings.CutPrefix(f, key+"="); ok {
					add(strings.Trim(v, "'"))
				}
			}
		}
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}
