// Package kuberelease talks to a Kubernetes cluster for calctl's
// kubernetes target: it installs, upgrades and rolls back the rendered
// charts with the Helm Go SDK (no helm binary), applies the release Secret
// and any manifest server-side (optionally as a dry run), reads Secrets
// back, and reports the state of every object of a release.
//
// It is the only installer package that links Helm and client-go; the
// wizard and the answers never import it.
package kuberelease

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/releaseutil"
	"helm.sh/helm/v3/pkg/storage/driver"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
)

// FieldManager is the server-side apply field manager calctl uses.
const FieldManager = "calctl"

// Target says which cluster, context and namespace to use.
type Target struct {
	// Kubeconfig is the kubeconfig path; empty means $KUBECONFIG, then ~/.kube/config.
	Kubeconfig string
	// Context is the kubeconfig context; empty means the current one.
	Context string
	// Namespace is where the release lives.
	Namespace string
}

// Client is a connection to one cluster and namespace.
type Client struct {
	// Namespace is Target.Namespace: where releases, Secrets and applied
	// namespaced objects go.
	Namespace string
	rest      *rest.Config
	flags     *genericclioptions.ConfigFlags
	cs        kubernetes.Interface
	dyn       dynamic.Interface
	mapper    meta.RESTMapper
	warnings  *Warnings
	logf      func(format string, a ...any)
}

// Warnings collects the warnings the API server sends (Pod Security
// admission warns on workload templates this way).
type Warnings struct {
	mu   sync.Mutex
	list []string
}

// HandleWarningHeader implements rest.WarningHandler.
func (w *Warnings) HandleWarningHeader(code int, agent string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = append(w.list, text)
}

// Take returns the warnings seen since the last call and forgets them.
func (w *Warnings) Take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.list
	w.list = nil
	return out
}

// New connects to the cluster t names. It does not contact the server.
func New(t Target) (*Client, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if t.Kubeconfig != "" {
		rules.ExplicitPath = t.Kubeconfig
	}
	overrides := &clientcmd.ConfigOverrides{CurrentContext: t.Context}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	w := &Warnings{}
	cfg.WarningHandler = w
	cfg.QPS, cfg.Burst = 50, 100
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	flags := genericclioptions.NewConfigFlags(false)
	flags.KubeConfig = &rules.ExplicitPath
	if t.Kubeconfig == "" {
		empty := ""
		flags.KubeConfig = &empty
	}
	ctxName, ns := t.Context, t.Namespace
	flags.Context = &ctxName
	flags.Namespace = &ns
	flags.WrapConfigFn = func(c *rest.Config) *rest.Config { c.WarningHandler = w; return c }
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(cs.Discovery()))
	return &Client{Namespace: t.Namespace, rest: cfg, flags: flags, cs: cs, dyn: dyn, mapper: mapper, warnings: w,
		logf: func(string, ...any) {}}, nil
}

// SetLogger sends Helm's debug lines to f.
func (c *Client) SetLogger(f func(format string, a ...any)) { c.logf = f }

// Warnings are the API server's warnings seen by this client.
func (c *Client) Warnings() *Warnings { return c.warnings }

// Clientset is the typed client (tests and collectors use it).
func (c *Client) Clientset() kubernetes.Interface { return c.cs }

// Host is the API server URL.
func (c *Client) Host() string { return c.rest.Host }

// HasNodes reports whether any node is registered: without one, no pod
// runs, so waiting for a rollout would never end.
func (c *Client) HasNodes(ctx context.Context) (bool, error) {
	l, err := c.cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{Limit: 1})
	if err != nil {
		return false, err
	}
	return len(l.Items) > 0, nil
}

// EnsureNamespace creates or updates the namespace with Pod Security
// admission set to "restricted" (enforce, audit and warn) and calctl's
// labels, by server-side apply.
func (c *Client) EnsureNamespace(ctx context.Context, dryRun bool) error {
	ns := fmt.Sprintf(`apiVersion: v1
kind: Namespace
metadata:
  name: %s
  labels:
    pod-security.kubernetes.io/enforce: restricted
    pod-security.kubernetes.io/enforce-version: latest
    pod-security.kubernetes.io/audit: restricted
    pod-security.kubernetes.io/warn: restricted
`, c.Namespace)
	_, err := c.Apply(ctx, []byte(ns), dryRun)
	return err
}

