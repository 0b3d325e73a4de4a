// Package bundle writes and reads calctl support bundles: a .tar.gz with the
// collected Facts, the check results, doctor output, versions, the container
// list and recent logs, and the install's config files, all redacted before
// anything is written, plus manifest.json listing every file and every
// redaction (key and rule, never the value).
package bundle

import (
	"regexp"
	"strings"

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
// ordinary words, including the JSON keys of calctl's own files.
func NewRedactor(known []string) *Redactor {
	var k []string
	for _, v := range known {
		if !collect.IsDefaultValue(v) {
			k = append(k, v)
		}
	}
	return &Redactor{r: redact.New(redact.Options{Known: k, MinKnown: 8, Rules: redact.TextRules()})}
}

// Log lists every redaction so far.
func (r *Redactor) Log() []Redaction { return r.r.Report() }

// Text redacts free text (logs, JSON) line by line.
func (r *Redactor) Text(file, s string) string { return r.r.Text(file, s) }

// Structured redacts calctl's own JSON and text (facts, results, doctor):
// they hold no secret values by construction, so only known secret values
// and secret-shaped tokens are replaced. Paths, digests and e-mail-like
// evidence stay intact, so a bundle judges exactly like the live run.
func (r *Redactor) Structured(file, s string) string {
	return r.r.WithRules(redact.StructuredRules()...).Text(file, s)
}

var (
	envLineRE    = regexp.MustCompile(`^(\s*(?:export\s+)?)([A-Za-z_][A-Za-z0-9_.-]*)(\s*=\s*)(.*)$`)
	yamlKVRE     = regexp.MustCompile(`^(\s*-?\s*["']?)([A-Za-z_][A-Za-z0-9_.-]*)(["']?\s*:\s+)(.+)$`)
	yamlListKVRE = regexp.MustCompile(`^(\s*-\s*["']?)([A-Za-z_][A-Za-z0-9_.-]*)(=)(.*?)(["']?\s*)$`)
	jsKVRE       = regexp.MustCompile(`^(\s*["']?)([A-Za-z_][A-Za-z0-9_]*)(["']?\s*:\s*)(["'` + "`" + `])(.*)(["'` + "`" + `])(\s*,?\s*)$`)
)

// Config redacts a config file (.env, compose YAML or pm2 JS/JSON): values
// of secret-named keys are replaced whole; then the text rules run.
func (r *Redactor) Config(file, s string) string {
	var b strings.Builder
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		n := i + 1
		key := ""
		switch {
		case envLineRE.MatchString(l) && !strings.Contains(l, ": "):
			m := envLineRE.FindStringSubmatch(l)
			key = m[2]
			if redact.IsSecretKey(key) && strings.TrimSpace(m[4]) != "" && collect.ParseDBURL(strings.Trim(m[4], `"'`)) == nil {
				l = m[1] + m[2] + m[3] + "[REDACTED]"
				r.r.Note(file, n, key, redact.RuleSecretKey)
			}
		case yamlListKVRE.MatchString(l):
			m := yamlListKVRE.FindStringSubmatch(l)
			key = m[2]
			if redact.IsSecretKey(key) && m[4] != "" {
				l = m[1] + m[2] + m[3] + "[REDACTED]" + m[5]
				r.r.Note(file, n, key, redact.RuleSecretKey)
			}
		case jsKVRE.MatchString(l):
			m := jsKVRE.FindStringSubmatch(l)
			key = m[2]
			if redact.IsSecretKey(key) && m[5] != "" {
				l = m[1] + m[2] + m[3] + m[4] + "[REDACTED]" + m[6] + m[7]
				r.r.Note(file, n, key, redact.RuleSecretKey)
			}
		case yamlKVRE.MatchString(l):
			m := yamlKVRE.FindStringSubmatch(l)
			key = m[2]
			if redact.IsSecretKey(key) && strings.TrimSpace(m[4]) != "" && !strings.HasPrefix(strings.TrimSpace(m[4]), "${") {
				l = m[1] + m[2] + m[3] + "[REDACTED]"
				r.r.Note(file, n, key, redact.RuleSecretKey)
			}
		}
		l = r.r.Line(file, n, key, l)
		b.WriteString(l)
		if i < len(lines)-1 {
			b.WriteByte('\n')
		}
	}
	return b.String()
}
