package gitsource

import (
	"strings"
)

// isControl reports the characters that may drive a terminal: C0 and C1
// controls and DEL.
func isControl(r rune) bool {
	return r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f)
}

// printable removes control characters (escape sequences start with one)
// from text that came from a git server or a repository — remote
// messages, ref names, URLs, error text — before it is printed, logged or
// stored.
func printable(s string) string {
	if !strings.ContainsFunc(s, isControl) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isControl(r) {
			return -1
		}
		return r
	}, s)
}