// NamespaceExists reports whether the client's namespace exists.
func (c *Client) NamespaceExists(ctx context.Context) (bool, error) {
	_, err := c.cs.CoreV1().Namespaces().Get(ctx, c.Namespace, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// ObjectResult is the outcome of applying one object.
type ObjectResult struct {
	// Kind, Name and Namespace identify the object as given ("" namespace
	// for a cluster-scoped one).
	Kind, Name, Namespace string
	// Action is created, configured or unchanged (dry runs say what would happen).
	Action string
	// Object is the object as the server returned it after the
	// server-side apply; nil when the apply failed.
	Object *unstructured.Unstructured
}

// Ref is Kind/name.
func (r ObjectResult) Ref() string { return r.Kind + "/" + r.Name }

// Apply applies every object of a multi-document YAML manifest with
// server-side apply (field manager calctl, conflicts forced), in the
// client's namespace unless the object names its own. With dryRun the
// server runs admission and validation and stores nothing. The first
// object the server rejects stops the apply with its message.
func (c *Client) Apply(ctx context.Context, manifest []byte, dryRun bool) ([]ObjectResult, error) {
	objs, err := Decode(manifest)
	if err != nil {
		return nil, err
	}
	var out []ObjectResult
	for _, o := range objs {
		r, err := c.applyOne(ctx, o, dryRun)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Decode splits a manifest into objects, skipping empty documents.
func Decode(manifest []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(manifest), 4096)
	var out []*unstructured.Unstructured
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, fmt.Errorf("manifest: %w", err)
		}
		if len(m) == 0 {
			continue
		}
		out = append(out, &unstructured.Unstructured{Object: m})
	}
}

func (c *Client) resource(o *unstructured.Unstructured) (dynamic.ResourceInterface, error) {
	gvk := o.GroupVersionKind()
	m, err := c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", gvk.Kind, o.GetName(), err)
	}
	if m.Scope.Name() == meta.RESTScopeNameRoot {
		return c.dyn.Resource(m.Resource), nil
	}
	ns := o.GetNamespace()
	if ns == "" {
		ns = c.Namespace
		o.SetNamespace(ns)
	}
	return c.dyn.Resource(m.Resource).Namespace(ns), nil
}

func (c *Client) applyOne(ctx context.Context, o *unstructured.Unstructured, dryRun bool) (ObjectResult, error) {
	ri, err := c.resource(o)
	if err != nil {
		return ObjectResult{}, err
	}
	r := ObjectResult{Kind: o.GetKind(), Name: o.GetName(), Namespace: o.GetNamespace()}
	before, err := ri.Get(ctx, o.GetName(), metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		r.Action = "created"
	case err != nil:
		return r, fmt.Errorf("%s: %w", r.Ref(), err)
	}
	body, err := o.MarshalJSON()
	if err != nil {
		return r, err
	}
	force := true
	opts := metav1.PatchOptions{FieldManager: FieldManager, Force: &force}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	after, err := ri.Patch(ctx, o.GetName(), types.ApplyPatchType, body, opts)
	if err != nil {
		return r, fmt.Errorf("%s: %w", r.Ref(), err)
	}
	if r.Action == "" {
		r.Action = "configured"
		if sameContent(before, after) {
			r.Action = "unchanged"
		}
	}
	r.Object = after
	return r, nil
}

// sameContent compares two versions of an object without the fields every
// write touches (some kinds, PersistentVolumeClaim among them, get a new
// resourceVersion even from a no-op apply).
func sameContent(a, b *unstructured.Unstructured) bool {
	strip := func(o *unstructured.Unstructured) map[string]any {
		c := o.DeepCopy()
		unstructured.RemoveNestedField(c.Object, "metadata", "resourceVersion")
		unstructured.RemoveNestedField(c.Object, "metadata", "managedFields")
		return c.Object
	}
	return equality.Semantic.DeepEqual(strip(a), strip(b))
}

// Get reads one object back, as the server stores it.
func (c *Client) Get(ctx context.Context, like *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	o := like.DeepCopy()
	ri, err := c.resource(o)
	if err != nil {
		return nil, err
	}
	return ri.Get(ctx, o.GetName(), metav1.GetOptions{})
}

// ReadSecret returns the data of Secret name in the namespace; found is
// false when it does not exist.
func (c *Client) ReadSecret(ctx context.Context, name string) (data map[string][]byte, found bool, err error) {
	s, err := c.cs.CoreV1().Secrets(c.Namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read Secret %s: %w", name, err)
	}
	return s.Data, true, nil
}

