package net

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/calctl/calctl/checks"
)

// HTTPSEnforcement is NET-003: http redirects to https, HSTS, secure cookies.
var HTTPSEnforcement = checks.New(checks.Meta{
	ID: "NET-003", Title: "HTTPS enforcement, HSTS, cookies", Severity: checks.Medium, Needs: needNet,
	Remediation: "Answer http:// with a 301 to https, send `Strict-Transport-Security: max-age=31536000`, and use an https NEXTAUTH_URL so auth cookies are Secure.",
}, func(f *checks.Facts) []checks.Finding {
	n := f.Net
	if n == nil {
		return []checks.Finding{{Status: checks.Skip, Message: "no public URL"}}
	}
	var out []checks.Finding
	if h := n.HTTP; h != nil {
		r := checks.Finding{Resource: h.URL, Evidence: checks.Ev("status", strconv.Itoa(h.Status), "location", h.Location)}
		switch {
		case h.Error == "connection refused":
			r.Status, r.Message = checks.Pass, "plain HTTP is not served (connection refused)"
		case h.Error != "":
			r.Status, r.Message = checks.Skip, "could not probe plain HTTP: "+h.Error
		case (h.Status == 301 || h.Status == 308) && strings.HasPrefix(h.Location, "https://"):
			r.Status, r.Message = checks.Pass, fmt.Sprintf("%d redirect to https", h.Status)
		case (h.Status == 302 || h.Status == 307) && strings.HasPrefix(h.Location, "https://"):
			r.Status, r.Message = checks.Warn, fmt.Sprintf("temporary %d redirect to https (use 301)", h.Status)
		case h.Status >= 200 && h.Status < 300:
			r.Status, r.Message = checks.Fail, fmt.Sprintf("plain HTTP is served (status %d)", h.Status)
		default:
			r.Status, r.Message = checks.Warn, fmt.Sprintf("http answers %d without an https redirect", h.Status)
		}
		out = append(out, r)
	}
	if h := n.HTTPS; h != nil {
		r := checks.Finding{Resource: h.URL + "#hsts", Evidence: checks.Ev("strict-transport-security", h.HSTS)}
		age := hstsMaxAge(h.HSTS)
		switch {
		case h.Error != "":
			r.Status, r.Message = checks.Error, "https request failed: "+h.Error
		case h.HSTS == "":
			r.Status, r.Message = checks.Warn, "no Strict-Transport-Security header"
		case age < 15552000:
			r.Status, r.Message = checks.Warn, fmt.Sprintf("HSTS max-age=%d is under 180 days", age)
		default:
			r.Status, r.Message = checks.Pass, fmt.Sprintf("HSTS max-age=%d", age)
		}
		out = append(out, r)
	}
	if len(n.Cookies) > 0 {
		var is checks.Issues
		for _, c := range n.Cookies {
			if !c.Secure {
				is.Add(checks.Fail, "cookie %s lacks Secure", c.Name)
			} else if !c.HTTPOnly && !strings.Contains(c.Name, "csrf") {
				is.Add(checks.Warn, "cookie %s lacks HttpOnly", c.Name)
			}
		}
		out = append(out, is.Finding(n.URL+"/api/auth/csrf", "auth cookies are Secure", nil))
	}
	if len(out) == 0 {
		return []checks.Finding{{Status: checks.Skip, Resource: n.URL, Message: "no HTTP probe was made"}}
	}
	return out
})

func hstsMaxAge(h string) int {
	for _, p := range strings.Split(h, ";") {
		p = strings.TrimSpace(strings.ToLower(p))
		if v, ok := strings.CutPrefix(p, "max-age="); ok {
			n, _ := strconv.Atoi(strings.Trim(v, `"`))
			return n
		}
	}
	return 0
}
