// Package secret holds Secret, a string type whose printed, logged and
// JSON forms are masked so that a secret cannot leak by accident.
package secret

import (
	"encoding/json"
	"log/slog"
)

// Mask is what a non-empty Secret prints as.
const Mask = "********"

// Secret is a sensitive string (a token, password or key). Reveal returns
// the value; every other way of printing it shows Mask.
type Secret string

// Reveal returns the secret value. Call it only where the value is used.
func (s Secret) Reveal() string { return string(s) }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s == "" }

// String masks the value.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return Mask
}

// GoString masks the value for %#v.
func (s Secret) GoString() string { return `secret.Secret("` + s.String() + `")` }

// MarshalJSON masks the value.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalText masks the value (YAML and other text encoders).
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// LogValue masks the value in log/slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }
