package kubeinstall

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/calctl/calctl/installer"
	"github.com/calctl/calctl/installer/contract"
	"github.com/calctl/calctl/installer/kubeimage"
	"github.com/docker/docker/client"
)

type imageStep struct{ r *run }

func (imageStep) Name() string { return contract.StepImage }

func (imageStep) Timeout(*installer.State) time.Duration { return 90 * time.Minute }

// Run builds the web image with the compose target's generated Dockerfile
// and pushes it with a content tag; a registry that already has the tag
// is not pushed to again.
func (st imageStep) Run(ctx context.Context, s *installer.State) error {
	a := s.Answers
	if s.Repo.Dir == "" {
		repo, err := installer.InspectRepo(a.Source.Dir)
		if err != nil {
			return err
		}
		s.Repo = repo
	}
	files, err := buildFiles(a, s)
	if err != nil {
		return err
	}
	tag := kubeimage.ContentTag(s.Repo.Commit, files)
	ref := a.Kubernetes.Registry + ":" + tag
	pinned, found, err := kubeimage.RemoteDigest(ctx, ref)
	if err != nil && !s.DryRun {
		return installer.WithRemedy(err, "calctl must reach %s (docker login to it first)", a.Kubernetes.Registry)
	}
	if found {
		s.Logf("info", "%s is already in the registry: %s", ref, pinned)
		st.r.image = pinned
		return nil
	}
	if s.DryRun {
		s.Logf("info", "dry run: would build and push %s (the chart pins its digest after the push)", ref)
		st.r.image = ref
		return nil
	}
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return err
	}
	defer cli.Close()
	local := "calctl-web:" + tag
	s.Logf("info", "building %s from %s", local, a.Source.Dir)
	if err := kubeimage.Build(ctx, cli, kubeimage.Context(a.Source.Dir, files), "build/web.Dockerfile", local, lineWriter{s}); err != nil {
		return installer.WithRemedy(err, "read the build output above; the same Dockerfile builds with target compose")
	}
	pinned, err = kubeimage.Push(ctx, cli, local, ref)
	if err != nil {
		return installer.WithRemedy(err, "docker login %s, then run calctl again", strings.SplitN(a.Kubernetes.Registry, "/", 2)[0])
	}
	s.Logf("info", "pushed %s", pinned)
	st.r.image = pinned
	return nil
}

// buildFiles renders the compose target's web Dockerfile and .dockerignore:
// one Dockerfile for both targets.
func buildFiles(a *contract.Answers, s *installer.State) (map[string][]byte, error) {
	c := *a
	c.Target, c.Proxy = contract.TargetCompose, contract.ProxyNone
	c.Web.Dockerfile = ""
	r, err := installer.RenderFiles(&c, s.Env, s.Repo, s.Secrets, installer.Existing{})
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for _, f := range r.Files {
		if f.Path == "build/web.Dockerfile" || f.Path == ".dockerignore" {
			out[f.Path] = f.Data
		}
	}
	if len(out) != 2 {
		return nil, errors.New("the compose templates rendered no web Dockerfile")
	}
	return out, nil
}

type lineWriter struct{ s *installer.State }

func (w lineWriter) Write(p []byte) (int, error) {
	if l := strings.TrimSpace(string(p)); l != "" {
		w.s.Progress(0, l)
	}
	return len(p), nil
}
