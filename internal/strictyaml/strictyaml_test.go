package strictyaml

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

type inner struct {
	Mode string `yaml:"mode"`
	Port int    `yaml:"port"`
}

type doc struct {
	Name  string   `yaml:"name"`
	Inner inner    `yaml:"inner"`
	List  []inner  `yaml:"list"`
	Tags  []string `yaml:"tags"`
}

func TestDecode(t *testing.T) {
	var d doc
	lines, err := Decode([]byte("name: x\ninner:\n  mode: a\n  port: 5\nlist:\n  - mode: b\ntags: [p, q]\n"), &d, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Inner.Port != 5 || d.List[0].Mode != "b" || len(d.Tags) != 2 {
		t.Errorf("decoded %+v", d)
	}
	if lines["inner.port"] != 4 || lines["list[0].mode"] != 6 || lines["name"] != 1 {
		t.Errorf("lines %v", lines)
	}
	var e doc
	if lines, err := Decode([]byte("# only a comment\n"), &e, Options{}); err != nil || len(lines) != 0 {
		t.Errorf("empty document: %v %v", lines, err)
	}
}

func TestDecodeRefuses(t *testing.T) {
	tests := []struct{ in, want string }{
		{"name: x\ncolour: red\n", "colour (line 2): unknown key; expected one of inner, list, name, tags"},
		{"inner:\n  mode: a\n  mood: b\n", "inner.mood (line 3): unknown key"},
		{"name: x\nname: y\n", "name (line 2): given twice (first at line 1)"},
		{"inner: {port: many}\n", `inner.port (line 1): got "many"; expected an integer`},
		{"name: true\n", `name (line 1): got "true"; expected a string`},
		{"list:\n  - mode: [a]\n", "list[0].mode (line 2): got a list; expected a string"},
		{"- a\n", "(top level) (line 1): got a list; expected a mapping with keys inner, list, name, tags"},
		{"name: [oops\n", "(file): not valid YAML"},
	}
	for _, tt := range tests {
		var d doc
		_, err := Decode([]byte(tt.in), &d, Options{})
		var e *Error
		if !errors.As(err, &e) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Decode(%q) = %v, want %q", tt.in, err, tt.want)
		}
	}
	// every problem at once, in document order
	var d doc
	_, err := Decode([]byte("a: 1\nname: x\nb: 2\n"), &d, Options{})
	var e *Error
	if !errors.As(err, &e) || len(e.Problems) != 2 || e.Problems[0].Path != "a" || e.Problems[1].Path != "b" {
		t.Errorf("problems: %v", err)
	}
	if d.Name != "" {
		t.Errorf("a refused document filled the value: %+v", d)
	}
}

func TestSizeCaps(t *testing.T) {
	var d doc
	_, err := Decode([]byte("name: "+strings.Repeat("x", 100)+"\n"), &d, Options{MaxBytes: 64})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "refused, not cut off") {
		t.Errorf("Decode over the cap: %v", err)
	}
	if _, err := Read(strings.NewReader(strings.Repeat("x", 65)), 64); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "more than 64 bytes") {
		t.Errorf("Read over the cap: %v", err)
	}
	if b, err := Read(strings.NewReader(strings.Repeat("x", 64)), 64); err != nil || len(b) != 64 {
		t.Errorf("Read at the cap: %d %v", len(b), err)
	}

	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	f, _ := os.Create(big)
	f.Truncate(50 << 20) // a 50 MB answers file, sparse: refused from its size
	f.Close()
	if _, err := ReadFile(big, 0); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), big+": (file): 50.0 MiB is more than the 1.0 MiB") {
		t.Errorf("ReadFile(50 MB) = %v", err)
	}
	fifo := filepath.Join(dir, "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(fifo, 0); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("ReadFile(FIFO) = %v", err)
	}
	ok := filepath.Join(dir, "ok.yaml")
	os.WriteFile(ok, []byte("name: x\n"), 0o600)
	if b, err := ReadFile(ok, 0); err != nil || string(b) != "name: x\n" {
		t.Errorf("ReadFile(ok) = %q, %v", b, err)
	}
}

// BenchmarkReadFile50MB: refusing a 50 MB answers file costs a stat, not a
// parse (it used to cost 2.6 GB).
func BenchmarkReadFile50MB(b *testing.B) {
	big := filepath.Join(b.TempDir(), "big.yaml")
	f, _ := os.Create(big)
	f.Truncate(50 << 20)
	f.Close()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadFile(big, 0); !errors.Is(err, ErrTooLarge) {
			b.Fatal(err)
		}
	}
}
