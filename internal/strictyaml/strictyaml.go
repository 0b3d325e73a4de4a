// Package strictyaml is calctl's one loader for the YAML files people
// write: answers files, the agent's config and waivers. It reads at most a
// size cap (a larger file is refused at once, never cut off or parsed),
// then walks the document against the Go type it fills, so that an unknown
// key, a key given twice or a value of the wrong type is refused with its
// full key path and line — which yaml.v3's own errors do not carry — and
// only then decodes.
package strictyaml

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/calctl/calctl/internal/safefile"
)

// DefaultMaxBytes is the cap when Options.MaxBytes is 0: a hand-written
// config is a few KB.
const DefaultMaxBytes = 1 << 20

// ErrTooLarge is wrapped by the error for an input over its cap.
var ErrTooLarge = errors.New("file too large")

// Problem is one thing wrong with a file: where, and what is expected.
type Problem struct {
	// Path is the key path ("database.mode", "waivers[2].id"), "(top
	// level)" or "(file)" for the file as a whole.
	Path string `json:"path"`
	// Line is the 1-based line of the key or value, when known.
	Line int `json:"line,omitempty"`
	// Message says what is wrong.
	Message string `json:"message"`
	// Expected says what would be right.
	Expected string `json:"expected,omitempty"`
}

func (p Problem) String() string {
	s := p.Path + ": " + p.Message
	if p.Line > 0 {
		s = fmt.Sprintf("%s (line %d): %s", p.Path, p.Line, p.Message)
	}
	if p.Expected != "" {
		s += "; expected " + p.Expected
	}
	return s
}

// Error lists every problem found in one input.
type Error struct {
	// Source names the input (a path), when known.
	Source string
	// Problems are in document order.
	Problems []Problem
	// big marks an input over its cap (errors.Is(err, ErrTooLarge)).
	big bool
}

func (e *Error) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	s := strings.Join(parts, "; ")
	if e.Source != "" {
		s = e.Source + ": " + s
	}
	return s
}

// Options tune Decode.
type Options struct {
	// MaxBytes caps the input; 0 means DefaultMaxBytes.
	MaxBytes int64
	// Expected describes a well-formed file, for the problem a YAML syntax
	// error makes.
	Expected string
}

func (o Options) max() int64 {
	if o.MaxBytes > 0 {
		return o.MaxBytes
	}
	return DefaultMaxBytes
}

// Lines maps the key path of every value in the document to its line.
type Lines map[string]int

// Decode checks b against the type of v (a pointer to a struct, whose
// fields carry yaml tags) and decodes b into v. Every problem is returned
// at once as an *Error; v is filled only when there is none. A document
// that is empty or only comments leaves v as it is and returns no lines.
func Decode(b []byte, v any, o Options) (Lines, error) {
	if int64(len(b)) > o.max() {
		return nil, tooLarge("", int64(len(b)), o.max())
	}
	lines := Lines{}
	if len(bytes.TrimSpace(b)) == 0 {
		return lines, nil
	}
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, &Error{Problems: []Problem{{Path: "(file)", Message: "not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: "), Expected: o.Expected}}}
	}
	if len(root.Content) == 0 {
		return lines, nil
	}
	if ps := checkNode(root.Content[0], reflect.TypeOf(v).Elem(), "", lines); len(ps) > 0 {
		return nil, &Error{Problems: ps}
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return nil, &Error{Problems: []Problem{{Path: "(file)", Message: err.Error()}}}
	}
	return lines, nil
}

// tooLarge is the error for an input of size bytes (-1: unknown, more than
// max) over its cap max.
func tooLarge(source string, size, max int64) *Error {
	what := "it holds more than " + byteSize(max)
	if size >= 0 {
		what = byteSize(size) + " is more than the " + byteSize(max)
	}
	return &Error{Source: source, big: true, Problems: []Problem{{Path: "(file)",
		Message:  what + " a file like this may have; it was refused, not cut off",
		Expected: "the right file (a hand-written config is a few KB)"}}}
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// ReadFile reads path for Decode: a regular file (a FIFO or device is
// refused without blocking on it) of at most max bytes (0: DefaultMaxBytes).
// A larger file is refused from its size, unread, with an *Error wrapping
// ErrTooLarge.
func ReadFile(path string, max int64) ([]byte, error) {
	if max <= 0 {
		max = DefaultMaxBytes
	}
	f, st, err := safefile.Open(path, safefile.Options{})
	if errors.Is(err, safefile.ErrNotRegular) {
		return nil, &Error{Source: path, Problems: []Problem{{Path: "(file)", Message: strings.TrimPrefix(err.Error(), path+" "), Expected: "a YAML file"}}}
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st.Size() > max {
		return nil, tooLarge(path, st.Size(), max)
	}
	b, err := Read(f, max)
	var e *Error
	if errors.As(err, &e) {
		e.Source = path
	}
	return b, err
}

// Read reads all of r, refusing more than max bytes (0: DefaultMaxBytes)
// with an *Error wrapping ErrTooLarge instead of cutting the input off.
func Read(r io.Reader, max int64) ([]byte, error) {
	if max <= 0 {
		max = DefaultMaxBytes
	}
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, tooLarge("", -1, max)
	}
	return b, nil
}

// Unwrap lets errors.Is(err, ErrTooLarge) see an oversized input.
func (e *Error) Unwrap() error {
	if e.big {
		return ErrTooLarge
	}
	return nil
}
