package collect

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/calctl/calctl/internal/secret"
)

// EnvEntry is one assignment of a dotenv file.
type EnvEntry struct {
	Key   string
	Value string
	Line  int
}

// maxEnvLine bounds one line of an env file; maxEnvFile the whole file.
const (
	maxEnvLine = 1 << 20
	maxEnvFile = 4 << 20
)

// ParseEnv reads dotenv syntax: `KEY=value`, optional `export `, comments,
// single quotes (literal), double quotes (with \n \" \\ escapes, may span
// lines) and unquoted values with ` #` comments. Malformed lines are errors
// naming the line.
func ParseEnv(r io.Reader) ([]EnvEntry, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), maxEnvLine)
	var out []EnvEntry
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(strings.TrimPrefix(sc.Text(), "\ufeff"))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		eq := strings.IndexByte(line, '=')
		if eq <= 0 {
			return nil, fmt.Errorf("line %d: expected KEY=value", n)
		}
		key := strings.TrimSpace(line[:eq])
		if !validKey(key) {
			return nil, fmt.Errorf("line %d: invalid variable name %q", n, key)
		}
		start := n
		rest := strings.TrimLeft(line[eq+1:], " \t")
		var val string
		switch {
		case strings.HasPrefix(rest, "'"):
			end := strings.IndexByte(rest[1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("line %d: unterminated single quote in %s", n, key)
			}
			val = rest[1 : 1+end]
		case strings.HasPrefix(rest, `"`):
			body := rest[1:]
			for {
				if end := closingQuote(body); end >= 0 {
					val = unescape(body[:end])
					break
				}
				if !sc.Scan() {
					return nil, fmt.Errorf("line %d: unterminated double quote in %s", start, key)
				}
				n++
				body += "\n" + sc.Text()
			}
		default:
			if i := strings.Index(rest, " #"); i >= 0 {
				rest = rest[:i]
			}
			val = strings.TrimSpace(rest)
		}
		out = append(out, EnvEntry{Key: key, Value: val, Line: start})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", n+1, err)
	}
	return out, nil
}

func closingQuote(s string) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}

func unescape(s string) string {
	r := strings.NewReplacer(`\n`, "\n", `\"`, `"`, `\\`, `\`, `\t`, "\t", `\$`, "$")
	return r.Replace(s)
}

func validKey(k string) bool {
	if k == "" {
		return false
	}
	for i, c := range k {
		if c == '_' || c == '.' || c == '-' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (i > 0 && c >= '0' && c <= '9') {
			continue
		}
		return false
	}
	return true
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
