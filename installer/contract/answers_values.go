package contract

import (
	"fmt"
	"net"
	"net/mail"
	"path/filepath"
	"reflect"
	"strings"
	"unicode"

	"github.com/calctl/calctl/internal/strictyaml"
	"github.com/distribution/reference"
	"golang.org/x/net/idna"
)

// This file validates answers by what they are (issue 11 item 8): an image
// by the distribution reference grammar, a host by IDNA/hostname rules, an
// e-mail address by RFC 5322, a path as an absolute clean path. No answer
// may hold a line break or another control character: every generated file
// is rendered through an encoder, and refusing them here keeps the error
// next to the key that holds them.

// controlProblems walks every string of a and reports the ones that hold a
// control character (newline included), with their key path.
func controlProblems(a *Answers) []Problem {
	var ps []Problem
	var walk func(v reflect.Value, path string)
	walk = func(v reflect.Value, path string) {
		switch v.Kind() {
		case reflect.Struct:
			fields := strictyaml.Fields(v.Type())
			for name, f := range fields {
				p := name
				if path != "" {
					p = path + "." + name
				}
				walk(v.FieldByIndex(f.Index), p)
			}
		case reflect.Map:
			for _, k := range v.MapKeys() {
				walk(v.MapIndex(k), fmt.Sprintf("%s.%v", path, k))
			}
		case reflect.Pointer:
			if !v.IsNil() {
				walk(v.Elem(), path)
			}
		case reflect.Slice:
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i), fmt.Sprintf("%s[%d]", path, i))
			}
		case reflect.String:
			if r, ok := firstControl(v.String()); ok {
				ps = append(ps, Problem{Path: path, Message: fmt.Sprintf("holds the control character %U", r),
					Expected: "one line of printable text (no line breaks, tabs or escape sequences)"})
			}
		}
	}
	walk(reflect.ValueOf(a).Elem(), "")
	return ps
}

func firstControl(s string) (rune, bool) {
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return r, true
		}
	}
	return 0, false
}

// checkImage validates an image reference by the distribution reference
// grammar (what the Docker engine parses), normalised like `docker pull`.
func checkImage(s string) error {
	if s == "" {
		return fmt.Errorf("missing")
	}
	if _, err := reference.ParseNormalizedNamed(s); err != nil {
		return fmt.Errorf("%q is not an image reference: %v", s, err)
	}
	return nil
}

// checkHost validates a host name by IDNA (UTS #46 lookup profile, which
// applies the STD3 host name rules) or accepts an IP literal.
func checkHost(h string) error {
	if h == "" {
		return fmt.Errorf("no host")
	}
	if ip := net.ParseIP(strings.Trim(h, "[]")); ip != nil {
		return nil
	}
	a, err := idna.Lookup.ToASCII(h)
	if err != nil {
		return fmt.Errorf("%q is not a valid host name: %v", h, err)
	}
	if len(a) > 253 {
		return fmt.Errorf("%q is longer than 253 characters", h)
	}
	for _, label := range strings.Split(strings.TrimSuffix(a, "."), ".") {
		if label == "" || len(label) > 63 {
			return fmt.Errorf("%q has an empty or over-long label", h)
		}
	}
	return nil
}

// checkEmail accepts one bare address (local@domain, no display name).
func checkEmail(s string) error {
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" {
		return fmt.Errorf("%q is not an e-mail address (one bare address, no name)", s)
	}
	at := strings.LastIndexByte(s, '@')
	if err := checkHost(s[at+1:]); err != nil {
		return fmt.Errorf("%q: %v", s, err)
	}
	if strings.ContainsAny(s, " \"'$`\\") {
		return fmt.Errorf("%q holds a quote, space, $, ` or backslash", s)
	}
	return nil
}

// checkAbsPath accepts an absolute, clean path.
func checkAbsPath(s string) error {
	if !filepath.IsAbs(s) {
		return fmt.Errorf("%q is not an absolute path", s)
	}
	if filepath.Clean(s) != s {
		return fmt.Errorf("%q is not a clean path (write it as %q)", s, filepath.Clean(s))
	}
	return nil
}
