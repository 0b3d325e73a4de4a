package testenv

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/aymanbagabas/go-udiff"
	// teatest's golden package defines the -update flag; importing it here
	// initialises it before this package, so every test binary that imports
	// testenv has exactly one -update, with or without teatest.
	_ "github.com/charmbracelet/x/exp/golden"
)

// Updating reports whether the test binary runs with -update: golden files
// are rewritten instead of compared.
func Updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// Golden compares got with the golden file at path (relative to the test's
// package directory, usually under testdata/). With -update it writes got
// there instead, creating directories, and passes. A difference fails t
// with a unified diff.
func Golden(t testing.TB, path string, got []byte) {
	t.Helper()
	if Updating() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs from what the test produced (go test -update rewrites it):\n%s", path, udiff.Unified(path, "got", string(want), string(got)))
	}
}
