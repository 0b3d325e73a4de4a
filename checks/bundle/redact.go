// Package bundle writes and reads calctl support bundles: a .tar.gz with the
// collected Facts, the check results, doctor output, versions, the container
// list and recent logs, and the install's config files, all redacted before
// anything is written, plus manifest.json listing every file and every
// redaction (key and rule, never the value).
package bundle

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/calctl/calctl/checks/collect"
	"github.com/calctl/calctl/internal/redact"
)

// Redaction records one replaced value: where and by which rule, never what.
type Redaction = redact.Redaction

// Redactor removes secrets from what goes into a bundle, with internal/redact's
// rules, and keeps one report of every redaction for manifest.json.
type Redactor struct {
	r *redact.Redactor
}

// NewRedactor returns a redactor that also replaces the given known values.
// Values shorter than 8 characters and published defaults ("secret",
// "magical_password") are ignored: they are not secret and would match
// ordinary words, including the JSON keys of calctl's own files. A
// multi-line value is also known line by line (a redactor works on lines:
// the last line of a PEM key once survived).
func NewRedactor(known []string) *Redactor {
	var k []string
	for _, v := range known {
		if collect.IsDefaultValue(v) {
			continue
		}
		k = append(k, v)
		if strings.Contains(v, "\n") {
			for _, l := range strings.Split(v, "\n") {
				if l = strings.TrimSpace(strings.Trim(l, `"'`)); !collect.IsDefaultValue(l) && !strings.HasPrefix(l, "-----") {
					k = append(k, l)
				}
			}
		}
	}
	return &Redactor{r: redact.New(redact.Options{Known: k, MinKnown: 8, Rules: redact.TextRules()})}
}

// Log lists every redaction so far.
func (r *Redactor) Log() []Redaction { return r.r.Report() }

// pemBlockRE finds a private key across lines, up to its END line or the
// end of the text (an unterminated block is redacted to the end).
var pemBlockRE = regexp.MustCompile(`(?s)-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\z)`)

// pem replaces every line of a private-key block (line count kept).
func (r *Redactor) pem(file, s string) string {
	if !strings.Contains(s, "PRIVATE KEY-----") {
		return s
	}
	return pemBlockRE.ReplaceAllStringFunc(s, func(m string) string {
		r.r.Note(file, 0, "", "private-key")
		n := strings.Count(m, "\n")
		return strings.Repeat("[REDACTED:private-key]\n", n) + "[REDACTED:private-key]"
	})
}

// Text redacts free text (logs, JSON) line by line.
func (r *Redactor) Text(file, s string) string { return r.r.Text(file, r.pem(file, s)) }

// Structured redacts calctl's own JSON and text (facts, results, doctor):
// they hold no secret values by construction, so only known secret values
// and secret-shaped tokens are replaced. Paths, digests and e-mail-like
// evidence stay intact, so a bundle judges exactly like the live run.
func (r *Redactor) Structured(file, s string) string {
	return r.r.WithRules(redact.StructuredRules()...).Text(file, r.pem(file, s))
}

// Config redacts an install's config file on its parsed structure — env
// entries, YAML nodes (any scalar style: block, flow, quoted), JSON values,
// command lines — and then on known secret values and secret shapes
// everywhere. It fails closed: a file it cannot parse comes back with the
// reason it must be left out of the bundle.
func (r *Redactor) Config(file, kind, s string) (string, error) {
	s = r.pem(file, s)
	switch kind {
	case "env":
		return r.env(file, s)
	case "compose":
		return r.yamlDoc(file, s)
	case "pm2":
		if strings.HasSuffix(file, ".json") {
			return r.jsonDoc(file, s)
		}
		return r.js(file, s), nil
	}
	return "", fmt.Errorf("unknown kind of config file")
}

// env redacts a dotenv file entry by entry, multi-line values included.
func (r *Redactor) env(file, s string) (string, error) {
	es, err := collect.ParseEnv(strings.NewReader(s))
	if err != nil {
		return "", err
	}
	lines := strings.Split(s, "\n")
	secretLine := map[int]string{} // line -> key, for every line of a secret value
	for _, e := range es {
		if !redact.IsSecretKey(e.Key) || strings.TrimSpace(e.Value) == "" {
			continue
		}
		for i := 0; i <= strings.Count(e.Value, "\n"); i++ {
			secretLine[e.Line+i] = e.Key
		}
	}
	var b strings.Builder
	for i, l := range lines {
		n := i + 1
		if key, ok := secretLine[n]; ok {
			if m := envLineRE.FindStringSubmatch(l); m != nil && m[2] == key {
				l = m[1] + m[2] + m[3] + "[REDACTED]"
			} else {
				l = "[REDACTED]"
			}
			r.r.Note(file, n, key, redact.RuleSecretKey)
		} else {
			l = r.r.Line(file, n, "", l)
		}
		b.WriteString(l)
		if i < len(lines)-1 {
			b.WriteByte('\n')
		}
	}
	return b.String(), nil
}

