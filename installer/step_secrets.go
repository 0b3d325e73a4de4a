package installer

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"

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
	env, err := readEnvFile(s.Path(".env"))
	if err != nil {
		return WithRemedy(err, "make %s readable by the user running calctl (it holds the existing secrets; calctl never regenerates them)", s.Path(".env"))
	}
	dbenv, err := readEnvFile(s.Path("db.env"))
	if err != nil {
		return WithRemedy(err, "make %s readable by the user running calctl", s.Path("db.env"))
	}
	sec := Secrets{
		NextAuthSecret:   secret.Secret(env["NEXTAUTH_SECRET"]),
		EncryptionKey:    secret.Secret(env["CALENDSO_ENCRYPTION_KEY"]),
		DatabasePassword: secret.Secret(dbenv["POSTGRES_PASSWORD"]),
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
	if err := gen("NEXTAUTH_SECRET", &sec.NextAuthSecret, NewNextAuthSecret); err != nil {
		return err
	}
	if err := gen("CALENDSO_ENCRYPTION_KEY", &sec.EncryptionKey, NewEncryptionKey); err != nil {
		return err
	}
	if n := len(sec.EncryptionKey.Reveal()); n != EncryptionKeyLen {
		s.Emit(Event{Type: EventLog, Level: "warn",
			Message: fmt.Sprintf("CALENDSO_ENCRYPTION_KEY in .env is %d characters, not %d: Cal.com fails with \"Invalid key length\" on CalDAV and 2FA. calctl keeps it because changing it makes stored credentials unreadable", n, EncryptionKeyLen),
			Remedy:  "see `calctl doctor`; rotate the key only together with re-connecting calendars and 2FA"})
	}
	if s.Answers.Database.Mode == DBBundled {
		if err := gen("POSTGRES_PASSWORD", &sec.DatabasePassword, NewDatabasePassword); err != nil {
			return err
		}
	}
	s.Secrets = sec
	return nil
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

// readEnvFile parses KEY=VALUE lines; a missing file is an empty map.
func readEnvFile(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		// no earlier run (an unusable install_dir is the write step's to report)
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return parseEnv(b), nil
}

func parseEnv(b []byte) map[string]string {
	m := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		m[strings.TrimSpace(k)] = v
	}
	return m
}
