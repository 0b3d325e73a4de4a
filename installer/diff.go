package installer

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/calctl/calctl/internal/redact"
	"github.com/calctl/calctl/internal/secret"
)

// lineDiff returns a minimal line diff of a and b ("-", "+" and two lines of
// context around changes). The files calctl renders are small, so the
// quadratic LCS is fine.
func lineDiff(a, b string) string {
	x := splitLines(a)
	y := splitLines(b)
	n, m := len(x), len(y)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type op struct {
		kind byte
		text string
	}
	var ops []op
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && x[i] == y[j]:
			ops = append(ops, op{' ', x[i]})
			i++
			j++
		case i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
			ops = append(ops, op{'-', x[i]})
			i++
		default:
			ops = append(ops, op{'+', y[j]})
			j++
		}
	}
	const ctx = 2
	keep := make([]bool, len(ops))
	for k, o := range ops {
		if o.kind != ' ' {
			for c := max(0, k-ctx); c <= min(len(ops)-1, k+ctx); c++ {
				keep[c] = true
			}
		}
	}
	var out strings.Builder
	gap := false
	for k, o := range ops {
		if !keep[k] {
			gap = true
			continue
		}
		if gap && out.Len() > 0 {
			out.WriteString("  …\n")
		}
		gap = false
		fmt.Fprintf(&out, "%c %s\n", o.kind, o.text)
	}
	return out.String()
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// Mask replaces every secret value in text with "********" and removes URL
// credentials (internal/redact's rules).
func Mask(text string, secrets []string) string { return redact.String(text, secrets...) }

// maskEnvLines masks the value of every KEY=VALUE line whose key names a
// secret (redact.IsSecretKey), as a second line of defence for files marked
// Secret.
// secretDataLine is a "KEY: value" line of a Secret manifest's data (any
// indented key but the manifest's own metadata keys).
var secretDataLine = regexp.MustCompile(`^([-+ ]?\s+(?:[A-Za-z0-9_.-]+): )\S+$`)

var secretManifestKeys = regexp.MustCompile(`^[-+ ]?\s+(name|namespace|app\.kubernetes\.io/[a-z-]+): `)

func maskEnvLines(text string) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		// a Secret manifest (target kubernetes): every "  KEY: base64" data line
		if m := secretDataLine.FindStringSubmatch(l); m != nil && !secretManifestKeys.MatchString(l) {
			lines[i] = m[1] + secret.Mask
			continue
		}
		k, _, ok := strings.Cut(l, "=")
		if !ok || strings.HasPrefix(strings.TrimSpace(l), "#") {
			continue
		}
		if redact.IsSecretKey(k) {
			lines[i] = k + "=" + secret.Mask
		}
	}
	return strings.Join(lines, "\n")
}
