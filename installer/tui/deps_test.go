package tui

import (
	"testing"

	"github.com/calctl/calctl/internal/testenv"
)

// TestDeps keeps the wizard a face: it draws answers and events from
// installer/contract and reaches the world only through Backend, so it must
// never link the engine's services (DESIGN.md, installer/tui row).
func TestDeps(t *testing.T) {
	const why = "the wizard only draws; the backend (installer/wizard) talks to the world"
	testenv.DepChecker{
		Package: ".",
		BadDeps: map[string]string{
			"github.com/docker/":                      why,
			"github.com/jackc/pgx/":                   why,
			"github.com/go-git/":                      why,
			"github.com/compose-spec/":                why,
			"helm.sh/":                                "the wizard draws the kubernetes answers; Helm runs in installer/kuberelease",
			"k8s.io/":                                 "the wizard draws the kubernetes answers; client-go runs in installer/kuberelease",
			"github.com/google/go-containerregistry/": why,
			"github.com/calctl/calctl/installer":      "the wizard imports installer/contract, not the engine",
		},
		Imports: []string{"github.com/calctl/calctl/installer/contract", "github.com/calctl/calctl/internal/secret"},
	}.Check(t)
}
