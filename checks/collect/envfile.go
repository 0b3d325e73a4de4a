package collect

import (
	"bytes"
	"fmt"
	"io"

	"github.com/calctl/calctl/internal/dotenv"
	"github.com/calctl/calctl/internal/secret"
)

// EnvEntry is one assignment of a dotenv file.
type EnvEntry struct {
	// Key is the variable name.
	Key string
	// Value is the value after unquoting and $VAR expansion (a raw,
	// possibly secret value: never store it in Facts).
	Value string
	// Line is the 1-based line where the assignment starts.
	Line int
}

// maxEnvFile bounds the whole env file.
const maxEnvFile = 4 << 20

// ParseEnv reads dotenv syntax with calctl's one dotenv reader
// (internal/dotenv: compose-go's grammar — `export `, comments, single
// quotes literal, double quotes with escapes across lines, unquoted values
// cut at " #", $VAR expansion). Errors name the line. A bare `KEY` line
// (Compose takes it from its own environment) sets nothing.
func ParseEnv(r io.Reader) ([]EnvEntry, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxEnvFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxEnvFile {
		return nil, fmt.Errorf("over the %d KiB limit for this kind of file", maxEnvFile>>10)
	}
	f, err := dotenv.Parse(b)
	if err != nil {
		return nil, err
	}
	var out []EnvEntry
	for _, e := range f.Entries() {
		if !e.Inherited {
			out = append(out, EnvEntry{Key: e.Key, Value: e.Value, Line: e.Line})
		}
	}
	return out, nil
}

// ReadEnvFile parses an env file into a map (later keys win) plus entries.
// The file must be a regular file of at most 4 MiB (symlinks are followed;
// a dangling or looping one is an error, never "no file").
func ReadEnvFile(path string) (map[string]EnvEntry, error) {
	b, err := readRegular(path, maxEnvFile)
	if err != nil {
		return nil, err
	}
	es, err := ParseEnv(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m := make(map[string]EnvEntry, len(es))
	for _, e := range es {
		m[e.Key] = e
	}
	return m, nil
}

// envRaw returns the raw value of key in an env file as a Secret.
func envRaw(path, key string) secret.Secret {
	if path == "" {
		return ""
	}
	m, err := ReadEnvFile(path)
	if err != nil {
		return ""
	}
	return secret.Secret(m[key].Value)
}
