package main

import (
	"slices"
	"testing"

	"github.com/calctl/calctl/internal/testenv"
)

// TestDeps: calctl-kubernetes is calctl's command tree plus internal/kubecli,
// nothing else of calctl's own, and it does link the kubernetes target.
func TestDeps(t *testing.T) {
	c := testenv.DepChecker{
		Package: ".",
		Imports: []string{"github.com/calctl/calctl/internal/cli", "github.com/calctl/calctl/internal/kubecli"},
	}
	c.Check(t)
	g, err := c.Graph()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(g.Deps, "github.com/calctl/calctl/installer/kubeinstall") {
		t.Errorf("%s does not link installer/kubeinstall: the kubernetes target is missing", g.ImportPath)
	}
}
