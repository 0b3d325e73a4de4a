package kubeinstall

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/calctl/calctl/installer"
	"github.com/calctl/calctl/installer/contract"
	"github.com/calctl/calctl/internal/testenv"
)

// TestInstallRunsTheK8SChecks: after the release step the check step
// judges the namespace on the real API server; calctl's own install has no
// FAIL and no ERROR (the calctl image is a release's versioned tag here, as
// a release build defaults to; a dev build's :latest FAILs K8S-005, rightly;
// tags WARN); a dry run skips it.
func TestInstallRunsTheK8SChecks(t *testing.T) {
	k := testenv.SharedKubeAPI(t)
	a, err := answers(t, k.Kubeconfig, fmt.Sprintf("e2e-check-%d", time.Now().UnixNano()%100000), "migrate.skip=true", "images.calctl=ghcr.io/calctl/calctl:v1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	r := &run{image: image}
	s := &installer.State{Answers: a, Env: env(), Repo: installer.Repo{Commit: "abc", HasAPI: true, APIDir: "apps/api/v1"}}
	var evs []contract.Event
	e := &installer.Engine{Sink: func(ev contract.Event) { evs = append(evs, ev) }}
	if err := e.Run(context.Background(), []installer.Step{secretsStep{r}, renderStep{r}, installer.WriteStep(), releaseStep{r}, checkStep{}}, s); err != nil {
		t.Fatal(err)
	}
	if s.Check == nil {
		t.Fatal("no check summary")
	}
	c := s.Check
	if c.Fail != 0 || c.Error != 0 || c.Pass < 30 {
		t.Errorf("summary %+v", *c)
	}
	for _, f := range c.Top {
		if f.ID != "K8S-005" {
			t.Errorf("finding %s %s %s: %s", f.ID, f.Status, f.Resource, f.Message)
		}
	}
	if !strings.Contains(c.Command, "calctl check --profile kubernetes --namespace "+a.Kubernetes.Namespace) {
		t.Errorf("command %q", c.Command)
	}
	t.Logf("check step: %d pass, %d warn, %d fail, %d error", c.Pass, c.Warn, c.Fail, c.Error)
	skip, why := checkStep{}.Skip(&installer.State{DryRun: true})
	if !skip || why == "" {
		t.Error("a dry run does not skip the check step")
	}
}
