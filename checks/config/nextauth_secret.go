package config

import (
	"fmt"

	"github.com/calctl/calctl/checks"
)

// NextAuthSecret is CF-001: NEXTAUTH_SECRET strength.
var NextAuthSecret = checks.New(checks.Meta{
	ID: "CF-001", Title: "NEXTAUTH_SECRET strength", Severity: checks.Critical, Needs: needFiles,
	Remediation: "Regenerate with `openssl rand -base64 32` (this logs out every session) and keep the build and runtime values equal.",
}, func(f *checks.Facts) []checks.Finding {
	v, ok := f.Env("NEXTAUTH_SECRET")
	if !ok || v.Len == 0 {
		return []checks.Finding{missing("NEXTAUTH_SECRET")}
	}
	ev := checks.Ev("length", fmt.Sprint(v.Len), "entropy_bits", fmt.Sprintf("%.0f", v.Entropy), "sha256_8", v.Digest)
	r := checks.Finding{Resource: "NEXTAUTH_SECRET", Evidence: ev, Location: v.Loc()}
	switch {
	case v.Default:
		r.Status, r.Message = checks.Fail, "NEXTAUTH_SECRET is a published default or placeholder value"
	case v.Len < 16:
		r.Status, r.Message = checks.Fail, fmt.Sprintf("NEXTAUTH_SECRET is only %d characters (need at least 32)", v.Len)
	case v.Len < 32:
		r.Status, r.Message = checks.Warn, fmt.Sprintf("NEXTAUTH_SECRET is %d characters (32 or more recommended)", v.Len)
	case v.Entropy < 128:
		r.Status, r.Message = checks.Warn, fmt.Sprintf("NEXTAUTH_SECRET has an estimated %.0f bits of entropy (want 128)", v.Entropy)
	default:
		r.Status, r.Message = checks.Pass, fmt.Sprintf("NEXTAUTH_SECRET is %d characters, about %.0f bits", v.Len, v.Entropy)
	}
	return []checks.Finding{r}
})
