package redact

import "regexp"

// secretKeyRE matches names whose values are secrets: passwords, tokens,
// keys, credentials, connection strings (DATABASE_URL, DSNs), cookies.
var secretKeyRE = regexp.MustCompile(`(?i)(SECRET|PASSWORD|PASSWD|_PASS$|TOKEN|API_?KEY|PRIVATE_KEY|ENCRYPTION_KEY|LICENSE_KEY|_KEY$|_KEY_|^KEY$|DSN|CREDENTIAL|DATABASE_.*URL|_SID$|AUTH_TOKEN|COOKIE)`)

// IsSecretKey reports whether a variable, key or flag name holds a secret.
// It is calctl's one rule for that question.
func IsSecretKey(name string) bool { return secretKeyRE.MatchString(name) }
