package docker

import (
	"strings"

	"github.com/calctl/calctl/checks"
)

// EnvSecrets is DK-008: secrets not in container env or image; no trust auth.
var EnvSecrets = checks.New(checks.Meta{
	ID: "DK-008", Title: "Secrets in env; trust auth", Severity: checks.High,
	Remediation: "Use compose `secrets:` with POSTGRES_PASSWORD_FILE; never pass secrets as build args; never POSTGRES_HOST_AUTH_METHOD=trust.",
}, func(f *checks.Facts) []checks.Finding {
	return run(f, false, func(u unit) checks.Finding {
		var is checks.Issues
		var secretKeys []string
		var trust string
		if u.c != nil {
			secretKeys = u.c.SecretEnvKeys
			trust = u.c.PlainEnv["POSTGRES_HOST_AUTH_METHOD"]
			if len(u.c.SecretsInImage) > 0 {
				is.Add(checks.Fail, "secret values are baked into the image env or history: %s", strings.Join(u.c.SecretsInImage, ", "))
			}
		} else if u.s != nil {
			for _, k := range checks.SortedKeys(u.s.Env) {
				if u.s.Env[k].Secret {
					secretKeys = append(secretKeys, k)
				}
			}
			trust = u.s.Env["POSTGRES_HOST_AUTH_METHOD"].Value
		}
		if strings.EqualFold(trust, "trust") {
			is.Add(checks.Fail, "POSTGRES_HOST_AUTH_METHOD=trust: no password needed")
		}
		if len(secretKeys) > 0 {
			is.Add(checks.Warn, "secrets in the container environment (readable with docker inspect): %s", strings.Join(secretKeys, ", "))
		}
		return is.Finding(u.name, "no secret in the environment", checks.Ev("secret_keys", strings.Join(secretKeys, ",")))
	})
})
