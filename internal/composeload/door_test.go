package composeload

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const loaderPath = "github.com/compose-spec/compose-go/v2/loader"

// TestOnlyDoor fails when a package other than this one calls one of
// compose-go's loader.Load* functions (the ones that can panic on hostile
// input), so every compose file calctl loads goes through Load's recover.
// Helpers of the loader package that do not load a file (NormalizeProjectName,
// Options) stay allowed.
func TestOnlyDoor(t *testing.T) {
	root := filepath.Join("..", "..")
	self, _ := filepath.Abs(".")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if abs, _ := filepath.Abs(p); d.Name() == ".git" || d.Name() == "testdata" || abs == self {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		for _, pos := range loaderCalls(f) {
			t.Errorf("%s: calls compose-go's loader.%s directly; use composeload.Load", p, pos)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The walk must see the callers that do use this package, or it proves nothing.
	if n := countImporters(t, root); n < 3 {
		t.Fatalf("walk found %d importers of composeload, want ≥ 3 (checks/collect, installer, installer/home)", n)
	}
}

// loaderCalls returns the names of loader.Load* functions f calls through
// its import of compose-go's loader package.
func loaderCalls(f *ast.File) []string {
	name := ""
	for _, imp := range f.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p == loaderPath {
			name = path.Base(p)
			if imp.Name != nil {
				name = imp.Name.Name
			}
		}
	}
	if name == "" {
		return nil
	}
	var calls []string
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		if id, ok := sel.X.(*ast.Ident); ok && id.Name == name && strings.HasPrefix(sel.Sel.Name, "Load") {
			calls = append(calls, sel.Sel.Name)
		}
		return true
	})
	return calls
}

func countImporters(t *testing.T, root string) int {
	n := 0
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.ImportsOnly)
		if err != nil {
			return nil
		}
		for _, imp := range f.Imports {
			if strings.HasSuffix(imp.Path.Value, `/internal/composeload"`) {
				n++
			}
		}
		return nil
	})
	return n
}
