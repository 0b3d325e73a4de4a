// Package redact is calctl's one way to keep secrets out of what it
// prints, logs, stores and bundles. It follows replicatedhq/troubleshoot's
// pkg/redact: named rules, and a report of what was redacted — file, line,
// key and rule, never the value.
//
// The rules, one each:
//
//   - IsSecretKey(name): whether a variable or key names a secret
//     (CALENDSO_ENCRYPTION_KEY, DATABASE_URL, SMTP_PASSWORD, ...). The
//     installer's diff masking, the checks' evidence and the bundle all ask it.
//   - URL(s): credentials in URLs — the password of user:password@ in any
//     scheme, also in URLs that do not parse (https://u:p@h/x%zz), the user
//     of an http(s) URL (where tokens go: https://TOKEN@host), and libpq's
//     password= / sslpassword= (key=value strings and query parameters). It
//     works on one URL or on free text holding several.
//   - Known values: secret values calctl knows (read from config, in memory
//     only) are replaced wherever they appear (Options.Known).
//   - The text rules (TextRules): secret-shaped strings such as private
//     keys, JWTs, provider tokens, bearer credentials and "password: x".
//
// How to use it:
//
//   - Free text, logs, config: New(Options{...}) gives a Redactor; Line, Text,
//     Value (a parsed key and value: an env entry, a YAML node) and Argv (a
//     command line) return redacted copies and record each Redaction in
//     Report. A Redactor is safe for concurrent use.
//   - Errors: Error(err, secrets...) returns an error whose message has the
//     secrets and URL credentials removed and which still unwraps to err, so
//     errors.Is(err, context.Canceled) and errors.As keep working. (An
//     errors.As target can still hold the raw message: print the returned
//     error, never what As found.) URLPasswords(u) lists the secrets of a
//     database URL for it.
//   - Logs: Handler wraps a slog.Handler so every message and string
//     attribute is scrubbed the same way.
//
// Markers: a Redactor replaces a value with Options.Marker(rule), by default
// "[REDACTED:<rule>]" ("[REDACTED]" for a secret-named key); URL credentials
// become REDACTED so the URL stays a URL; Error uses secret.Mask.
package redact

import (
	"bufio"
	"sort"
	"strings"
	"sync"
)

// Rule names, as they appear in a Report.
const (
	RuleKnownSecret = "known-secret" // a value calctl read as a secret
	RuleSecretKey   = "secret-key"   // the value of a secret-named key or flag
	RuleURLPassword = "url-password" // URL credentials and libpq password=
)

// Redaction records one replaced value: where and by which rule, never what.
type Redaction struct {
	// File is the name the caller gave the text (a bundle entry, a log).
	File string `json:"file"`
	// Line is the 1-based line in File, when known.
	Line int `json:"line,omitempty"`
	// Key is the variable, YAML key or flag the value belonged to, when known.
	Key string `json:"key,omitempty"`
	// Rule is the name of the rule that matched.
	Rule string `json:"rule"`
}

// Options configure a Redactor.
type Options struct {
	// Known are secret values replaced wherever they appear, longest first.
	Known []string
	// MinKnown is the shortest known value honoured (default 8): shorter
	// ones would match ordinary words, including the keys of JSON files.
	MinKnown int
	// Rules are the text rules run on every line after the known values, in
	// order; nil runs none. TextRules() is the full set.
	Rules []Rule
	// Marker returns the text that replaces a value found by rule; nil means
	// "[REDACTED]" for RuleSecretKey and "[REDACTED:<rule>]" for the others.
	Marker func(rule string) string
}

// Redactor removes secrets from text and records what it removed.
type Redactor struct {
	*shared
	rules []Rule
}

// shared is what the Redactors made by WithRules have in common.
type shared struct {
	known  []string
	marker func(string) string

	mu  sync.Mutex
	log []Redaction
}

// DefaultMarker is the marker of a Redactor without Options.Marker.
func DefaultMarker(rule string) string {
	if rule == RuleSecretKey {
		return "[REDACTED]"
	}
	return "[REDACTED:" + rule + "]"
}

