package cli

import (
	"context"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/checks/bundle"
	"github.com/calctl/calctl/installer"
)

// KubeHooks is everything calctl's commands need from the kubernetes
// target (Helm, client-go, go-containerregistry). The lean `calctl` binary
// leaves Kube nil and links none of that code; `calctl-kubernetes`
// (cmd/calctl-kubernetes) sets it from internal/kubecli's init. A command
// that meets the kubernetes target while Kube is nil re-executes the sibling
// binary with the same arguments (plugin.go). Add a field per ability; a nil
// field means the same as a nil Kube.
type KubeHooks struct {
	// InstallPlan is `calctl install` for target kubernetes.
	InstallPlan func() []installer.Step
	// RenderPlan is `calctl render` for target kubernetes.
	RenderPlan func() []installer.Step
	// KubeFacts collects one namespace's facts for `calctl check --profile
	// kubernetes` (checks/kubecollect); a failure is in the facts' source
	// state, so the K8S checks report ERROR.
	KubeFacts func(ctx context.Context, t KubeTarget) *checks.Facts
	// KubeBundle writes one namespace's support bundle to out for `calctl
	// bundle --profile kubernetes`.
	KubeBundle func(ctx context.Context, t KubeTarget, out string, o KubeBundleOptions) (*bundle.Manifest, error)
	// Verify is `calctl verify` (installer/kubeverify): it prints the
	// report to io.Out and returns whether everything is ready.
	Verify func(ctx context.Context, io IO, o VerifyOptions) (ready bool, err error)
}

// Kube is the kubernetes target's code, nil in the lean calctl binary
// (the sibling calctl-kubernetes then does the work).
var Kube *KubeHooks
