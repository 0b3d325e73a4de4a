package collect

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"net/url"
	"regexp"
	"strings"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/internal/localhost"
	"github.com/calctl/calctl/internal/redact"
)

// defaultValues are published defaults and placeholders (lower case).
var defaultValues = map[string]bool{
	"secret": true, "magical_password": true, "postgres": true, "password": true, "changeme": true, "change_me": true,
	"change-me": true, "email_password": true, "example": true, "test": true, "admin": true, "calendso": true,
	"unicorn_user": true, "123456": true, "root": true, "mysecretpassword": true,
	"0cc0e6c35519bba620c9360cfe3e68d0": true, // CRON_API_KEY in cal.com .env.example
}

var placeholderRE = regexp.MustCompile(`(?i)^(<.*>|x{3,}|your[-_ ].*|replace[-_ ]?me.*|todo|changeit|\$\{.*\})$`)

// IsDefaultValue reports whether v is a published default or a placeholder.
func IsDefaultValue(v string) bool {
	lv := strings.ToLower(strings.TrimSpace(v))
	return defaultValues[lv] || placeholderRE.MatchString(lv)
}

// Digest is sha256[:8] in hex: enough to compare values, never to recover one.
func Digest(v string) string {
	s := sha256.Sum256([]byte(v))
	return hex.EncodeToString(s[:])[:8]
}

// EntropyBits estimates len × log2(charset) from the character classes used.
func EntropyBits(v string) float64 {
	var lower, upper, digit, other bool
	for _, c := range v {
		switch {
		case c >= 'a' && c <= 'z':
			lower = true
		case c >= 'A' && c <= 'Z':
			upper = true
		case c >= '0' && c <= '9':
			digit = true
		default:
			other = true
		}
	}
	n := 0
	if lower {
		n += 26
	}
	if upper {
		n += 26
	}
	if digit {
		n += 10
	}
	if other {
		n += 32
	}
	if n == 0 {
		return 0
	}
	// Hex strings are common: a lower+digit value of only [0-9a-f] has 16 symbols.
	if lower && digit && !upper && !other && isHex(v) {
		n = 16
	}
	return math.Round(float64(len(v))*math.Log2(float64(n))*10) / 10
}

func isHex(v string) bool {
	for _, c := range v {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// Describe reduces a variable to what checks may see: secret values become
// length, entropy, digest and default-ness; URLs lose their password.
func Describe(file string, line int, key, val string) checks.EnvVar {
	v := checks.EnvVar{File: file, Line: line, Len: len(val)}
	if u := ParseDBURL(val); u != nil {
		v.URL = u
		v.Secret = u.HasPassword || redact.IsSecretKey(key)
		v.Value = u.Redacted
		v.Digest = Digest(val)
		return v
	}
	if redact.IsSecretKey(key) || hasURLPassword(val) {
		v.Secret = true
		v.Entropy = EntropyBits(val)
		v.Digest = Digest(val)
		v.Default = val == "" || IsDefaultValue(val)
		if hasURLPassword(val) {
			v.Value = redact.URL(val)
		}
		return v
	}
	v.Value = val
	v.Default = IsDefaultValue(val)
	return v
}

// hasURLPassword reports whether s holds URL credentials, parseable or not.
func hasURLPassword(s string) bool { return redact.URL(s) != s }

// ParseDBURL parses a postgres URL; nil if s is not one.
func ParseDBURL(s string) *checks.DBURL {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "postgres://") && !strings.HasPrefix(s, "postgresql://") {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil
	}
	d := &checks.DBURL{Scheme: u.Scheme, Host: u.Hostname(), Port: u.Port(), Database: strings.TrimPrefix(u.Path, "/"), Params: map[string]string{}}
	for k, vs := range u.Query() {
		if len(vs) > 0 && k != "password" {
			d.Params[k] = vs[0]
		}
		if k == "host" && d.Host == "" && len(vs) > 0 {
			d.Host = vs[0]
		}
	}
	if u.User != nil {
		d.User = u.User.Username()
		if p, ok := u.User.Password(); ok {
			d.HasPassword, d.PasswordLen, d.PasswordDigest, d.PasswordWeak = true, len(p), Digest(p), IsDefaultValue(p)
		}
	}
	if p := u.Query().Get("password"); p != "" {
		d.HasPassword, d.PasswordLen, d.PasswordDigest, d.PasswordWeak = true, len(p), Digest(p), IsDefaultValue(p)
	}
	d.Local = localhost.IsLocal(d.Host)
	d.Redacted = redact.URL(s)
	return d
}
