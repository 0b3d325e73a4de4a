// Package kubecli wires the kubernetes target (installer/kubeinstall: Helm,
// client-go, go-containerregistry) into calctl's commands by filling
// cli.Kube from its init. Only cmd/calctl-kubernetes and tests import it, so
// the lean calctl binary links none of that code and re-executes
// calctl-kubernetes when it meets the kubernetes target
// (internal/cli/plugin.go).
package kubecli

import (
	"github.com/calctl/calctl/installer/kubeinstall"
	"github.com/calctl/calctl/internal/cli"
)

// Hooks is what this package puts in cli.Kube. Other files of this package
// add their abilities to it in their own init functions.
var Hooks = &cli.KubeHooks{
	InstallPlan: kubeinstall.Plan,       // calctl install, target kubernetes
	RenderPlan:  kubeinstall.RenderPlan, // calctl render, target kubernetes
}

func init() { cli.Kube = Hooks }
