package tui

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/charmbracelet/huh"
	"github.com/charmbracelet/x/term"
)

// The accessible prompts (RunAccessible) are the wizard's own, not huh's:
// huh v1.0.0's accessible fields do not say which option or value is the
// default, drop a field's description, validate the empty line instead of
// the value it keeps, and read the input through a new buffered scanner per
// prompt (lines typed ahead are lost). Each prompt here is plain lines:
// what the field is for, the question with its default in brackets (enter
// keeps it), every option numbered, and on a wrong answer the reason and
// the question again.

// text is a text field: what the full-screen huh input draws and what its
// accessible prompt asks.
type text struct {
	// title is the field's name; desc, when set, the line that says
	// what it is for (drawn under the title, printed before the prompt)
	title, desc string
	// empty is what an empty value means, said in the prompt (SMTP port:
	// 587); the full screen shows it as the placeholder.
	empty string
	// value is the field's value, bound by pointer: the prefilled one
	// before, the answer after
	value *string
	// valid is the field's check (nil: none), the same in both views
	valid func(string) error
	// masked fields are never echoed (secrets)
	masked bool
	// optional fields can be emptied in the accessible prompts ("-"),
	// where enter keeps the value
	optional bool
}

// input returns the huh input of x and keeps x for the accessible prompt.
func (m *Model) input(x text) *huh.Input {
	f := huh.NewInput().Title(x.title).Value(x.value)
	if x.desc != "" {
		f.Description(x.desc)
	}
	if x.empty != "" {
		f.Placeholder(x.empty)
	}
	if x.valid != nil {
		f.Validate(x.valid)
	}
	if x.masked {
		f.EchoMode(huh.EchoModePassword)
	}
	if m.texts == nil {
		m.texts = map[*huh.Input]text{}
	}
	m.texts[f] = x
	return f
}

// ErrInputEnded is returned by the accessible prompts when their input
// ends (Ctrl+D, or the end of a piped script) before the wizard does.
var ErrInputEnded = errors.New("the input ended before the wizard did; nothing was changed")

// prompter asks the accessible prompts: it writes to out and reads in one
// line at a time.
type prompter struct {
	// in is read one line at a time; out gets the prompts
	in  io.Reader
	out io.Writer
	// echo writes each answer after its prompt: set when in is not a
	// terminal (which echoes what is typed), so the output still reads as
	// the session it was (a masked answer is written as dots)
	echo bool
}

// newPrompter returns the prompter over in and out.
func newPrompter(in io.Reader, out io.Writer) *prompter {
	f, ok := in.(interface{ Fd() uintptr })
	return &prompter{in: in, out: out, echo: !ok || !term.IsTerminal(f.Fd())}
}

// line reads one line, echoed when the input is not a terminal.
func (p *prompter) line() (string, error) {
	s, err := p.read()
	if err == nil && p.echo {
		fmt.Fprintln(p.out, s)
	}
	return s, err
}

// read reads one line, a byte at a time so that nothing after it is read
// ahead (the next prompt, or the engine, reads it).
func (p *prompter) read() (string, error) {
	var b []byte
	one := make([]byte, 1)
	for {
		n, err := p.in.Read(one)
		if n == 1 {
			if one[0] == '\n' {
				return strings.TrimSpace(strings.TrimSuffix(string(b), "\r")), nil
			}
			b = append(b, one[0])
			continue
		}
		if err != nil {
			if len(b) > 0 {
				return strings.TrimSpace(string(b)), nil
			}
			fmt.Fprintln(p.out)
			return "", ErrInputEnded
		}
	}
}

// secret reads a line without echo when in is a terminal.
func (p *prompter) secret() (string, error) {
	if f, ok := p.in.(interface{ Fd() uintptr }); ok && term.IsTerminal(f.Fd()) {
		b, err := term.ReadPassword(f.Fd())
		fmt.Fprintln(p.out)
		if err != nil {
			return "", ErrInputEnded
		}
		return strings.TrimSpace(string(b)), nil
	}
	s, err := p.read()
	if err == nil && p.echo {
		fmt.Fprintln(p.out, strings.Repeat("•", min(len(s), 8)))
	}
	return s, err
}

