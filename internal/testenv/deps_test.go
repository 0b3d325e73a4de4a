package testenv

import (
	"strings"
	"testing"
)

// The checker must see what it guards against: the install engine links the
// docker client, and imports gitsource directly.
func TestDepCheckerFindsADependency(t *testing.T) {
	c := DepChecker{
		Package: "github.com/calctl/calctl/installer",
		BadDeps: map[string]string{"github.com/docker/": "test"},
		Imports: []string{"github.com/calctl/calctl/installer/contract"},
	}
	ps, err := c.Problems()
	if err != nil {
		t.Fatal(err)
	}
	var docker, direct bool
	for _, p := range ps {
		docker = docker || strings.Contains(p, "depends on github.com/docker/docker/client: test")
		direct = direct || strings.Contains(p, "imports github.com/calctl/calctl/installer/gitsource")
	}
	if !docker || !direct {
		t.Fatalf("problems %q: want the docker client and the gitsource import", ps)
	}
	clean := DepChecker{Package: "github.com/calctl/calctl/internal/secret", BadDeps: map[string]string{"github.com/docker/": "test"}}
	if ps, err := clean.Problems(); err != nil || len(ps) != 0 {
		t.Fatalf("internal/secret: %q, %v", ps, err)
	}
}
