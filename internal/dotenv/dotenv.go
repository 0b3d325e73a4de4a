// Package dotenv is calctl's one reader and writer of dotenv files (Cal.com's
// .env, the bundled database's db.env, the cron service's cron.env).
//
// The reader follows the grammar of compose-go's dotenv parser, which is what
// `docker compose` (v2) uses for env_file and the project .env: `export `
// prefixes, `KEY=value` and `KEY: value`, comments, unquoted values cut at
// " #", single quotes (literal), double quotes (escapes, may span lines),
// and `$VAR`/`${VAR}` expansion of unquoted and double-quoted values against
// the keys above them. It has no line-length limit (a line over 1 MiB is
// read like any other), names the line of any syntax error, and keeps the
// file's layout, so that [File.Set] changes one assignment in place and
// every other line, comment and key stays where the user put it.
//
// The writer ([Encode], [File.Set]) produces only values that reach the
// application byte for byte through every reader calctl's files are read
// by: compose-go (Compose v2), python-dotenv 0.21 (docker-compose 1.29's
// env_file and .env reader), and the reader in the pm2 ecosystem file
// (templates/files/pm2/calcom-env.js). A value that no quoting can carry
// through all of them (a newline, a control character, "${" — which
// docker-compose v1 expands in every quoting) is refused with a reason.
//
// Sources: compose-spec/compose-go v2.16.2 dotenv/parser.go and
// template/template.go; python-dotenv 0.21.0 dotenv/parser.py,
// dotenv/main.py (resolve_variables) and dotenv/variables.py, as shipped by
// Debian's docker-compose 1.29.2 (compose/config/environment.py
// env_vars_from_file calls dotenv_values(interpolate=True)).
package dotenv

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"unicode"
	"unicode/utf8"

	"github.com/compose-spec/compose-go/v2/template"

	"github.com/calctl/calctl/internal/safefile"
)

// MaxFileSize is the largest dotenv file Read accepts.
const MaxFileSize = 16 << 20

// SyntaxError is a dotenv file calctl cannot read; Line is 1-based.
type SyntaxError struct {
	// Path is the file Read was given; "" from Parse.
	Path string
	// Line is where the bad assignment starts.
	Line int
	// Msg says what is wrong, without the value.
	Msg string
}

func (e *SyntaxError) Error() string {
	p := e.Path
	if p == "" {
		p = "dotenv"
	}
	return fmt.Sprintf("%s: line %d: %s", p, e.Line, e.Msg)
}

// Entry is one assignment of a dotenv file.
type Entry struct {
	// Key is the variable name (after any `export `).
	Key string
	// Value is the value with quotes removed, escapes and ${VAR}
	// expanded as compose-go does; "" for an Inherited key.
	Value string
	// Line is the 1-based line the assignment starts on.
	Line int
	// Inherited marks a bare `KEY` line: Compose takes its value from the
	// environment of the compose command, so the file itself sets nothing.
	Inherited bool
}

// segment is a span of the source: either text between assignments
// (whitespace, comments) or one assignment.
type segment struct {
	text   string
	assign bool
	entry  Entry
	export bool
}

// File is a parsed dotenv file that keeps its layout.
type File struct {
	segs []segment
}

// Parse reads dotenv source. A UTF-8 byte order mark is skipped, as
// compose-go does.
func Parse(src []byte) (*File, error) {
	src = bytes.TrimPrefix(src, []byte("\xef\xbb\xbf"))
	p := &parser{src: string(src), vars: map[string]string{}}
	if err := p.parse(); err != nil {
		return nil, err
	}
	return &File{segs: p.segs}, nil
}

// Read parses the dotenv file at path. It opens the file without blocking
// (a FIFO named .env cannot hang calctl), refuses anything but a regular
// file and files over MaxFileSize. A missing file is an error that wraps
// fs.ErrNotExist.
func Read(path string) (*File, error) {
	b, err := ReadRegular(path, MaxFileSize)
	if err != nil {
		return nil, err
	}
	f, err := Parse(b)
	var se *SyntaxError
	if errors.As(err, &se) {
		se.Path = path
	}
	return f, err
}

// ReadRegular reads a regular file of at most max bytes through
// internal/safefile, so a FIFO or device never blocks the caller.
func ReadRegular(path string, max int64) ([]byte, error) {
	return safefile.ReadFile(path, max)
}

