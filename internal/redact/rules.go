package redact

import (
	"regexp"
	"strings"
)

// Rule is a named text rule: a pattern for secret-shaped strings and how
// to replace a match.
type Rule struct {
	// Name is the rule's name in a Report.
	Name string
	re   *regexp.Regexp
	// keep is the number of the submatch kept before the marker (0: none).
	keep int
	// repl, when set, replaces a match instead of keep + marker.
	repl func(m []string) string
}

func (p Rule) apply(s string, marker func(string) string) (string, bool) {
	if !p.re.MatchString(s) {
		return s, false
	}
	ns := p.re.ReplaceAllStringFunc(s, func(m string) string {
		sm := p.re.FindStringSubmatch(m)
		switch {
		case p.repl != nil:
			return p.repl(sm)
		case p.keep > 0:
			if v := sm[p.keep+1]; strings.HasPrefix(v, "[REDACTED") || strings.HasPrefix(v, "REDACTED") {
				return m // already redacted
			}
			return sm[p.keep] + marker(p.Name)
		}
		return marker(p.Name)
	})
	return ns, ns != s
}

// The named text rules.
var (
	PrivateKey   = Rule{Name: "private-key", re: regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----`)}
	JWT          = Rule{Name: "jwt", re: regexp.MustCompile(`eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}`)}
	GitHubToken  = Rule{Name: "github-token", re: regexp.MustCompile(`\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})`)}
	AWSAccessKey = Rule{Name: "aws-access-key", re: regexp.MustCompile(`\b(?:AKIA|ASIA)[0-9A-Z]{16}\b`)}
	StripeKey    = Rule{Name: "stripe-key", re: regexp.MustCompile(`\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{10,}|\bwhsec_[A-Za-z0-9]{10,}`)}
	SlackToken   = Rule{Name: "slack-token", re: regexp.MustCompile(`\bxox[abprs]-[A-Za-z0-9-]{10,}`)}
	Bearer       = Rule{Name: "bearer", keep: 1, re: regexp.MustCompile(`(?i)(bearer\s+)([A-Za-z0-9._~+/=-]{12,})`)}
	// BasicAuth is an HTTP Basic credential (base64 of user:password): an
	// `Authorization: Basic …` header once kept it in a bundle.
	BasicAuth        = Rule{Name: "basic-auth", keep: 1, re: regexp.MustCompile(`(?i)(\bbasic\s+)([A-Za-z0-9+/]{8,}={0,2})`)}
	SecretAssignment = Rule{Name: "secret-assignment", keep: 1, re: regexp.MustCompile(`(?i)((?:password|passwd|secret|token|api[_-]?key|apikey|authorization)["']?\s*[:=]\s*["']?)([^\s"',;&]{4,})`)}
	LongBase64       = Rule{Name: "long-base64", re: regexp.MustCompile(`[A-Za-z0-9+/_-]{40,}={0,2}`)}
	Email            = Rule{Name: "email", re: regexp.MustCompile(`[A-Za-z0-9._%+-]+@([A-Za-z0-9.-]+\.[A-Za-z]{2,})`),
		repl: func(m []string) string { return "***@" + m[1] }}
)

// TextRules are the rules for text calctl did not write (logs, config):
// every named rule.
func TextRules() []Rule {
	return []Rule{PrivateKey, JWT, GitHubToken, AWSAccessKey, StripeKey, SlackToken, Bearer, BasicAuth, SecretAssignment, LongBase64, Email}
}

// StructuredRules are the rules for calctl's own JSON and text (facts,
// results, doctor): they hold no secret values by construction, so only
// token shapes are replaced; paths, digests, e-mail-like evidence and keys
// such as "secret": true stay, and a bundle judges exactly like a live run.
func StructuredRules() []Rule {
	return []Rule{PrivateKey, JWT, GitHubToken, AWSAccessKey, StripeKey, SlackToken}
}
