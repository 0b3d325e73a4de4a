package installer

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"

	"github.com/calctl/calctl/internal/dotenv"
	"github.com/calctl/calctl/internal/secret"
)

// secretsStep loads the secrets of an earlier run from install_dir (.env and
// db.env) and generates, with crypto/rand, only those that do not exist yet.
// A secret that exists is kept byte for byte: changing CALENDSO_ENCRYPTION_KEY
// makes every stored credential unreadable. Values are never printed.
type secretsStep struct{}

func (secretsStep) Name() string { return "secrets" }

// EncryptionKeyLen is the length Cal.com's AES-256 key must have (latin1 bytes).
const EncryptionKeyLen = 32

func (secretsStep) Run(ctx context.Context, s *State) error {
	env, err := readExisting(s.Path(".env"))
	if err != nil {
		return err
	}
	dbenv, err := readExisting(s.Path("db.env"))
	if err != nil {
		return err
	}
	s.Existing = Existing{Env: env, DBEnv: dbenv}
	get := func(f *dotenv.File, k string) secret.Secret {
		if f == nil {
			return ""
		}
		v, _ := f.Lookup(k)
		return secret.Secret(v)
	}
	sec := Secrets{
		NextAuthSecret:   get(env, "NEXTAUTH_SECRET"),
		EncryptionKey:    get(env, "CALENDSO_ENCRYPTION_KEY"),
		DatabasePassword: get(dbenv, "CALCTL_APP_PASSWORD"),
		CronAPIKey:       get(env, "CRON_API_KEY"),
		CronSecret:       get(env, "CRON_SECRET"),
		LicenseKey:       s.Env.LicenseKey,
	}
	if sec.LicenseKey.IsZero() {
		sec.LicenseKey = get(env, "CALCOM_LICENSE_KEY")
	}
	legacy := s.Answers.Database.Mode == DBBundled && LegacyDBRoles(s.Answers, dbenv)
	if legacy {
		// one-role install (render_dbroles.go): POSTGRES_PASSWORD is the
		// password DATABASE_URL uses
		sec.DatabasePassword = get(dbenv, "POSTGRES_PASSWORD")
	} else {
		sec.SuperuserPassword = get(dbenv, "POSTGRES_PASSWORD")
	}
	if sec.DatabasePassword.IsZero() && s.Answers.Database.Mode == DBBundled {
		// db.env lost but .env kept: the database volume was initialised with
		// the password in DATABASE_URL (the app role's, or a one-role
		// install's superuser's); a new one would lock the app out.
		if u, err := url.Parse(get(env, "DATABASE_URL").Reveal()); err == nil && u.Hostname() == "database" && u.User != nil {
			if p, ok := u.User.Password(); ok && p != "" {
				sec.DatabasePassword = secret.Secret(p)
				s.Logf("warn", "db.env had no database password: kept the one in .env's DATABASE_URL")
			}
		}
	}
	gen := func(name string, p *secret.Secret, f func() (string, error)) error {
		if !p.IsZero() {
			s.Logf("info", "%s: kept from the previous run", name)
			return nil
		}
		v, err := f()
		if err != nil {
			return fmt.Errorf("generate %s: %w", name, err)
		}
		*p = secret.Secret(v)
		sec.GeneratedThisRun = append(sec.GeneratedThisRun, name)
		s.Logf("info", "%s: generated", name)
		return nil
	}
	for _, g := range []struct {
		name string
		p    *secret.Secret
		f    func() (string, error)
	}{
		{"NEXTAUTH_SECRET", &sec.NextAuthSecret, NewNextAuthSecret},
		{"CALENDSO_ENCRYPTION_KEY", &sec.EncryptionKey, NewEncryptionKey},
		{"CRON_API_KEY", &sec.CronAPIKey, NewDatabasePassword},
		{"CRON_SECRET", &sec.CronSecret, NewDatabasePassword},
	} {
		if err := gen(g.name, g.p, g.f); err != nil {
			return err
		}
	}
	if n := len(sec.EncryptionKey.Reveal()); n != EncryptionKeyLen {
		s.Emit(Event{Type: EventLog, Level: "warn",
			Message: fmt.Sprintf("CALENDSO_ENCRYPTION_KEY in .env is %d characters, not %d: Cal.com fails with \"Invalid key length\" on CalDAV and 2FA. calctl keeps it because changing it makes stored credentials unreadable", n, EncryptionKeyLen),
			Remedy:  "see `calctl doctor`; rotate the key only together with re-connecting calendars and 2FA"})
	}
	if s.Answers.Database.Mode == DBBundled {
		app := "CALCTL_APP_PASSWORD"
		if legacy {
			app = "POSTGRES_PASSWORD"
		}
		if err := gen(app, &sec.DatabasePassword, NewDatabasePassword); err != nil {
			return err
		}
		if !legacy {
			if err := gen("POSTGRES_PASSWORD", &sec.SuperuserPassword, NewDatabasePassword); err != nil {
				return err
			}
		}
		if err := dbTLSSecrets(s, &sec, dbenv); err != nil {
			return err
		}
	}
	s.Secrets = sec
	return nil
}

