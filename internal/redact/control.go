package redact

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Controls makes untrusted text safe to print on a terminal: text from a
// git server or a repository (remote messages, ref names, URLs), from a
// collected system or a support bundle (container names, messages). An
// escape sequence there must not move the cursor, retitle the window or
// reverse the line (issue 11, Low: "escape sequences from bundles and git
// servers reach the terminal"). Tabs and newlines become spaces; every
// other C0/C1 control, DEL, invalid UTF-8, the line and paragraph
// separators and the bidi overrides and isolates become U+FFFD, so a reader
// sees that something was there. Text without any comes back unchanged.
func Controls(s string) string {
	if !strings.ContainsFunc(s, unsafeRune) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n':
			b.WriteByte(' ')
		case unsafeRune(r):
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// unsafeRune reports the runes Controls replaces (tab and newline included).
func unsafeRune(r rune) bool {
	switch {
	case unicode.IsControl(r), r == utf8.RuneError:
		return true
	case r == '\u2028', r == '\u2029': // line and paragraph separators
		return true
	case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069': // bidi embeddings, overrides, isolates
		return true
	}
	return false
}
