package main

import (
	"testing"

	"github.com/calctl/calctl/internal/testenv"
)

// TestDeps keeps calctl lean: the kubernetes target's libraries tripled its
// idle memory (the usage agent idled at 62 MB instead of 24 MB) and the
// clone's peak RSS (issue 16), so they live in calctl-kubernetes only
// (internal/cli/plugin.go re-executes it).
func TestDeps(t *testing.T) {
	const why = "the kubernetes target lives in calctl-kubernetes (cmd/calctl-kubernetes, internal/kubecli)"
	testenv.DepChecker{
		Package: ".",
		BadDeps: map[string]string{
			"helm.sh/":             why,
			"k8s.io/client-go/":    why,
			"k8s.io/apimachinery/": why,
			"k8s.io/api/":          why,
			"sigs.k8s.io/":         why,
			"github.com/google/go-containerregistry/":        why,
			"github.com/calctl/calctl/installer/kubeinstall": why,
			"github.com/calctl/calctl/installer/kuberelease": why,
			"github.com/calctl/calctl/installer/kubechart":   why,
			"github.com/calctl/calctl/installer/kubeimage":   why,
			"github.com/calctl/calctl/internal/kubecli":      why,
		},
		Imports: []string{"github.com/calctl/calctl/internal/cli"},
	}.Check(t)
}
