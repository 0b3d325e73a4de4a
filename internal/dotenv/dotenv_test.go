package dotenv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/calctl/calctl/internal/testenv"
	composedotenv "github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/sirupsen/logrus"
)

// corpus is dotenv source the way people write it, including what calctl's
// old readers got wrong (issue 11 item 3).
var corpus = []string{
	"A=1\nB=2\n",
	"export CALENDSO_ENCRYPTION_KEY=abcdefghijklmnopqrstuvwxyz012345\n",
	"export   A=x\n",
	"A='single $quoted # not a comment'\n",
	`A="double \"quoted\" \\ \n value"` + "\n",
	"A=unquoted # a comment\nB=x#y\n",
	"A=  spaced   \n",
	"# comment\n\n   # indented comment\nA=1",
	"A=1\r\nB=2\r\n",
	"A=$B\nB=2\n",
	"B=2\nA=$B-${B}-$$-x\n",
	"B=2\nA=${B:-d} ${C:-d} ${C-e}\n",
	`A="multi` + "\nline\n" + `value"` + "\nB=1\n",
	"A='multi\nline'\n",
	"A: yaml style\n",
	"A=\"x\" # trailing\nB=2\n",
	"A=\"x\" B=2\n",
	"EMPTY=\nEMPTYQ=\"\"\nEMPTYS=''\n",
	"A=1\nA=2\n",
	"A=p$ss\n",
	"A='it\\'s'\n",
	"A=\"tab\there\"\n",
	"A=\"\\$HOME\"\n",
	"A=\"oct \\0101\"\n",
	"\ufeffA=bom\n",
	"A.B-C=dotted\n",
	"A=" + strings.Repeat("x", 2<<20) + "\nCALENDSO_ENCRYPTION_KEY=kept\n",
	"lower_case=ok\n",
	"A=é ü\n",
	"BARE\nA=1\n",
	"A=\"unterminated\n",
	"A='unterminated\n",
	"A B=1\n",
	"A@B=1\n",
	"A=${\n",
	"A=${B:?required}\n",
	"A=\"a\\\\\"\n",
	"A='a\\\\'\n",
	"=novalue\n",
}

func composeParse(src string) (map[string]string, error) {
	return composedotenv.ParseWithLookup(strings.NewReader(src), nil)
}

// TestParseMatchesComposeGo: calctl's reader gives what compose-go (the
// parser of `docker compose`) gives, or an error naming the line where
// compose-go errs too. The one knowing difference: a last line with no =
// and no line break, which compose-go stores under the empty key and
// calctl refuses.
func TestParseMatchesComposeGo(t *testing.T) {
	for _, src := range corpus {
		name := src
		if len(name) > 40 {
			name = name[:40]
		}
		want, werr := composeParse(src)
		f, err := Parse([]byte(src))
		if werr != nil {
			if err == nil {
				t.Errorf("%q: compose-go errs (%v), calctl read %v", name, werr, f.Map())
			} else if se := (*SyntaxError)(nil); !errors.As(err, &se) || se.Line < 1 {
				t.Errorf("%q: error %v names no line", name, err)
			}
			continue
		}
		if err != nil {
			if _, empty := want[""]; empty {
				continue
			}
			t.Errorf("%q: compose-go reads %v, calctl errs: %v", name, want, err)
			continue
		}
		if got := f.Map(); !reflect.DeepEqual(got, want) {
			t.Errorf("%q:\n got %v\nwant %v", name, short(got), short(want))
		}
		if !bytes.Equal(f.Bytes(), bytes.TrimPrefix([]byte(src), []byte("\ufeff"))) {
			t.Errorf("%q: Bytes() does not reproduce the source", name)
		}
	}
}

func short(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if len(v) > 40 {
			v = v[:40] + "…"
		}
		out[k] = v
	}
	return out
}

func TestSyntaxErrorNamesTheLine(t *testing.T) {
	_, err := Parse([]byte("A=1\nB=2\nC=\"open\nD=4\n"))
	var se *SyntaxError
	if !errors.As(err, &se) || se.Line != 3 {
		t.Fatalf("err = %v, want line 3", err)
	}
	_, err = Parse([]byte("A=1\n\nbad line here\n"))
	if !errors.As(err, &se) || se.Line != 3 || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("err = %v, want line 3", err)
	}
}