// IsNotExist reports whether err says the file does not exist.
func IsNotExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// Entries lists the assignments in file order.
func (f *File) Entries() []Entry {
	var out []Entry
	for _, s := range f.segs {
		if s.assign {
			out = append(out, s.entry)
		}
	}
	return out
}

// Lookup returns the value the file gives key (the last assignment wins, as
// in every reader). A bare inherited `KEY` line sets nothing.
func (f *File) Lookup(key string) (string, bool) {
	for i := len(f.segs) - 1; i >= 0; i-- {
		s := f.segs[i]
		if s.assign && s.entry.Key == key && !s.entry.Inherited {
			return s.entry.Value, true
		}
	}
	return "", false
}

// Map returns every key the file sets.
func (f *File) Map() map[string]string {
	m := map[string]string{}
	for _, s := range f.segs {
		if s.assign && !s.entry.Inherited {
			m[s.entry.Key] = s.entry.Value
		}
	}
	return m
}

// Line returns the line of the last assignment of key, or 0.
func (f *File) Line(key string) int {
	for i := len(f.segs) - 1; i >= 0; i-- {
		if s := f.segs[i]; s.assign && s.entry.Key == key {
			return s.entry.Line
		}
	}
	return 0
}

// Set gives key the value: the last assignment of key is rewritten in place
// (an `export ` prefix kept), or a new line is appended. Every other byte of
// the file stays as it was.
func (f *File) Set(key, value string) error {
	line, err := Assignment(key, value)
	if err != nil {
		return err
	}
	for i := len(f.segs) - 1; i >= 0; i-- {
		s := &f.segs[i]
		if s.assign && s.entry.Key == key {
			if s.export {
				s.text = "export " + line
			} else {
				s.text = line
			}
			s.entry.Value, s.entry.Inherited = value, false
			return nil
		}
	}
	if n := len(f.segs); n > 0 {
		if last := f.segs[n-1].text; last != "" && !strings.HasSuffix(last, "\n") {
			f.segs = append(f.segs, segment{text: "\n"})
		}
	}
	f.segs = append(f.segs, segment{text: line, assign: true, entry: Entry{Key: key, Value: value}},
		segment{text: "\n"})
	return nil
}

// Delete removes every assignment of key (and the line break after it).
func (f *File) Delete(key string) {
	out := f.segs[:0]
	dropNL := false
	for _, s := range f.segs {
		if s.assign && s.entry.Key == key {
			dropNL = true
			continue
		}
		if dropNL && !s.assign {
			s.text = strings.TrimPrefix(s.text, "\n")
		}
		dropNL = false
		out = append(out, s)
	}
	f.segs = out
}

// Bytes renders the file.
func (f *File) Bytes() []byte {
	var b strings.Builder
	for _, s := range f.segs {
		b.WriteString(s.text)
	}
	return []byte(b.String())
}

// AppendComment appends comment lines ("# " + each line).
func (f *File) AppendComment(text string) {
	for _, l := range strings.Split(text, "\n") {
		f.segs = append(f.segs, segment{text: strings.TrimRight("# "+l, " ") + "\n"})
	}
}

var keyName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Assignment returns the line `KEY=<encoded value>` (no line break).
func Assignment(key, value string) (string, error) {
	if !keyName.MatchString(key) {
		return "", fmt.Errorf("%q is not an environment variable name (letters, digits and _, not starting with a digit)", key)
	}
	v, err := Encode(value)
	if err != nil {
		return "", fmt.Errorf("%s: %w", key, err)
	}
	return key + "=" + v, nil
}

