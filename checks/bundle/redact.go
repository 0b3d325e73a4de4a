// Package bundle writes and reads calctl support bundles: a .tar.gz with the
// collected Facts, the check results, doctor output, versions, the container
// list and recent logs, and the install's config files, all redacted before
// anything is written, plus manifest.json listing every file and every
// redaction (key and rule, never the value).
package bundle

import (
	"bufio"
	"regexp"
	"sort"
	"strings"

	"github.com/calctl/calctl/checks/collect"
)

// Redaction records one replaced value: where and by which rule, never what.
type Redaction struct {
	File string `json:"file"`
	Line int    `json:"line,omitempty"`
	Key  string `json:"key,omitempty"`
	Rule string `json:"rule"`
}

type pattern struct {
	rule string
	re   *regexp.Regexp
	repl func(m string) string
}

func fixed(rule string) func(string) string {
	return func(string) string { return "[REDACTED:" + rule + "]" }
}

// patterns are secret-shaped strings redacted wherever they appear.
var patterns = []pattern{
	{rule: "private-key", re: regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----`)},
	{rule: "url-password", re: regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@]*:)([^\s@/]+)@`)},
	{rule: "jwt", re: regexp.MustCompile(`eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}`)},
	{rule: "github-token", re: regexp.MustCompile(`\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})`)},
	{rule: "aws-access-key", re: regexp.MustCompile(`\b(?:AKIA|ASIA)[0-9A-Z]{16}\b`)},
	{rule: "stripe-key", re: regexp.MustCompile(`\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{10,}|\bwhsec_[A-Za-z0-9]{10,}`)},
	{rule: "slack-token", re: regexp.MustCompile(`\bxox[abprs]-[A-Za-z0-9-]{10,}`)},
	{rule: "bearer", re: regexp.MustCompile(`(?i)(bearer\s+)([A-Za-z0-9._~+/=-]{12,})`)},
	{rule: "secret-assignment", re: regexp.MustCompile(`(?i)((?:password|passwd|secret|token|api[_-]?key|apikey|authorization)["']?\s*[:=]\s*["']?)([^\s"',;&]{4,})`)},
	{rule: "long-base64", re: regexp.MustCompile(`[A-Za-z0-9+/_-]{40,}={0,2}`)},
	{rule: "email", re: regexp.MustCompile(`[A-Za-z0-9._%+-]+@([A-Za-z0-9.-]+\.[A-Za-z]{2,})`)},
}

func init() {
	for i := range patterns {
		p := &patterns[i]
		switch p.rule {
		case "url-password":
			p.repl = func(m string) string { return p.re.ReplaceAllString(m, "${1}REDACTED@") }
		case "bearer", "secret-assignment":
			p.repl = func(m string) string {
				sm := p.re.FindStringSubmatch(m)
				if strings.HasPrefix(sm[2], "[REDACTED") || strings.HasPrefix(sm[2], "REDACTED") {
					return m // already redacted
				}
				return sm[1] + "[REDACTED:" + p.rule + "]"
			}
		case "email":
			p.repl = func(m string) string { return "***@" + p.re.FindStringSubmatch(m)[1] }
		default:
			p.repl = fixed(p.rule)
		}
	}
}

// Redactor removes secrets from text. Known holds secret values read from
// the config (in memory only): any occurrence anywhere is replaced too.
type Redactor struct {
	known      []string
	MaskEmails bool
	Log        []Redaction
	structured bool
}

// NewRedactor returns a redactor that also replaces the given known values.
// Values shorter than 8 characters and published defaults ("secret",
// "magical_password") are ignored: they are not secret and would match
// ordinary words, including the JSON keys of calctl's own files.
func NewRedactor(known []string) *Redactor {
	var k []string
	seen := map[string]bool{}
	for _, v := range known {
		if len(v) >= 8 && !collect.IsDefaultValue(v) && !seen[v] {
			seen[v] = true
			k = append(k, v)
		}
	}
	sort.Slice(k, func(i, j int) bool { return len(k[i]) > len(k[j]) }) // longest first
	return &Redactor{known: k, MaskEmails: true}
}

func (r *Redactor) note(file string, line int, key, rule string) {
	r.Log = append(r.Log, Redaction{File: file, Line: line, Key: key, Rule: rule})
}

// Text redacts free text (logs, JSON) line by line.
func (r *Redactor) Text(file, s string) string {
	var b strings.Builder
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 0, 64*1024), 16<<20)
	n := 0
	for sc.Scan() {
		n++
		b.WriteString(r.line(file, n, "", sc.Text()))
		b.WriteByte('\n')
	}
	return b.String()
}

func (r *Redactor) line(file string, n int, key, l string) string {
	for _, v := range r.known {
		if strings.Contains(l, v) {
			l = strings.ReplaceAll(l, v, "[REDACTED:known-secret]")
			r.note(file, n, key, "known-secret")
		}
	}
	for _, p := range patterns {
		if p.rule == "email" && !r.MaskEmails {
			continue
		}
		if r.structured && (p.rule == "email" || p.rule == "long-base64" || p.rule == "secret-assignment" || p.rule == "bearer") {
			continue
		}
		if p.re.MatchString(l) {
			nl := p.re.ReplaceAllStringFunc(l, p.repl)
			if nl != l {
				l = nl
				r.note(file, n, key, p.rule)
			}
		}
	}
	return l
}

// Structured redacts calctl's own JSON and text (facts, results, doctor):
// they hold no secret values by construction, so only known secret values
// and secret-shaped tokens are replaced. Paths, digests and e-mail-like
// evidence stay intact, so a bundle judges exactly like the live run.
func (r *Redactor) Structured(file, s string) string {
	r.structured = true
	defer func() { r.structured = false }()
	return r.Text(file, s)
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
			if collect.IsSecretKey(key) && strings.TrimSpace(m[4]) != "" && collect.ParseDBURL(strings.Trim(m[4], `"'`)) == nil {
				l = m[1] + m[2] + m[3] + "[REDACTED]"
				r.note(file, n, key, "secret-key")
			}
		case yamlListKVRE.MatchString(l):
			m := yamlListKVRE.FindStringSubmatch(l)
			key = m[2]
			if collect.IsSecretKey(key) && m[4] != "" {
				l = m[1] + m[2] + m[3] + "[REDACTED]" + m[5]
				r.note(file, n, key, "secret-key")
			}
		case jsKVRE.MatchString(l):
			m := jsKVRE.FindStringSubmatch(l)
			key = m[2]
			if collect.IsSecretKey(key) && m[5] != "" {
				l = m[1] + m[2] + m[3] + m[4] + "[REDACTED]" + m[6] + m[7]
				r.note(file, n, key, "secret-key")
			}
		case yamlKVRE.MatchString(l):
			m := yamlKVRE.FindStringSubmatch(l)
			key = m[2]
			if collect.IsSecretKey(key) && strings.TrimSpace(m[4]) != "" && !strings.HasPrefix(strings.TrimSpace(m[4]), "${") {
				l = m[1] + m[2] + m[3] + "[REDACTED]"
				r.note(file, n, key, "secret-key")
			}
		}
		l = r.line(file, n, key, l)
		b.WriteString(l)
		if i < len(lines)-1 {
			b.WriteByte('\n')
		}
	}
	return b.String()
}
