package kubeinstall

import (
	"context"
	"strings"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/checks/catalog"
	"github.com/calctl/calctl/checks/kubecollect"
	"github.com/calctl/calctl/installer"
	"github.com/calctl/calctl/installer/contract"
)

// checkStep runs the K8S hardening checks (checks/kube) over the namespace
// just installed and reports the summary and the worst findings with their
// fix, as the compose install's check step does. It never fails the
// install: whether findings make `calctl install` exit non-zero is
// --fail-on's call (State.FailOn), made by the command after the run.
type checkStep struct{}

func (checkStep) Name() string { return contract.StepCheck }

func (checkStep) Skip(s *installer.State) (bool, string) {
	if s.DryRun {
		return true, "dry run: nothing was installed to check"
	}
	return false, ""
}

func (checkStep) Run(ctx context.Context, s *installer.State) error {
	k := s.Answers.Kubernetes
	cmd := "calctl check --profile kubernetes --namespace " + k.Namespace
	if k.Context != "" {
		cmd += " --context " + k.Context
	}
	f := kubecollect.Collect(ctx, kubecollect.Target{Kubeconfig: k.Kubeconfig, Context: k.Context, Namespace: k.Namespace})
	if st := f.Source(checks.SourceKube); !st.Collected {
		s.Emit(installer.Event{Type: installer.EventLog, Level: "warn", Message: "the hardening checks could not run: " + st.Error, Remedy: cmd})
		return nil
	}
	rep := checks.Run(f, catalog.For(checks.ProfileKubernetes), checks.Selection{}, nil)
	sum := installer.Summarize(rep, s.FailOn)
	sum.Command = cmd + " -o html --out hardening-report.html"
	s.Check = &sum
	level := "info"
	if sum.Fail > 0 || sum.Error > 0 {
		level = "warn"
	}
	s.Emit(installer.Event{Type: installer.EventLog, Level: level, Message: strings.TrimRight(sum.Text(), "\n"), Check: &sum})
	return nil
}
