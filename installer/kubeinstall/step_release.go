package kubeinstall

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/calctl/calctl/installer"
	"github.com/calctl/calctl/installer/contract"
	"github.com/calctl/calctl/installer/kubechart"
	"github.com/calctl/calctl/installer/kuberelease"
)

type releaseStep struct{ r *run }

func (releaseStep) Name() string { return contract.StepRelease }

func (releaseStep) Timeout(s *installer.State) time.Duration {
	d, _ := time.ParseDuration(s.Answers.Kubernetes.Timeout)
	return 2*d + time.Minute
}

// Run applies the Secret and installs or upgrades the releases (the
// bundled database first: the app's migration hook needs it). With
// --dry-run it renders every object and has the server validate and admit
// each one (server-side apply, dryRun=All), reporting what would change.
func (st releaseStep) Run(ctx context.Context, s *installer.State) error {
	a := s.Answers
	c, err := st.r.connect(a)
	if err != nil {
		return err
	}
	if err := c.EnsureNamespace(ctx, s.DryRun); err != nil {
		return installer.WithRemedy(err, "calctl needs to create or label namespace %s (Pod Security restricted)", a.Kubernetes.Namespace)
	}
	secretFile := s.Path(kubechart.SecretPath(a.Kubernetes.Release))
	sm := kubechart.SecretManifest(a.Kubernetes.Release, a.Kubernetes.Namespace, st.r.data)
	charts := []struct{ dir, release string }{{kubechart.DatabaseChartDir, kubechart.DatabaseRelease(a.Kubernetes.Release)}, {kubechart.AppChartDir, a.Kubernetes.Release}}
	var loaded []struct {
		release string
		r       kuberelease.Rendered
		dir     string
	}
	for _, ch := range charts {
		dir := s.Path(ch.dir)
		var files []installer.File
		for _, f := range s.Files {
			if strings.HasPrefix(f.Path, ch.dir+"/") {
				files = append(files, f)
			}
		}
		if len(files) == 0 {
			continue
		}
		if s.DryRun {
			// the chart is not on disk in a dry run: stage it in a temp dir
			tmp, err := os.MkdirTemp("", "calctl-chart-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(tmp)
			for _, f := range files {
				p := filepath.Join(tmp, strings.TrimPrefix(f.Path, ch.dir+"/"))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					return err
				}
				if err := os.WriteFile(p, f.Data, 0o644); err != nil {
					return err
				}
			}
			dir = tmp
		}
		chart, err := kuberelease.LoadChart(dir)
		if err != nil {
			return err
		}
		r, err := c.Template(chart, ch.release)
		if err != nil {
			return err
		}
		loaded = append(loaded, struct {
			release string
			r       kuberelease.Rendered
			dir     string
		}{ch.release, r, dir})
	}
	if s.DryRun {
		if ok, err := c.NamespaceExists(ctx); err == nil && !ok {
			// Namespaced objects cannot be dry-run into a namespace that does
			// not exist: have the server validate them in "default" instead
			// (schema, defaults, admission; Pod Security is checked on install).
			s.Emit(contract.Event{Type: contract.EventChange, Path: "Namespace/" + a.Kubernetes.Namespace, Action: "created"})
			s.Logf("info", "namespace %s does not exist yet: validating the objects in namespace default", a.Kubernetes.Namespace)
			c.Namespace = "default"
			defer func() { c.Namespace = a.Kubernetes.Namespace }()
			sm = kubechart.SecretManifest(a.Kubernetes.Release, "default", st.r.data)
		}
		all := append([]byte{}, sm.Data...)
		for _, l := range loaded {
			all = append(all, l.r.All()...)
		}
		c.Warnings().Take()
		res, err := c.Apply(ctx, all, true)
		if err != nil {
			return installer.WithRemedy(err, "the API server refused this object; this is a calctl bug or a cluster policy: report it with the output above")
		}
		for _, o := range res {
			s.Emit(contract.Event{Type: contract.EventChange, Path: o.Ref(), Action: o.Action})
		}
		for _, w := range c.Warnings().Take() {
			s.Logf("warn", "API server: %s", w)
		}
		s.Logf("info", "dry run: the API server accepted all %d objects (server-side apply, dryRun=All); nothing was changed", len(res))
		return nil
	}
	if _, err := c.Apply(ctx, sm.Data, false); err != nil {
		return installer.WithRemedy(err, "calctl needs to apply Secret %s (kept in %s)", kubechart.SecretName(a.Kubernetes.Release), secretFile)
	}
	hasNodes, err := c.HasNodes(ctx)
	if err != nil {
		s.Logf("warn", "cannot list nodes (%v): not waiting for the rollout", err)
	}
	timeout, _ := time.ParseDuration(a.Kubernetes.Timeout)
	for _, l := range loaded {
		ch, err := kuberelease.LoadChart(l.dir)
		if err != nil {
			return err
		}
		rel, action, err := c.Install(ctx, ch, l.release, kuberelease.InstallOptions{Wait: hasNodes, Timeout: timeout})
		if err != nil {
			return installer.WithRemedy(err, "see `kubectl -n %s get events` and the migrate Job's logs; `calctl install` again resumes, `helm rollback` is available", a.Kubernetes.Namespace)
		}
		s.Logf("info", "helm %s %s: revision %d", action, l.release, rel.Version)
		states, err := c.States(ctx, rel.Manifest, hasNodes)
		if err != nil {
			return err
		}
		for _, o := range states {
			s.Logf("info", "  %-28s %-11s %s", o.Kind+"/"+o.Name, o.State, o.Detail)
		}
	}
	if !hasNodes {
		s.Logf("warn", "the cluster has no nodes: objects are stored but no pod runs; prove a real cluster with `calctl verify`")
	}
	s.Finish(fmt.Sprintf("Cal.com is installed as release %s in namespace %s: %s", a.Kubernetes.Release, a.Kubernetes.Namespace, a.PublicURLClean()))
	return nil
}
