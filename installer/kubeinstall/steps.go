package kubeinstall

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/calctl/calctl/installer"
	"github.com/calctl/calctl/installer/contract"
	"github.com/calctl/calctl/installer/kubechart"
	"github.com/calctl/calctl/installer/kubeimage"
	"github.com/calctl/calctl/installer/kuberelease"
	"github.com/calctl/calctl/internal/safefile"
	"github.com/calctl/calctl/internal/secret"
	"github.com/docker/docker/client"
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

type secretsStep struct{ r *run }

func (secretsStep) Name() string { return contract.StepSecrets }

// Run keeps the Secret's generated values from the cluster, else from the
// install directory's manifest; when both exist they must agree, since
// silently picking one could rotate CALENDSO_ENCRYPTION_KEY.
func (st secretsStep) Run(ctx context.Context, s *installer.State) error {
	a := s.Answers
	rel := a.Kubernetes.Release
	var fromFile map[string][]byte
	b, err := safefile.ReadFile(s.Path(kubechart.SecretPath(rel)), 1<<20) // never blocks on a FIFO in the install dir
	switch {
	case err == nil:
		if fromFile, err = kubechart.ParseSecretManifest(b); err != nil {
			return installer.WithRemedy(err, "restore %s from its .bak copy; calctl never regenerates an existing secret", s.Path(kubechart.SecretPath(rel)))
		}
	case !errors.Is(err, fs.ErrNotExist):
		return installer.WithRemedy(err, "make %s readable by the user running calctl", s.Path(kubechart.SecretPath(rel)))
	}
	var fromCluster map[string][]byte
	if c, err := st.r.connect(a); err == nil {
		var found bool
		fromCluster, found, err = c.ReadSecret(ctx, kubechart.SecretName(rel))
		if err != nil && !s.DryRun {
			return installer.WithRemedy(err, "calctl needs to read Secret %s in namespace %s (RBAC: get secrets)", kubechart.SecretName(rel), a.Kubernetes.Namespace)
		}
		if !found {
			fromCluster = nil
		}
	} else if !s.DryRun {
		return err
	}
	kept := fromFile
	if fromCluster != nil {
		for _, k := range kubechart.Generated {
			if f, ok := fromFile[k]; ok && !bytes.Equal(f, fromCluster[k]) {
				return installer.WithRemedy(fmt.Errorf("%s differs between Secret %s in the cluster and %s", k, kubechart.SecretName(rel), kubechart.SecretPath(rel)),
					"decide which is current (the cluster's is what Cal.com uses); delete the other, then run calctl again")
			}
		}
		kept = fromCluster
	}
	in, err := secretInputs(a, s.Env)
	if err != nil {
		return err
	}
	in.Kept = kept
	data, generated, err := kubechart.BuildSecrets(Config(a, s.Repo, "", nil), in, generate)
	if err != nil {
		return err
	}
	for _, k := range kubechart.Generated {
		if _, ok := data[k]; !ok {
			continue
		}
		if contains(generated, k) {
			s.Logf("info", "%s: generated", k)
		} else {
			s.Logf("info", "%s: kept from the previous run", k)
		}
	}
	st.r.data = data
	// for masking in diffs and events
	s.Secrets = installer.Secrets{NextAuthSecret: secret.Secret(data[kubechart.KeyNextAuthSecret]),
		EncryptionKey: secret.Secret(data[kubechart.KeyEncryptionKey]), DatabasePassword: secret.Secret(data[kubechart.KeyPostgresPass]),
		GeneratedThisRun: generated}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func generate(key string) (string, error) {
	switch key {
	case kubechart.KeyNextAuthSecret:
		return installer.NewNextAuthSecret()
	case kubechart.KeyEncryptionKey:
		return installer.NewEncryptionKey()
	}
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

func secretInputs(a *contract.Answers, env installer.EnvSecrets) (kubechart.SecretInputs, error) {
	in := kubechart.SecretInputs{SMTPPassword: env.SMTPPassword.Reveal(), BillingToken: env.BillingToken.Reveal(), SigningSecret: env.SigningSecret.Reveal(),
		EmailHost: a.Email.Host, EmailUser: a.Email.User, EmailFrom: a.Email.From, EmailFromName: a.Email.FromName}
	if a.Database.Mode != contract.DBBundled {
		pod := *a
		pod.Target = contract.TargetCompose // the CA path as mounted in containers (/etc/calcom/db-ca.pem)
		u, err := installer.DatabaseURL(&pod, env, installer.Secrets{})
		if err != nil {
			return in, err
		}
		in.DatabaseURL = u
	}
	if a.Database.CAFile != "" {
		b, err := safefile.ReadFile(a.Database.CAFile, 4<<20)
		if err != nil {
			return in, installer.WithRemedy(fmt.Errorf("database.ca_file: %w", err), "download the CA bundle to %s", a.Database.CAFile)
		}
		in.DBCACert = b
	}
	return in, nil
}

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