// dbTLSSecrets keeps the bundled database's TLS material of db.env while
// it is whole, valid and matching (DatabaseTLS.Check), and makes a new CA,
// certificate and key otherwise, saying why; the render writes the new CA
// file with them, so clients and server change together.
func dbTLSSecrets(s *State, sec *Secrets, dbenv *dotenv.File) error {
	var t DatabaseTLS
	if dbenv != nil {
		k, _ := dbenv.Lookup(DBTLSKeyVar)
		t.Key = secret.Secret(k)
		t.Cert, _ = dbenv.Lookup(DBTLSCertVar)
		t.CA, _ = dbenv.Lookup(DBTLSCAVar)
	}
	now := s.now()
	why := t.Check(now)
	if why == nil {
		sec.DBTLS = t
		s.Logf("info", "%s: kept from the previous run", DBTLSKeyVar)
		return nil
	}
	n, err := NewDatabaseTLS(now)
	if err != nil {
		return fmt.Errorf("generate the bundled database's TLS certificate: %w", err)
	}
	sec.DBTLS = n
	sec.GeneratedThisRun = append(sec.GeneratedThisRun, DBTLSKeyVar)
	if t.IsZero() {
		s.Logf("info", "%s: generated (a CA and a certificate for %q)", DBTLSKeyVar, DBServerName)
	} else {
		s.Logf("warn", "%s: made anew (%v)", DBTLSKeyVar, why)
	}
	return nil
}

// readExisting reads a dotenv file of an earlier run. A missing file is
// nil; a file calctl cannot parse stops the install naming the line:
// generating secrets over it would lose the ones it holds.
func readExisting(path string) (*dotenv.File, error) {
	f, err := dotenv.Read(path)
	var se *dotenv.SyntaxError
	switch {
	case err == nil:
		return f, nil
	case dotenv.IsNotExist(err):
		return nil, nil
	case errors.As(err, &se):
		return nil, WithRemedy(fmt.Errorf("cannot read %s: %w", path, err),
			"fix line %d of %s (quote the value: 'single quotes' keep it literal); calctl never writes over a .env it cannot read, because it holds the secrets", se.Line, path)
	}
	return nil, WithRemedy(fmt.Errorf("cannot read %s: %w", path, err),
		"make %s a regular file readable by the user running calctl (it holds the existing secrets; calctl never regenerates them)", path)
}

// NewNextAuthSecret returns 32 random bytes, base64 encoded (as
// `openssl rand -base64 32`).
func NewNextAuthSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// NewEncryptionKey returns exactly 32 random URL-safe base64 characters
// (24 random bytes), what Cal.com's aes256 key needs.
func NewEncryptionKey() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// NewDatabasePassword returns 24 random bytes as 48 hex characters, safe in
// URLs and .env files without quoting.
func NewDatabasePassword() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}
