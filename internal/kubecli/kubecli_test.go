package kubecli_test

import (
	"context"
	"os"
	"testing"

	"github.com/calctl/calctl/internal/cli"
	"github.com/calctl/calctl/internal/kubecli"
	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets scripts run both binaries from this test binary: `calctl`
// is the lean one (cli.Kube nil, as in cmd/calctl) and `calctl-kubernetes`
// has kubecli's hooks, as in cmd/calctl-kubernetes.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"calctl": func() {
			cli.Kube = nil
			os.Exit(cli.Main(context.Background(), os.Args[1:]))
		},
		"calctl-kubernetes": func() {
			cli.Kube = kubecli.Hooks
			os.Exit(cli.Main(context.Background(), os.Args[1:]))
		},
	})
}

// TestScripts runs testdata/script/*.txtar: the kubernetes target at the
// command line, through the lean calctl (which finds calctl-kubernetes on
// $PATH here) and directly.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("HOME", env.WorkDir)
			return nil
		},
	})
}

// TestHooks: importing kubecli fills every hook calctl's commands use.
func TestHooks(t *testing.T) {
	if cli.Kube != kubecli.Hooks {
		t.Fatal("kubecli's init did not set cli.Kube")
	}
	for name, f := range map[string]func() bool{
		"InstallPlan": func() bool { return kubecli.Hooks.InstallPlan != nil && len(kubecli.Hooks.InstallPlan()) > 0 },
		"RenderPlan":  func() bool { return kubecli.Hooks.RenderPlan != nil && len(kubecli.Hooks.RenderPlan()) > 0 },
	} {
		if !f() {
			t.Errorf("cli.Kube.%s is empty", name)
		}
	}
}
