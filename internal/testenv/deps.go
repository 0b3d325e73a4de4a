package testenv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
)

// DepChecker fails a test when a package links something it must not (the
// shape of tailscale's tstest/deptest): it asks `go list -deps` for the
// package's whole import graph, as the linker sees it (test files aside).
type DepChecker struct {
	// Package is the import path or directory to check; "." is the package
	// of the test that calls Check.
	Package string
	// BadDeps maps an import path, or a prefix ending in "/", to the reason
	// the package must not depend on it, directly or through others.
	BadDeps map[string]string
	// Imports, when not nil, lists the packages of Module the package may
	// import directly; any other import of Module is reported.
	Imports []string
	// Module is the module path Imports is about (default calctl's).
	Module string
}

// DepGraph is what `go list` says about a package.
type DepGraph struct {
	// ImportPath is the package's import path.
	ImportPath string
	// Imports are its direct imports.
	Imports []string
	// Deps are all packages it links, direct or not.
	Deps []string
}

// Graph runs `go list -json -deps=false` for c.Package.
func (c DepChecker) Graph() (DepGraph, error) {
	pkg := c.Package
	if pkg == "" {
		pkg = "."
	}
	var out, errb bytes.Buffer
	cmd := exec.Command("go", "list", "-json", pkg)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return DepGraph{}, fmt.Errorf("go list %s: %v: %s", pkg, err, errb.String())
	}
	var g DepGraph
	if err := json.Unmarshal(out.Bytes(), &g); err != nil {
		return DepGraph{}, fmt.Errorf("go list %s: %w", pkg, err)
	}
	return g, nil
}

// Problems lists every dependency c forbids that the package has, each
// with its reason.
func (c DepChecker) Problems() ([]string, error) {
	g, err := c.Graph()
	if err != nil {
		return nil, err
	}
	var ps []string
	for _, d := range g.Deps {
		for bad, why := range c.BadDeps {
			if d == bad || strings.HasSuffix(bad, "/") && strings.HasPrefix(d, bad) {
				ps = append(ps, fmt.Sprintf("%s depends on %s: %s", g.ImportPath, d, why))
			}
		}
	}
	if c.Imports != nil {
		mod := c.Module
		if mod == "" {
			mod = "github.com/calctl/calctl"
		}
		for _, imp := range g.Imports {
			if (imp == mod || strings.HasPrefix(imp, mod+"/")) && !slices.Contains(c.Imports, imp) {
				ps = append(ps, fmt.Sprintf("%s imports %s; it may import only %s of %s", g.ImportPath, imp, strings.Join(c.Imports, ", "), mod))
			}
		}
	}
	sort.Strings(ps)
	return ps, nil
}

// Check fails t for every problem Problems finds.
func (c DepChecker) Check(t testing.TB) {
	t.Helper()
	ps, err := c.Problems()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		t.Error(p)
	}
}
