package archive

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	"filippo.io/age"

	"github.com/calctl/calctl/internal/atomicfile"
)

// Recipients parses age recipients: X25519 public keys (age1…) separated by
// commas or whitespace.
func Recipients(s string) ([]age.Recipient, error) {
	var out []age.Recipient
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' }) {
		r, err := age.ParseX25519Recipient(f)
		if err != nil {
			return nil, fmt.Errorf("recipient %q is not an age public key (age1…; `calctl backup keygen` makes one)", trunc(f))
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil, errors.New("no age recipient given")
	}
	return out, nil
}

// Passphrase returns the scrypt recipient and identity for a passphrase.
func Passphrase(pass string) (age.Recipient, age.Identity, error) {
	if len(pass) < 12 {
		return nil, nil, errors.New("the passphrase is shorter than 12 characters")
	}
	r, err := age.NewScryptRecipient(pass)
	if err != nil {
		return nil, nil, err
	}
	id, err := age.NewScryptIdentity(pass)
	if err != nil {
		return nil, nil, err
	}
	return r, id, nil
}

// IdentitiesFile reads age identities (AGE-SECRET-KEY-1…) from an identity
// file, the format `age-keygen` and `calctl backup keygen` write.
func IdentitiesFile(path string) ([]age.Identity, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	ids, err := age.ParseIdentities(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s is not an age identity file: %v", path, err)
	}
	return ids, nil
}

// Keygen writes a new X25519 identity to path (mode 0600, refusing to
// overwrite) and returns its public recipient.
func Keygen(path string) (string, error) {
	if _, err := os.Lstat(path); err == nil {
		return "", fmt.Errorf("%s already exists; it may be the only key to older backups, so calctl never overwrites it", path)
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return "", err
	}
	rec := id.Recipient().String()
	body := fmt.Sprintf("# calctl backup identity: decrypts the backups encrypted to the recipient below.\n# Keep it OFF the backed-up host (a password manager, a safe). Lose it and the backups are lost.\n# public key: %s\n%s\n", rec, id.String())
	if err := atomicfile.WriteFile(path, []byte(body), 0o600); err != nil {
		return "", err
	}
	return rec, nil
}

func trunc(s string) string {
	if len(s) > 16 {
		return s[:16] + "…"
	}
	return s
}