// Encode returns value quoted (or not) so that compose-go, python-dotenv
// 0.21 with interpolation and calctl's pm2 reader all read it back byte for
// byte, or an error saying why that is impossible:
//
//   - unquoted when no reader treats any of its bytes specially: no "$", no
//     leading or trailing white space, no "#" after white space (every
//     reader cuts a comment there), not starting with a quote. Backslashes
//     and inner quotes are literal in unquoted values for all three.
//   - else, without "$": double quotes, with \ and " escaped (compose-go and
//     python-dotenv both decode exactly those two escapes and expand nothing
//     without "$"); a value ending in a backslash is refused there, because
//     python-dotenv's quoted-value pattern reads `\"` as an escaped quote.
//   - else, with "$": single quotes, ' escaped as \' (compose-go keeps
//     single-quoted values literal; python-dotenv expands only "${...}",
//     so "${" is refused, and decodes \\ and \', so a backslash before \ or '
//     or at the end is refused).
func Encode(value string) (string, error) {
	if !utf8.ValidString(value) {
		return "", errors.New("the value is not valid UTF-8")
	}
	for _, r := range value {
		if r == '\n' || r == '\r' {
			return "", errors.New("the value holds a line break, which no .env reader keeps the same")
		}
		if r != '\t' && (unicode.IsControl(r) || r == '\u2028' || r == '\u2029') {
			return "", fmt.Errorf("the value holds the control character %U", r)
		}
	}
	if value == "" {
		return "", nil
	}
	hasDollar := strings.Contains(value, "$")
	first, last := value[0], value[len(value)-1]
	r0, _ := utf8.DecodeRuneInString(value)
	rn, _ := utf8.DecodeLastRuneInString(value)
	edgeSpace := unicode.IsSpace(r0) || unicode.IsSpace(rn)
	comment := false // python-dotenv cuts at \s+#, compose-go at " #"
	prev := 'x'
	for _, r := range value {
		if r == '#' && unicode.IsSpace(prev) {
			comment = true
		}
		prev = r
	}
	if !hasDollar && !edgeSpace && !comment && first != '"' && first != '\'' {
		return value, nil
	}
	if !hasDollar {
		if last == '\\' {
			return "", errors.New(`the value needs quotes (white space at an end, " #" or a leading quote) and ends in a backslash, which docker-compose v1 reads as an escaped quote`)
		}
		r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
		return `"` + r.Replace(value) + `"`, nil
	}
	if strings.Contains(value, "${") {
		return "", errors.New(`the value holds "${", which docker-compose v1 expands in every quoting of an env file`)
	}
	for i := 0; i < len(value); i++ {
		if value[i] != '\\' {
			continue
		}
		if i == len(value)-1 || value[i+1] == '\\' || value[i+1] == '\'' {
			return "", errors.New(`the value holds both "$" and a backslash before \, ' or the end, which Compose v1 and v2 read differently in every quoting`)
		}
	}
	return "'" + strings.ReplaceAll(value, "'", `\'`) + "'", nil
}

// parser follows compose-go v2.16.2 dotenv/parser.go statement by
// statement, recording where each assignment starts and ends.
type parser struct {
	src  string
	pos  int
	segs []segment
	vars map[string]string
	gap  int   // start of the text not yet in a segment
	nls  []int // offsets of the line breaks, for line numbers
}

func (p *parser) lineAt(off int) int {
	if p.nls == nil {
		p.nls = []int{}
		for i := 0; i < len(p.src); i++ {
			if p.src[i] == '\n' {
				p.nls = append(p.nls, i)
			}
		}
	}
	return sort.SearchInts(p.nls, off) + 1
}

func (p *parser) errAt(off int, format string, a ...any) error {
	return &SyntaxError{Line: p.lineAt(off), Msg: fmt.Sprintf(format, a...)}
}

func isSpace(r rune) bool {
	switch r {
	case '\t', '\v', '\f', '\r', ' ', 0x85, 0xA0:
		return true
	}
	return false
}

var exportPrefix = regexp.MustCompile(`^export\s+`)

func (p *parser) flushGap(to int) {
	if to > p.gap {
		p.segs = append(p.segs, segment{text: p.src[p.gap:to]})
	}
	p.gap = to
}

func (p *parser) parse() error {
	for {
		// getStatementStart: skip whitespace and comment lines
		for {
			i := strings.IndexFunc(p.src[p.pos:], func(r rune) bool { return !unicode.IsSpace(r) })
			if i < 0 {
				p.pos = len(p.src)
				break
			}
			p.pos += i
			if p.src[p.pos] != '#' {
				break
			}
			nl := strings.IndexByte(p.src[p.pos:], '\n')
			if nl < 0 {
				p.pos = len(p.src)
				break
			}
			p.pos += nl
		}
		if p.pos >= len(p.src) {
			p.flushGap(len(p.src))
			return nil
		}
		start := p.pos
		p.flushGap(start)
		rest := p.src[p.pos:]
		export := false
		if exportPrefix.MatchString(rest) {
			export = true
			rest = strings.TrimLeftFunc(strings.TrimPrefix(rest, "export"), isSpace)
		}
		key, after, inherited, err := p.keyName(rest, start)
		if err != nil {
			return err
		}
		if strings.Contains(key, " ") {
			return p.errAt(start, "key cannot contain a space")
		}
		if key == "" && !inherited {
			// compose-go stores such a value under the empty key, which no
			// program can read; calctl refuses it
			return p.errAt(start, "no variable name before the =")
		}
		var e Entry
		e.Key, e.Line = key, p.lineAt(start)
		if inherited {
			e.Inherited = true
			p.pos = len(p.src) - len(after)
			// the bare key's line break belongs to the gap after it
			end := p.pos - 1
			p.segs = append(p.segs, segment{text: p.src[start:end], assign: true, entry: e, export: export})
			p.gap = end
			continue
		}
		value, restAfter, consumedNL, err := p.value(after, start)
		if err != nil {
			return err
		}
		e.Value = value
		p.vars[key] = value
		end := len(p.src) - len(restAfter)
		if consumedNL {
			end-- // keep the line break out of the assignment
		}
		p.segs = append(p.segs, segment{text: p.src[start:end], assign: true, entry: e, export: export})
		p.gap = end
		p.pos = len(p.src) - len(restAfter)
	}
}

