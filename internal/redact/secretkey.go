package redact

import "regexp"

// secretKeyRE matches names whose values are secrets: passwords, tokens,
// keys, credentials, connection strings (DATABASE_URL, DSNs), cookies.
var secretKeyRE = regexp.MustCompile(`(?i)(SECRET|PASSWORD|PASSWD|_PASS$|TOKEN|API_?KEY|PRIVATE_KEY|ENCRYPTION_KEY|LICENSE_KEY|_KEY$|_KEY_|^KEY$|DSN|CREDENTIAL|DATABASE_.*URL|_SID$|AUTH_TOKEN|COOKIE)`)

// publicKeyRE matches names that look secret but hold public values: a
// release-signing key's fingerprint (GPG_KEY, as the official python and
// postgres images set it), public keys, key ids, and NEXT_PUBLIC_* (Next.js
// inlines those into the browser bundle, so they are public by
// construction). DK-008 once failed an image for its GPG_KEY.
var publicKeyRE = regexp.MustCompile(`(?i)^(GPG_KEYS?|.*_GPG_KEY|.*PUBLIC_KEY|NEXT_PUBLIC_.*|.*_FINGERPRINT|.*_KEY_ID)$`)

// IsSecretKey reports whether a variable, key or flag name holds a secret.
// It is calctl's one rule for that question.
func IsSecretKey(name string) bool {
	return secretKeyRE.MatchString(name) && !publicKeyRE.MatchString(name)
}