func (c *Client) helmConfig() (*action.Configuration, error) {
	cfg := new(action.Configuration)
	if err := cfg.Init(c.flags, c.Namespace, "secret", func(format string, v ...any) { c.logf(format, v...) }); err != nil {
		return nil, fmt.Errorf("helm: %w", err)
	}
	return cfg, nil
}

// LoadChart loads a chart directory.
func LoadChart(dir string) (*chart.Chart, error) {
	ch, err := loader.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("load chart %s: %w", dir, err)
	}
	return ch, nil
}

// Lint runs Helm's linter over the chart directory with its own values;
// it returns every message of severity warning or error.
func Lint(dir string) []string {
	res := action.NewLint().Run([]string{dir}, nil)
	var out []string
	for _, m := range res.Messages {
		if m.Severity >= 2 { // support.WarningSev
			out = append(out, m.Error())
		}
	}
	for _, e := range res.Errors {
		out = append(out, e.Error())
	}
	sort.Strings(out)
	return dedupe(out)
}

func dedupe(s []string) []string {
	var out []string
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// Rendered is a chart rendered by Helm for one release.
type Rendered struct {
	Manifest string   // the release's objects
	Hooks    []string // hook manifests (e.g. the migrations Job), in hook order
}

// All returns the hooks followed by the release objects as one manifest.
func (r Rendered) All() []byte {
	var b bytes.Buffer
	for _, h := range r.Hooks {
		b.WriteString("---\n" + h + "\n")
	}
	b.WriteString("---\n" + r.Manifest + "\n")
	return b.Bytes()
}

// Template renders the chart for release name exactly as an install
// would, without contacting the cluster (helm template).
func (c *Client) Template(ch *chart.Chart, name string) (Rendered, error) {
	cfg := &action.Configuration{}
	inst := action.NewInstall(cfg)
	inst.DryRun, inst.ClientOnly, inst.Replace = true, true, true
	inst.ReleaseName, inst.Namespace = name, c.Namespace
	kv, err := c.kubeVersion()
	if err != nil {
		return Rendered{}, err
	}
	inst.KubeVersion = kv
	rel, err := inst.Run(ch, nil)
	if err != nil {
		return Rendered{}, fmt.Errorf("render chart %s: %w", ch.Name(), err)
	}
	return renderedOf(rel), nil
}

// kubeVersion asks the server its version (Helm's client-only render
// would assume v1.20 and refuse the chart's kubeVersion constraint).
func (c *Client) kubeVersion() (*chartutil.KubeVersion, error) {
	v, err := c.cs.Discovery().ServerVersion()
	if err != nil {
		return nil, fmt.Errorf("ask the API server its version: %w", err)
	}
	kv, err := chartutil.ParseKubeVersion(v.GitVersion)
	if err != nil {
		return nil, fmt.Errorf("server version %q: %w", v.GitVersion, err)
	}
	return kv, nil
}

func renderedOf(rel *release.Release) Rendered {
	out := Rendered{Manifest: rel.Manifest}
	hooks := append([]*release.Hook(nil), rel.Hooks...)
	sort.SliceStable(hooks, func(i, j int) bool { return hooks[i].Weight < hooks[j].Weight })
	for _, h := range hooks {
		out.Hooks = append(out.Hooks, h.Manifest)
	}
	return out
}

// InstallOptions tune Install.
type InstallOptions struct {
	// Wait waits until the release's pods are ready (only where nodes run pods).
	Wait bool
	// Timeout bounds Helm's install/upgrade and, with Wait, the wait for
	// pods and Jobs (0: 10 minutes).
	Timeout time.Duration
}

// Install installs release name from ch, or upgrades it when it exists.
// It returns the new release and "install" or "upgrade".
func (c *Client) Install(ctx context.Context, ch *chart.Chart, name string, o InstallOptions) (*release.Release, string, error) {
	cfg, err := c.helmConfig()
	if err != nil {
		return nil, "", err
	}
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Minute
	}
	hist := action.NewHistory(cfg)
	hist.Max = 1
	_, err = hist.Run(name)
	if errors.Is(err, driver.ErrReleaseNotFound) {
		inst := action.NewInstall(cfg)
		inst.ReleaseName, inst.Namespace = name, c.Namespace
		inst.Wait, inst.WaitForJobs, inst.Timeout = o.Wait, o.Wait, o.Timeout
		rel, err := inst.RunWithContext(ctx, ch, nil)
		if err != nil {
			return rel, "install", fmt.Errorf("helm install %s: %w", name, err)
		}
		return rel, "install", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("helm history %s: %w", name, err)
	}
	up := action.NewUpgrade(cfg)
	up.Namespace = c.Namespace
	up.Wait, up.WaitForJobs, up.Timeout = o.Wait, o.Wait, o.Timeout
	up.MaxHistory = 10
	up.ResetValues = true
	rel, err := up.RunWithContext(ctx, name, ch, nil)
	if err != nil {
		return rel, "upgrade", fmt.Errorf("helm upgrade %s: %w", name, err)
	}
	return rel, "upgrade", nil
}