// keyName is compose-go's locateKeyName.
func (p *parser) keyName(src string, stmt int) (key, rest string, inherited bool, err error) {
	offset := 0
	found := false
loop:
	for i, r := range src {
		if isSpace(r) {
			continue
		}
		switch r {
		case '=', ':', '\n':
			key = src[:i]
			offset = i + 1
			inherited = r == '\n'
			found = true
			break loop
		case '_', '.', '-', '[', ']':
		default:
			if unicode.IsLetter(r) || unicode.IsNumber(r) {
				continue
			}
			first, _, _ := strings.Cut(src, "\n")
			return "", "", false, p.errAt(stmt, "unexpected character %q in variable name %q", string(r), first)
		}
	}
	if !found {
		// compose-go reads a key that runs to the end of the file as an
		// empty key followed by an error-free end; it sets nothing
		return "", "", false, p.errAt(stmt, "%q has no = and no line break after it", src)
	}
	key = strings.TrimRightFunc(key, unicode.IsSpace)
	rest = strings.TrimLeftFunc(src[offset:], isSpace)
	if inherited {
		rest = src[offset:]
	}
	return key, rest, inherited, nil
}

var escapeSeq = regexp.MustCompile(`(\\(?:[abcfnrtv$"\\]|0\d{0,3}))`)

// value is compose-go's extractVarValue.
func (p *parser) value(src string, stmt int) (value, rest string, consumedNL bool, err error) {
	if src == "" || (src[0] != '"' && src[0] != '\'') {
		v, r, found := strings.Cut(src, "\n")
		v, _, _ = strings.Cut(v, " #")
		v = strings.TrimRightFunc(v, unicode.IsSpace)
		out, err := p.expand(v, stmt)
		return out, r, found, err
	}
	quote := src[0]
	esc := false
	var chars []byte
	for i := 1; i < len(src); i++ {
		c := src[i]
		if c != quote {
			if !esc && c == '\\' {
				esc = true
				continue
			}
			if esc {
				esc = false
				chars = append(chars, '\\')
			}
			chars = append(chars, c)
			continue
		}
		if esc {
			esc = false
			chars = append(chars, c)
			continue
		}
		v := string(chars)
		if quote == '"' {
			v, err = p.expand(expandEscapes(v), stmt)
			if err != nil {
				return "", "", false, err
			}
		}
		return v, src[i+1:], false, nil
	}
	first, _, _ := strings.Cut(src, "\n")
	return "", "", false, p.errAt(stmt, "unterminated quoted value %s", first)
}

func expandEscapes(s string) string {
	return escapeSeq.ReplaceAllStringFunc(s, func(m string) string {
		if m == `\$` {
			return "$$"
		}
		if strings.HasPrefix(m, `\0`) {
			m = strings.Replace(m, `\0`, `\`, 1)
		}
		v, _, _, err := strconv.UnquoteChar(m, '"')
		if err != nil {
			return m
		}
		return string(v)
	})
}

// expand substitutes $VAR and ${VAR...} against the keys above, as
// compose-go does without an outer environment.
func (p *parser) expand(v string, stmt int) (string, error) {
	if !strings.Contains(v, "$") {
		return v, nil
	}
	out, err := template.SubstituteWithOptions(v, func(k string) (string, bool) {
		x, ok := p.vars[k]
		return x, ok
	}, template.WithoutLogging)
	if err != nil {
		return "", p.errAt(stmt, "%v", err)
	}
	return out, nil
}
