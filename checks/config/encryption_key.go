package config

import (
	"fmt"

	"github.com/calctl/calctl/checks"
)

// EncryptionKey is CF-002: CALENDSO_ENCRYPTION_KEY exactly 32 characters,
// not a default, and not reused as NEXTAUTH_SECRET.
var EncryptionKey = checks.New(checks.Meta{
	ID: "CF-002", Title: "CALENDSO_ENCRYPTION_KEY", Severity: checks.Critical, Needs: needFiles,
	Remediation: "Set a random 32-character key (`openssl rand -base64 24`). Rotate only with a re-encryption plan: stored credentials and 2FA secrets depend on it.",
}, func(f *checks.Facts) []checks.Finding {
	v, ok := f.Env("CALENDSO_ENCRYPTION_KEY")
	if !ok || v.Len == 0 {
		return []checks.Finding{missing("CALENDSO_ENCRYPTION_KEY")}
	}
	r := checks.Finding{Resource: "CALENDSO_ENCRYPTION_KEY", Location: v.Loc(),
		Evidence: checks.Ev("length", fmt.Sprint(v.Len), "sha256_8", v.Digest)}
	na, _ := f.Env("NEXTAUTH_SECRET")
	switch {
	case v.Default:
		r.Status, r.Message = checks.Fail, "CALENDSO_ENCRYPTION_KEY is a published default or placeholder (CalDAV and 2FA break)"
	case v.Len != 32:
		r.Status, r.Message = checks.Fail, fmt.Sprintf("CALENDSO_ENCRYPTION_KEY is %d characters; aes256 needs exactly 32 (else `Invalid key length`)", v.Len)
	case na.Digest != "" && na.Digest == v.Digest:
		r.Status, r.Message = checks.Fail, "CALENDSO_ENCRYPTION_KEY reuses the NEXTAUTH_SECRET value"
	default:
		r.Status, r.Message = checks.Pass, "CALENDSO_ENCRYPTION_KEY is 32 characters and distinct"
	}
	return []checks.Finding{r}
})
