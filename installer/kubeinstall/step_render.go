package kubeinstall

import (
	"context"
	"fmt"

	"github.com/calctl/calctl/installer"
	"github.com/calctl/calctl/installer/contract"
	"github.com/calctl/calctl/installer/kubechart"
)

type renderStep struct{ r *run }

func (renderStep) Name() string { return contract.StepRender }

func (st renderStep) Run(ctx context.Context, s *installer.State) error {
	a := s.Answers
	c := Config(a, s.Repo, st.r.image, RoutesFor(s.Repo, a.Source.Dir, a.Kubernetes.Release))
	c.SecretChecksum = kubechart.Checksum(st.r.data)
	files, err := kubechart.Render(c)
	if err != nil {
		return err
	}
	s.Files = s.Files[:0]
	for _, f := range files {
		s.Files = append(s.Files, installer.File{Path: f.Path, Data: f.Data, Mode: f.Mode, Secret: f.Secret})
	}
	sm := kubechart.SecretManifest(a.Kubernetes.Release, a.Kubernetes.Namespace, st.r.data)
	s.Files = append(s.Files, installer.File{Path: sm.Path, Data: sm.Data, Mode: sm.Mode, Secret: true})
	s.Progress(100, fmt.Sprintf("%d files rendered (%d cron routes)", len(s.Files), len(c.Cron.Routes)))
	return nil
}
