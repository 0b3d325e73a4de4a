package contract

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/calctl/calctl/internal/localhost"
	"github.com/calctl/calctl/internal/secret"
)

// EnvSecrets are the secrets the answers name by environment variable. They
// never come from the answers file itself.
type EnvSecrets struct {
	// GitToken is the HTTPS token for the repository (source.token_env).
	GitToken secret.Secret
	// DatabaseURL is the external/RDS database URL (database.url_env).
	DatabaseURL secret.Secret
	// SMTPPassword is the SMTP password (email.password_env).
	SMTPPassword secret.Secret
	// BillingToken is the billing API token (billing.token_env).
	BillingToken secret.Secret
	// SigningSecret signs usage reports (billing.signing_secret_env).
	SigningSecret secret.Secret
}

// ResolveEnv reads the secrets the answers name from getenv and checks them.
// A required variable that is empty is a Problem at the key that names it.
func (a *Answers) ResolveEnv(getenv func(string) string) (EnvSecrets, error) {
	var s EnvSecrets
	var ps []Problem
	need := func(path, name string, required bool) secret.Secret {
		if name == "" {
			return ""
		}
		v := getenv(name)
		if v == "" && required {
			ps = append(ps, Problem{Path: path, Message: fmt.Sprintf("environment variable %s is empty", name),
				Expected: fmt.Sprintf("export %s before running calctl (the secret never goes in the answers file)", name)})
		}
		return secret.Secret(v)
	}
	s.GitToken = need("source.token_env", a.Source.TokenEnv, false)
	if a.Database.Mode != DBBundled {
		s.DatabaseURL = need("database.url_env", a.Database.URLEnv, true)
		if s.DatabaseURL != "" {
			if err := CheckDatabaseURL(a.Database.Mode, s.DatabaseURL.Reveal()); err != nil {
				ps = append(ps, Problem{Path: "database.url_env", Message: fmt.Sprintf("%s: %v", a.Database.URLEnv, err),
					Expected: "postgresql://USER:PASSWORD@HOST:PORT/DB with TLS (sslmode=require, verify-ca or verify-full) for any host that is not local"})
			}
		}
	}
	if a.Email.Host != "" {
		s.SMTPPassword = need("email.password_env", a.Email.PasswordEnv, a.Email.User != "")
	}
	if a.Billing.Endpoint != "" {
		s.BillingToken = need("billing.token_env", a.Billing.TokenEnv, true)
		s.SigningSecret = need("billing.signing_secret_env", a.Billing.SigningSecretEnv, true)
	}
	if len(ps) > 0 {
		sortProblems(ps)
		return s, &AnswersError{Source: "environment", Problems: ps}
	}
	return s, nil
}

// CheckDatabaseURL refuses URLs calctl cannot use safely. It never echoes
// the URL, which holds a password.
func CheckDatabaseURL(mode, raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("not a URL")
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return fmt.Errorf("scheme %q is not postgres or postgresql", u.Scheme)
	}
	if u.Hostname() == "" {
		return fmt.Errorf("no host")
	}
	if strings.Trim(u.Path, "/") == "" {
		return fmt.Errorf("no database name")
	}
	mode2 := u.Query().Get("sslmode")
	if mode2 == "disable" && !localhost.IsLoopback(u.Hostname()) {
		return fmt.Errorf("sslmode=disable to %s would send the password and patient data in clear text", u.Hostname())
	}
	if mode == DBRDS && mode2 != "" && mode2 != "verify-full" {
		return fmt.Errorf("sslmode=%s for RDS; calctl sets verify-full with the RDS CA (remove sslmode from the URL)", mode2)
	}
	return nil
}