// New returns a Redactor for o.
func New(o Options) *Redactor {
	minLen := o.MinKnown
	if minLen <= 0 {
		minLen = 8
	}
	var k []string
	seen := map[string]bool{}
	for _, v := range o.Known {
		if len(v) >= minLen && !seen[v] {
			seen[v] = true
			k = append(k, v)
		}
	}
	sort.SliceStable(k, func(i, j int) bool { return len(k[i]) > len(k[j]) }) // longest first
	m := o.Marker
	if m == nil {
		m = DefaultMarker
	}
	return &Redactor{shared: &shared{known: k, marker: m}, rules: o.Rules}
}

// WithRules returns a Redactor with other text rules that shares r's known
// values, marker and report (one report for a bundle's logs and its
// calctl-written files).
func (r *Redactor) WithRules(rules ...Rule) *Redactor {
	return &Redactor{shared: r.shared, rules: rules}
}

// Report returns a copy of every redaction so far, in order.
func (r *Redactor) Report() []Redaction {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Redaction{}, r.log...)
}

// Note records a redaction the caller made itself (with a rule of its own).
func (r *Redactor) Note(file string, line int, key, rule string) {
	r.mu.Lock()
	r.log = append(r.log, Redaction{File: file, Line: line, Key: key, Rule: rule})
	r.mu.Unlock()
}

// Line redacts one line of text: known values, then URL credentials, then
// the text rules. key, when not empty, is what the line belongs to.
func (r *Redactor) Line(file string, line int, key, s string) string {
	for _, v := range r.known {
		if strings.Contains(s, v) {
			s = strings.ReplaceAll(s, v, r.marker(RuleKnownSecret))
			r.Note(file, line, key, RuleKnownSecret)
		}
	}
	if u := URL(s); u != s {
		s = u
		r.Note(file, line, key, RuleURLPassword)
	}
	for _, p := range r.rules {
		if ns, ok := p.apply(s, r.marker); ok {
			s = ns
			r.Note(file, line, key, p.Name)
		}
	}
	return s
}

// Text redacts free text line by line; every line ends in "\n".
func (r *Redactor) Text(file, s string) string {
	var b strings.Builder
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 0, 64*1024), 16<<20)
	n := 0
	for sc.Scan() {
		n++
		b.WriteString(r.Line(file, n, "", sc.Text()))
		b.WriteByte('\n')
	}
	return b.String()
}

// Value redacts the value of a parsed key (an env entry, a YAML mapping
// value): the whole of it when IsSecretKey(key) and it is not empty,
// otherwise as a Line.
func (r *Redactor) Value(file string, line int, key, v string) string {
	if IsSecretKey(key) && strings.TrimSpace(v) != "" {
		r.Note(file, line, key, RuleSecretKey)
		return r.marker(RuleSecretKey)
	}
	return r.Line(file, line, key, v)
}

// Argv redacts a command line: the value of a secret-named flag
// (--password X, --password=X, --db-token=X) or environment assignment
// (PGPASSWORD=X, as in `env PGPASSWORD=X pg_dump`), the words of a shell
// script argument (`sh -c "pg_dump --password X"`) the same way, then each
// argument as a Line.
func (r *Redactor) Argv(file string, args []string) []string {
	out := make([]string, len(args))
	next := false
	for i, a := range args {
		name, val, hasVal := strings.Cut(a, "=")
		switch {
		case !next && strings.ContainsAny(a, " \t\n"):
			out[i] = strings.Join(r.Argv(file, strings.Fields(a)), " ")
			continue
		case !next && !strings.HasPrefix(a, "-") && hasVal && val != "" && envName(name) && IsSecretKey(name):
			r.Note(file, 0, name, RuleSecretKey)
			out[i] = name + "=" + r.marker(RuleSecretKey)
			continue
		case next:
			next = false
			r.Note(file, 0, flagName(args[i-1]), RuleSecretKey)
			out[i] = r.marker(RuleSecretKey)
			continue
		case strings.HasPrefix(a, "-") && IsSecretKey(flagName(name)):
			if !hasVal {
				next = true
				out[i] = a
				continue
			}
			if val != "" {
				r.Note(file, 0, flagName(name), RuleSecretKey)
				out[i] = name + "=" + r.marker(RuleSecretKey)
				continue
			}
		}
		out[i] = r.Line(file, 0, "", a)
	}
	return out
}

func flagName(f string) string { return strings.ReplaceAll(strings.TrimLeft(f, "-"), "-", "_") }

// envName reports whether s is a shell variable name.
func envName(s string) bool {
	for i, c := range s {
		if c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (i > 0 && c >= '0' && c <= '9') {
			continue
		}
		return false
	}
	return s != ""
}
