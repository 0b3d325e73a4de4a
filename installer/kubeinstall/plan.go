package kubeinstall

import (
	"github.com/calctl/calctl/installer"
	"github.com/calctl/calctl/installer/contract"
	"github.com/calctl/calctl/installer/kuberelease"
)

// run is what the steps of one plan share.
type run struct {
	client   *kuberelease.Client
	data     map[string][]byte // the release Secret
	image    string            // repository@digest (or repository:tag in a dry run)
	rendered map[string]kuberelease.Rendered
}

// Plan is `calctl install` for target kubernetes.
func Plan() []installer.Step {
	r := &run{}
	return []installer.Step{
		installer.CloneStep(), // clone, or fetch an existing checkout
		secretsStep{r},        // the release Secret: kept from the cluster or secrets/, generated once
		imageStep{r},          // docker build (the compose Dockerfile) + push, pinned by digest
		renderStep{r},         // charts + Secret manifest -> State.Files
		installer.WriteStep(), // atomic writes; the Secret manifest 0600
		releaseStep{r},        // Secret apply + helm install/upgrade (or server-side dry run)
		checkStep{},           // the K8S hardening checks over the namespace (step_check.go)
	}
}

// RenderPlan is `calctl render` for target kubernetes: the charts and the
// Secret manifest, written for a user's own helm.
func RenderPlan() []installer.Step {
	r := &run{}
	return []installer.Step{secretsStep{r}, imageStep{r}, renderStep{r}, installer.WriteStep()}
}

func (r *run) connect(a *contract.Answers) (*kuberelease.Client, error) {
	if r.client != nil {
		return r.client, nil
	}
	c, err := kuberelease.New(kuberelease.Target{Kubeconfig: a.Kubernetes.Kubeconfig, Context: a.Kubernetes.Context, Namespace: a.Kubernetes.Namespace})
	if err != nil {
		return nil, installer.WithRemedy(err, "set kubernetes.kubeconfig (or $KUBECONFIG) and kubernetes.context to a cluster you can reach")
	}
	r.client = c
	return c, nil
}