// ask runs the accessible prompt of one field of a page.
func (m *Model) ask(p *prompter, f huh.Field) error {
	switch f := f.(type) {
	case *choice:
		return p.choose(f.title, f.opts, f.value, f.check)
	case *huh.Input:
		if x, ok := m.texts[f]; ok {
			return p.text(x)
		}
	}
	return f.RunAccessible(p.out, p.in)
}

// text asks for a text field. Enter keeps the value it has; "-" empties an
// optional one.
func (p *prompter) text(x text) error {
	if x.desc != "" {
		fmt.Fprintln(p.out, x.desc)
	}
	valid := x.valid
	if valid == nil {
		valid = func(string) error { return nil }
	}
	clearable := x.optional && *x.value != "" && valid("") == nil
	q := x.title
	switch {
	case x.masked && *x.value != "":
		q += " (hidden) [set; enter keeps it]"
	case x.masked:
		q += " (hidden)"
	case clearable:
		q += " [" + *x.value + "; - for none]"
	case *x.value != "":
		q += " [" + *x.value + "]"
	case x.empty != "":
		q += " [" + x.empty + "]"
	}
	for {
		fmt.Fprint(p.out, q+": ")
		read := p.line
		if x.masked {
			read = p.secret
		}
		s, err := read()
		if err != nil {
			return err
		}
		switch {
		case s == "":
			s = *x.value
		case s == "-" && clearable:
			s = ""
		}
		if err := valid(s); err != nil {
			fmt.Fprintln(p.out, "✗ "+err.Error())
			continue
		}
		*x.value = s
		fmt.Fprintln(p.out)
		return nil
	}
}

// choose asks for one of opts by its number; enter keeps the one value
// holds.
func (p *prompter) choose(title string, opts []huh.Option[string], value *string, check func(string) error) error {
	fmt.Fprintln(p.out, title)
	def := 0
	for i, o := range opts {
		fmt.Fprintf(p.out, "%d. %s\n", i+1, o.Key)
		if o.Value == *value {
			def = i + 1
		}
	}
	q := fmt.Sprintf("Enter a number between 1 and %d", len(opts))
	if def > 0 {
		q += fmt.Sprintf(" [%d]", def)
	}
	for {
		fmt.Fprint(p.out, q+": ")
		s, err := p.line()
		if err != nil {
			return err
		}
		n := def
		if s != "" {
			n, err = strconv.Atoi(s)
			if err != nil || n < 1 || n > len(opts) {
				fmt.Fprintf(p.out, "✗ %q is not a number between 1 and %d\n", s, len(opts))
				continue
			}
		} else if n == 0 {
			fmt.Fprintf(p.out, "✗ required: a number between 1 and %d\n", len(opts))
			continue
		}
		if check != nil {
			if err := check(opts[n-1].Value); err != nil {
				fmt.Fprintln(p.out, "✗ "+err.Error())
				continue
			}
		}
		*value = opts[n-1].Value
		fmt.Fprintln(p.out)
		return nil
	}
}

// confirm asks a yes/no question; enter answers def.
func (p *prompter) confirm(q string, def bool) (bool, error) {
	opts := " [y/N]: "
	if def {
		opts = " [Y/n]: "
	}
	for {
		fmt.Fprint(p.out, q+opts)
		s, err := p.line()
		if err != nil {
			return false, err
		}
		switch strings.ToLower(s) {
		case "":
			return def, nil
		case "y", "yes":
			return true, nil
		case "n", "no":
			return false, nil
		}
		fmt.Fprintf(p.out, "✗ %q is not an answer; y (yes) or n (no)\n", s)
	}
}

// spacedWriter writes to w and remembers whether what it wrote ends with a
// blank line, so that a section's heading is set off by one blank line,
// never two.
type spacedWriter struct {
	// w is written to
	w io.Writer
	// tail is the last two bytes written
	tail [2]byte
}

func (s *spacedWriter) Write(b []byte) (int, error) {
	n, err := s.w.Write(b)
	for _, c := range b[:n] {
		s.tail[0], s.tail[1] = s.tail[1], c
	}
	return n, err
}

// heading writes a section's heading after one blank line.
func (s *spacedWriter) heading(h string) {
	if s.tail != [2]byte{'\n', '\n'} {
		fmt.Fprintln(s)
	}
	fmt.Fprintf(s, "== %s ==\n", h)
}