var envLineRE = regexp.MustCompile(`^(\s*(?:export\s+)?)([A-Za-z_][A-Za-z0-9_.-]*)(\s*=\s*)(.*)$`)

// argvKeys hold command lines in compose files.
var argvKeys = map[string]bool{"command": true, "entrypoint": true, "test": true}

// yamlDoc redacts a YAML document (a compose file) node by node.
func (r *Redactor) yamlDoc(file, s string) (string, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(s), &doc); err != nil {
		return "", err
	}
	r.node(file, &doc, "")
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return "", err
	}
	return buf.String(), nil
}

func (r *Redactor) node(file string, n *yaml.Node, key string) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			r.node(file, c, key)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if v.Kind == yaml.ScalarNode && redact.IsSecretKey(k.Value) && strings.TrimSpace(v.Value) != "" && !strings.HasPrefix(strings.TrimSpace(v.Value), "${") {
				r.r.Note(file, v.Line, k.Value, redact.RuleSecretKey)
				v.Value, v.Style, v.Tag = "[REDACTED]", yaml.DoubleQuotedStyle, "!!str"
				continue
			}
			r.node(file, v, k.Value)
		}
	case yaml.SequenceNode:
		if argvKeys[key] {
			args := make([]string, 0, len(n.Content))
			for _, c := range n.Content {
				if c.Kind != yaml.ScalarNode {
					args = nil
					break
				}
				args = append(args, c.Value)
			}
			if args != nil {
				for i, a := range r.r.Argv(file, args) {
					n.Content[i].Value = r.r.Line(file, n.Content[i].Line, key, a)
				}
				return
			}
		}
		for _, c := range n.Content {
			if c.Kind == yaml.ScalarNode {
				if k, v, ok := strings.Cut(c.Value, "="); ok && redact.IsSecretKey(k) && v != "" && !strings.HasPrefix(v, "${") {
					r.r.Note(file, c.Line, k, redact.RuleSecretKey)
					c.Value = k + "=[REDACTED]"
					continue
				}
			}
			r.node(file, c, key)
		}
	case yaml.ScalarNode:
		v := n.Value
		if argvKeys[key] {
			v = strings.Join(r.r.Argv(file, []string{v}), " ")
		}
		if strings.Contains(v, "\n") {
			v = strings.TrimSuffix(r.r.Text(file, v), "\n")
			if !strings.HasSuffix(n.Value, "\n") {
				v = strings.TrimSuffix(v, "\n")
			}
		} else {
			v = r.r.Line(file, n.Line, key, v)
		}
		n.Value = v
	}
}

// jsonDoc redacts a JSON document (a pm2 ecosystem.json) value by value.
func (r *Redactor) jsonDoc(file, s string) (string, error) {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return "", err
	}
	v = r.jsonValue(file, v, "")
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return "", err
	}
	return string(b) + "\n", nil
}

func (r *Redactor) jsonValue(file string, v any, key string) any {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			if s, ok := c.(string); ok && redact.IsSecretKey(k) && strings.TrimSpace(s) != "" {
				r.r.Note(file, 0, k, redact.RuleSecretKey)
				x[k] = "[REDACTED]"
				continue
			}
			x[k] = r.jsonValue(file, c, k)
		}
	case []any:
		for i, c := range x {
			x[i] = r.jsonValue(file, c, key)
		}
	case string:
		return r.r.Line(file, 0, key, x)
	}
	return v
}

// jsPairRE is a `key: "value"` pair anywhere in JavaScript (an inline
// `env: { NEXTAUTH_SECRET: "…" }` once kept its value).
var jsPairRE = regexp.MustCompile(`(["']?)([A-Za-z_][A-Za-z0-9_]*)(["']?\s*:\s*)("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|` + "`(?:[^`\\\\]|\\\\.)*`" + `)`)

// js redacts a pm2 ecosystem.config.js: the values of secret-named keys
// wherever they stand, then every line as text.
func (r *Redactor) js(file, s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = jsPairRE.ReplaceAllStringFunc(l, func(m string) string {
			sm := jsPairRE.FindStringSubmatch(m)
			if !redact.IsSecretKey(sm[2]) || len(sm[4]) <= 2 {
				return m
			}
			r.r.Note(file, i+1, sm[2], redact.RuleSecretKey)
			q := sm[4][:1]
			return sm[1] + sm[2] + sm[3] + q + "[REDACTED]" + q
		})
		lines[i] = r.r.Line(file, i+1, "", lines[i])
	}
	return strings.Join(lines, "\n")
}
