package catalog

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOneCheckPerFile keeps the house habit (DESIGN.md: one check per
// file): no file of an area package declares two checks. A check is a
// top-level var whose value is a call to checks.New or to a constructor
// of the package that returns one (limitCheck); the walk must find every
// check of the catalog, or it proves nothing.
func TestOneCheckPerFile(t *testing.T) {
	total := 0
	for _, area := range []string{"pg", "docker", "config", "net", "backup", "kube"} {
		dir := filepath.Join("..", area)
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
				continue
			}
			p := filepath.Join(dir, e.Name())
			f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, d := range f.Decls {
				g, ok := d.(*ast.GenDecl)
				if !ok || g.Tok != token.VAR {
					continue
				}
				for _, s := range g.Specs {
					vs := s.(*ast.ValueSpec)
					for i, v := range vs.Values {
						if isCheckConstructor(v) && i < len(vs.Names) {
							names = append(names, vs.Names[i].Name)
						}
					}
				}
			}
			total += len(names)
			if len(names) > 1 {
				t.Errorf("%s declares %d checks (%s); give each its own file", p, len(names), strings.Join(names, ", "))
			}
		}
	}
	if want := len(All()); total != want {
		t.Errorf("found %d check declarations in the area packages, the catalog has %d: the walk misses some", total, want)
	}
}

// isCheckConstructor reports whether e is checks.New(…) or a call of a
// package function whose name ends in "Check" (limitCheck).
func isCheckConstructor(e ast.Expr) bool {
	c, ok := e.(*ast.CallExpr)
	if !ok {
		return false
	}
	switch fn := c.Fun.(type) {
	case *ast.SelectorExpr:
		x, ok := fn.X.(*ast.Ident)
		return ok && x.Name == "checks" && fn.Sel.Name == "New"
	case *ast.Ident:
		return strings.HasSuffix(fn.Name, "Check")
	}
	return false
}