// hostile are values a user may hand calctl (passwords, names, URLs).
var hostile = []string{
	"plain",
	"",
	"p$ss",
	"$(touch /tmp/pwned)",
	"`touch /tmp/pwned`",
	"a #b",
	"a#b",
	"x & y",
	`it's`,
	`say "hi"`,
	`back\slash`,
	`trailing\`,
	`\\double`,
	"  spaced  ",
	"Acme Clinic",
	"tab\tinside",
	"postgresql://u:p%24ss@db.example.com:5432/cal?sslmode=require&sslcert=/etc/ca.pem&sslaccept=strict",
	"$HOME and $$ and $",
	`'single' and "double" and $dollar`,
	"ümlaut ✓",
	"%24%7B",
	"a\\'b",
	" spaced and ending in \\",
	"nbsp\u00a0#x",
	"${HOME}",
	"a\nb",
	"nul\x00",
	"esc\x1b[31m",
}

// TestEncodeRoundTrip: every value Encode accepts reads back byte for byte
// through calctl's reader and compose-go; the ones it refuses are the ones
// no quoting carries through docker-compose v1 and v2 alike.
func TestEncodeRoundTrip(t *testing.T) {
	refused := map[string]bool{"${HOME}": true, "a\nb": true, "nul\x00": true, "esc\x1b[31m": true, " spaced and ending in \\": true}
	for _, v := range hostile {
		line, err := Assignment("K", v)
		if refused[v] {
			if err == nil {
				t.Errorf("%q: encoded as %s, want refused", v, line)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", v, err)
			continue
		}
		src := "K0=before\n" + line + "\nK2=after\n"
		f, err := Parse([]byte(src))
		if err != nil {
			t.Errorf("%q: %s: %v", v, line, err)
			continue
		}
		if got, _ := f.Lookup("K"); got != v {
			t.Errorf("%q: calctl reads %s as %q", v, line, got)
		}
		m, err := composeParse(src)
		if err != nil || m["K"] != v || m["K2"] != "after" {
			t.Errorf("%q: compose-go reads %s as %q (%v)", v, line, m["K"], err)
		}
	}
}

// pythonDotenv is the python3 that Debian's docker-compose 1.29.2 runs and
// whose dotenv package (0.21.0) reads its env_file and .env.
func pythonDotenv(t *testing.T) string {
	t.Helper()
	py := "/usr/bin/python3"
	if _, err := os.Stat("/usr/lib/python3/dist-packages/dotenv/main.py"); err != nil {
		testenv.Unavailable(t, "docker-compose v1's python-dotenv", err) // a machine with compose v2 only has none
	}
	return py
}

// TestEncodeThroughPythonDotenv reads what Encode wrote with the very
// python-dotenv that docker-compose v1 uses (interpolation on, as
// env_vars_from_file calls it).
func TestEncodeThroughPythonDotenv(t *testing.T) {
	py := pythonDotenv(t)
	var b strings.Builder
	var want []string
	for i, v := range hostile {
		line, err := Assignment("K"+string(rune('A'+i)), v)
		if err != nil {
			continue
		}
		b.WriteString(line + "\n")
		want = append(want, v)
	}
	p := filepath.Join(t.TempDir(), "env")
	os.WriteFile(p, []byte(b.String()), 0o600)
	script := `import json,sys; sys.path.insert(0,'/usr/lib/python3/dist-packages'); import dotenv; print(json.dumps(list(dotenv.dotenv_values(dotenv_path=sys.argv[1], encoding='utf-8-sig', interpolate=True).values())))`
	cmd := exec.Command(py, "-c", script, p)
	cmd.Env = []string{"HOME=/nonexistent", "PATH=/usr/bin:/bin"}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python-dotenv: %v", err)
	}
	var got []string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if !reflect.DeepEqual(got, want) {
		for i := range want {
			if i < len(got) && got[i] != want[i] {
				t.Errorf("python-dotenv reads %q as %q", want[i], got[i])
			}
		}
		if len(got) != len(want) {
			t.Errorf("python-dotenv read %d values, want %d", len(got), len(want))
		}
	}
}

// TestSetKeepsLayout: Set changes one assignment in place and keeps every
// other line, comment and key (GOOGLE_API_CREDENTIALS, DAILY_API_KEY).
func TestSetKeepsLayout(t *testing.T) {
	src := "# mine\nGOOGLE_API_CREDENTIALS='{\"web\":{\"client_id\":\"x\"}}'\nexport NEXTAUTH_SECRET=old # keep?\nDAILY_API_KEY=abc\n\n# end"
	f, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Set("NEXTAUTH_SECRET", "n$w"); err != nil {
		t.Fatal(err)
	}
	if err := f.Set("NEW_KEY", "v"); err != nil {
		t.Fatal(err)
	}
	want := "# mine\nGOOGLE_API_CREDENTIALS='{\"web\":{\"client_id\":\"x\"}}'\nexport NEXTAUTH_SECRET='n$w'\nDAILY_API_KEY=abc\n\n# end\nNEW_KEY=v\n"
	if got := string(f.Bytes()); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	g, err := Parse(f.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := g.Lookup("NEXTAUTH_SECRET"); v != "n$w" {
		t.Errorf("NEXTAUTH_SECRET = %q", v)
	}
	if v, _ := g.Lookup("GOOGLE_API_CREDENTIALS"); v != `{"web":{"client_id":"x"}}` {
		t.Errorf("GOOGLE_API_CREDENTIALS = %q", v)
	}
	g.Delete("DAILY_API_KEY")
	if _, ok := g.Lookup("DAILY_API_KEY"); ok || strings.Contains(string(g.Bytes()), "DAILY") {
		t.Errorf("Delete left %s", g.Bytes())
	}
}

func TestReadRefusesFIFOAndHugeFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, ".env")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		testenv.Unavailable(t, "a file system with FIFOs", err)
	}
	if _, err := Read(fifo); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("FIFO: %v", err)
	}
	if _, err := Read(filepath.Join(dir, "missing")); !IsNotExist(err) {
		t.Errorf("missing: %v", err)
	}
	big := filepath.Join(dir, "big")
	fh, _ := os.Create(big)
	fh.Truncate(MaxFileSize + 1)
	fh.Close()
	if _, err := Read(big); err == nil {
		t.Error("read a file over MaxFileSize")
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range corpus {
		if len(s) < 4096 {
			f.Add(s)
		}
	}
	f.Fuzz(func(t *testing.T, src string) {
		got, err := Parse([]byte(src))
		want, werr := composeParse(src)
		if err == nil && werr == nil && !reflect.DeepEqual(got.Map(), want) {
			t.Errorf("%q: calctl %v, compose-go %v", src, got.Map(), want)
		}
		if err == nil && werr != nil {
			t.Errorf("%q: compose-go errs (%v), calctl accepts %v", src, werr, got.Map())
		}
		if err == nil && !bytes.Equal(got.Bytes(), bytes.TrimPrefix([]byte(src), []byte("\ufeff"))) {
			t.Errorf("%q: layout not kept", src)
		}
	})
}

func FuzzEncode(f *testing.F) {
	for _, v := range hostile {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		line, err := Assignment("K", v)
		if err != nil {
			return
		}
		src := line + "\nZ=1\n"
		m, err := composeParse(src)
		if err != nil || m["K"] != v {
			t.Errorf("%q -> %s: compose-go %q %v", v, line, m["K"], err)
		}
		g, err := Parse([]byte(src))
		if err != nil {
			t.Fatalf("%q -> %s: %v", v, line, err)
		}
		if got, _ := g.Lookup("K"); got != v {
			t.Errorf("%q -> %s: calctl %q", v, line, got)
		}
	})
}

func init() {
	// compose-go, the oracle, warns through logrus about every unset
	// variable it expands; the tests expand them on purpose.
	logrus.SetLevel(logrus.ErrorLevel)
}

// TestPM2ReaderAgrees runs the reader the pm2 ecosystem file and
// install-commands.sh use (templates/files/pm2/calcom-env.js) in node over
// the corpus and over every value Encode writes: it reads what calctl reads,
// or stops with a line number — never a different value. It may stop where
// calctl expands a variable; nothing else.
func TestPM2ReaderAgrees(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Unavailable(t, "node", err) // node is part of the pm2 target's own requirements; scripts/test.sh installs it
	}
	js, err := filepath.Abs("../../templates/files/pm2/calcom-env.js")
	if err != nil {
		t.Fatal(err)
	}
	var inputs []string
	for _, s := range corpus {
		inputs = append(inputs, s)
	}
	for i, v := range hostile {
		if line, err := Assignment("K", v); err == nil {
			inputs = append(inputs, fmt.Sprintf("A%d=x\n%s\nZ=1\n", i, line))
		}
	}
	in, _ := json.Marshal(inputs)
	script := `const r = require(process.argv[1]); const ins = JSON.parse(require("fs").readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify(ins.map(s => { try { return {ok: r.parse(s, "t")}; } catch (e) { return {err: e.message, line: e.line || 0}; } })));`
	cmd := exec.Command(node, "-e", script, js)
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var res []struct {
		OK   map[string]string `json:"ok"`
		Err  string            `json:"err"`
		Line int               `json:"line"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	for i, src := range inputs {
		name := src
		if len(name) > 50 {
			name = name[:50]
		}
		f, gerr := Parse([]byte(src))
		r := res[i]
		switch {
		case r.Err == "" && gerr != nil:
			t.Errorf("%q: calctl errs (%v), the pm2 reader reads %v", name, gerr, short(r.OK))
		case r.Err == "" && !reflect.DeepEqual(r.OK, f.Map()):
			t.Errorf("%q: pm2 reader %v, calctl %v", name, short(r.OK), short(f.Map()))
		case r.Err != "" && gerr == nil && !strings.Contains(src, "$"):
			t.Errorf("%q: the pm2 reader stops (%s) where calctl reads %v", name, r.Err, short(f.Map()))
		case r.Err != "" && r.Line < 1:
			t.Errorf("%q: the pm2 reader's error names no line: %s", name, r.Err)
		}
	}
}
