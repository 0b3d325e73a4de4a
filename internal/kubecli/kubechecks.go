package kubecli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/checks/bundle"
	"github.com/calctl/calctl/checks/catalog"
	"github.com/calctl/calctl/checks/kubecollect"
	"github.com/calctl/calctl/installer/kubeverify"
	"github.com/calctl/calctl/internal/buildinfo"
	"github.com/calctl/calctl/internal/cli"
)

// The K8S checks, the namespace bundle and verify (issue 17).
func init() {
	Hooks.KubeFacts = KubeFacts
	Hooks.KubeBundle = KubeBundle
	Hooks.Verify = Verify
}

func target(t cli.KubeTarget) kubecollect.Target {
	return kubecollect.Target{Kubeconfig: t.Kubeconfig, Context: t.Context, Namespace: t.Namespace, Timeout: t.Timeout}
}

// KubeFacts collects t's namespace for `calctl check --profile kubernetes`.
func KubeFacts(ctx context.Context, t cli.KubeTarget) *checks.Facts {
	return kubecollect.Collect(ctx, target(t))
}

// KubeBundle writes t's namespace bundle to out: the objects (Secret
// values redacted), events, pod logs, facts and the K8S results.
func KubeBundle(ctx context.Context, t cli.KubeTarget, out string, o cli.KubeBundleOptions) (*bundle.Manifest, error) {
	in, err := kubecollect.Bundle(ctx, target(t), kubecollect.BundleOptions{Since: o.Since, Tail: int64(o.Tail)})
	if err != nil {
		return nil, err
	}
	in.Report = checks.Run(in.Facts, catalog.For(checks.ProfileKubernetes), checks.Selection{}, nil)
	in.Tool = checks.Tool{Name: "calctl", Version: buildinfo.Version}
	in.Report.Tool = in.Tool
	return bundle.WriteKube(out, *in)
}

// Verify is `calctl verify`: it prints kubeverify's report and says
// whether everything is ready.
func Verify(ctx context.Context, io cli.IO, o cli.VerifyOptions) (bool, error) {
	cs, cfg, t, err := kubecollect.Connect(target(o.Target))
	if err != nil {
		return false, err
	}
	timeout := o.Target.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	hc := &http.Client{Timeout: timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	rep, err := kubeverify.Run(ctx, cs, kubeverify.Options{Namespace: t.Namespace, Release: o.Target.Release, PublicURL: o.URL, HTTP: hc, Server: cfg.Host})
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return false, err
		}
		if apierrors.IsNotFound(err) {
			return false, fmt.Errorf("verify: namespace %s does not exist on %s; pass --namespace (or --context) naming the release's", t.Namespace, cfg.Host)
		}
		return false, fmt.Errorf("verify: %s", kubecollect.Explain(err, cfg.Host))
	}
	if o.Output == "json" {
		err = rep.WriteJSON(io.Out)
	} else {
		err = rep.WriteTable(io.Out)
	}
	return rep.Ready, err
}
