package testenv

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoDirectSkips keeps the rule that a test skips only through
// Unavailable or Slow, which fail under CALCTL_REQUIRE_SERVICES=1: CI can
// never skip silently. It reads the syntax, not the text: a Skip called on a
// parameter of type *testing.T, *testing.B, *testing.F or testing.TB is a
// direct skip; a Skip method of calctl's own types (a step's Skipper) is not.
func TestNoDirectSkips(t *testing.T) {
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata" || p == filepath.Join(root, "internal", "testenv")) {
			return filepath.SkipDir
		}
		if !strings.HasSuffix(p, "_test.go") {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			return err
		}
		for _, pos := range directSkips(f) {
			t.Errorf("%s:%d calls Skip directly; use testenv.Unavailable or testenv.Slow", p, fset.Position(pos).Line)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// directSkips returns where f calls Skip, Skipf or SkipNow on a name that
// one of its functions declares as a *testing.T, *testing.B, *testing.F or
// testing.TB parameter.
func directSkips(f *ast.File) []token.Pos {
	testing := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		ft, ok := n.(*ast.FuncType)
		if !ok || ft.Params == nil {
			return true
		}
		for _, fl := range ft.Params.List {
			if isTestingType(fl.Type) {
				for _, nm := range fl.Names {
					testing[nm.Name] = true
				}
			}
		}
		return true
	})
	var out []token.Pos
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		switch sel.Sel.Name {
		case "Skip", "Skipf", "SkipNow":
		default:
			return true
		}
		if id, ok := sel.X.(*ast.Ident); ok && testing[id.Name] {
			out = append(out, call.Pos())
		}
		return true
	})
	return out
}

// isTestingType reports whether e is *testing.T, *testing.B, *testing.F or
// testing.TB.
func isTestingType(e ast.Expr) bool {
	if st, ok := e.(*ast.StarExpr); ok {
		e = st.X
	}
	sel, ok := e.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	pkg, ok := sel.X.(*ast.Ident)
	if !ok || pkg.Name != "testing" {
		return false
	}
	switch sel.Sel.Name {
	case "T", "B", "F", "TB":
		return true
	}
	return false
}

// TestDirectSkipsFindsTestingSkips proves the detector can fail: a t.Skip
// on a *testing.T is found, a step's Skip method is not.
func TestDirectSkipsFindsTestingSkips(t *testing.T) {
	src := `package x
import "testing"
type step struct{}
func (step) Skip() (bool, string) { return false, "" }
func TestA(t *testing.T) { t.Skip("no") }
func helper(tb testing.TB) { tb.Skipf("%s", "no") }
func TestB(t *testing.T) { step{}.Skip(); var s step; s.Skip() }
`
	f, err := parser.ParseFile(token.NewFileSet(), "x_test.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(directSkips(f)); got != 2 {
		t.Fatalf("found %d direct skips, want 2 (t.Skip and tb.Skipf)", got)
	}
}