// Rollback rolls release name back to revision (0: the previous one).
func (c *Client) Rollback(ctx context.Context, name string, revision int, o InstallOptions) error {
	cfg, err := c.helmConfig()
	if err != nil {
		return err
	}
	rb := action.NewRollback(cfg)
	rb.Version, rb.Wait, rb.WaitForJobs, rb.Timeout = revision, o.Wait, o.Wait, o.Timeout
	if rb.Timeout == 0 {
		rb.Timeout = 10 * time.Minute
	}
	if err := rb.Run(name); err != nil {
		return fmt.Errorf("helm rollback %s: %w", name, err)
	}
	return nil
}

// History returns the release's revisions, oldest first.
func (c *Client) History(name string) ([]*release.Release, error) {
	cfg, err := c.helmConfig()
	if err != nil {
		return nil, err
	}
	h, err := action.NewHistory(cfg).Run(name)
	if err != nil {
		return nil, err
	}
	releaseutil.SortByRevision(h)
	return h, nil
}

// ObjectState is what one object of a release looks like on the cluster.
type ObjectState struct {
	// Kind and Name identify the object in the release manifest.
	Kind, Name string
	// State is a short word: ready, progressing, stored, missing, failed.
	State string
	// Detail says more (replicas ready, last schedule, ...).
	Detail string
}

// States reads every object of manifest back and summarises its state.
// hasNodes says whether pods can run at all (without nodes, workloads are
// "stored": accepted by the server, nothing scheduled).
func (c *Client) States(ctx context.Context, manifest string, hasNodes bool) ([]ObjectState, error) {
	objs, err := Decode([]byte(manifest))
	if err != nil {
		return nil, err
	}
	var out []ObjectState
	for _, o := range objs {
		st := ObjectState{Kind: o.GetKind(), Name: o.GetName()}
		live, err := c.Get(ctx, o)
		switch {
		case apierrors.IsNotFound(err):
			st.State = "missing"
		case err != nil:
			st.State, st.Detail = "failed", err.Error()
		default:
			st.State, st.Detail = summarise(live, hasNodes)
		}
		out = append(out, st)
	}
	return out, nil
}

func summarise(o *unstructured.Unstructured, hasNodes bool) (string, string) {
	i64 := func(path ...string) int64 {
		v, _, _ := unstructured.NestedInt64(o.Object, path...)
		return v
	}
	switch o.GetKind() {
	case "Deployment", "StatefulSet":
		want, ready := i64("spec", "replicas"), i64("status", "readyReplicas")
		d := fmt.Sprintf("%d/%d ready", ready, want)
		if !hasNodes {
			return "stored", d + " (no nodes: nothing runs pods)"
		}
		if ready >= want && i64("status", "observedGeneration") >= o.GetGeneration() {
			return "ready", d
		}
		return "progressing", d
	case "PersistentVolumeClaim":
		phase, _, _ := unstructured.NestedString(o.Object, "status", "phase")
		if phase == string(corev1.ClaimBound) {
			return "ready", "bound"
		}
		return "stored", "phase " + strings.ToLower(orDash(phase))
	case "CronJob":
		last, _, _ := unstructured.NestedString(o.Object, "status", "lastSuccessfulTime")
		sched, _, _ := unstructured.NestedString(o.Object, "spec", "schedule")
		return "ready", fmt.Sprintf("schedule %q, last success %s", sched, orDash(last))
	case "HorizontalPodAutoscaler":
		cur := i64("status", "currentReplicas")
		return "ready", fmt.Sprintf("%d current replicas (min %d, max %d)", cur, i64("spec", "minReplicas"), i64("spec", "maxReplicas"))
	}
	return "ready", ""
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
