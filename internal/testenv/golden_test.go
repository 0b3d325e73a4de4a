package testenv

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	failed bool
	msg    string
}

func (r *recorder) Helper()                        {}
func (r *recorder) Errorf(format string, a ...any) { r.failed = true; r.msg = format }
func (r *recorder) Fatalf(format string, a ...any) { r.failed = true; r.msg = format }

func TestGolden(t *testing.T) {
	if Updating() { // this test is about comparing
		flag.Set("update", "false")
		defer flag.Set("update", "true")
	}
	p := filepath.Join(t.TempDir(), "x.golden")
	os.WriteFile(p, []byte("a\nb\n"), 0o644)
	r := &recorder{TB: t}
	Golden(r, p, []byte("a\nb\n"))
	if r.failed {
		t.Errorf("equal content failed: %s", r.msg)
	}
	r = &recorder{TB: t}
	Golden(r, p, []byte("a\nc\n"))
	if !r.failed || !strings.Contains(r.msg, "differs") {
		t.Errorf("different content passed")
	}
	r = &recorder{TB: t}
	Golden(r, p+".missing", []byte("a"))
	if !r.failed {
		t.Errorf("a missing golden file passed")
	}
}
