// Package kubecollect is the Kubernetes collector: it reads one namespace
// through the API server with client-go (namespace labels, workloads and
// their pod templates, NetworkPolicies, ServiceAccounts, Ingresses, Secret
// and ConfigMap key names, PodDisruptionBudgets, HPAs) into
// checks.KubeFacts, which the K8S checks (checks/kube) judge. It also
// writes the namespace's support bundle (bundle.go). It never keeps a
// Secret value: Secrets and ConfigMaps are reduced to key names.
//
// It links client-go, so only the calctl-kubernetes binary imports it.
package kubecollect

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/internal/redact"
)

// Target says which cluster and namespace to read.
type Target struct {
	// Kubeconfig is the kubeconfig path; empty means $KUBECONFIG, then ~/.kube/config.
	Kubeconfig string
	// Context is the kubeconfig context; empty means the current one.
	Context string
	// Namespace is the namespace to read; empty means the context's
	// namespace, then "calcom" (the answers' default).
	Namespace string
	// Timeout bounds each API request (default 10 s).
	Timeout time.Duration
}

// DefaultNamespace is the namespace calctl installs into by default.
const DefaultNamespace = "calcom"

// Connect builds a clientset for t and returns it with the API server URL,
// the context's name and the namespace to read. It does not contact the
// server; errors are one line, saying what to fix.
func Connect(t Target) (kubernetes.Interface, *rest.Config, Target, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if t.Kubeconfig != "" {
		if _, err := os.Stat(t.Kubeconfig); err != nil {
			return nil, nil, t, fmt.Errorf("kubeconfig %s: %w; pass --kubeconfig with a readable file", t.Kubeconfig, errors.Unwrap(err))
		}
		rules.ExplicitPath = t.Kubeconfig
	}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: t.Context})
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, nil, t, fmt.Errorf("kubeconfig: %s; pass --kubeconfig and --context naming a cluster", oneLine(err.Error()))
	}
	if t.Context == "" {
		if raw, err := cc.RawConfig(); err == nil {
			t.Context = raw.CurrentContext
		}
	}
	if t.Namespace == "" {
		if ns, _, err := cc.Namespace(); err == nil && ns != "" && ns != "default" {
			t.Namespace = ns
		} else {
			t.Namespace = DefaultNamespace
		}
	}
	if t.Timeout <= 0 {
		t.Timeout = 10 * time.Second
	}
	cfg.Timeout = t.Timeout
	// deprecation warnings would reach stderr through klog in the middle
	// of calctl's output
	cfg.WarningHandler = rest.NoWarnings{}
	cfg.QPS, cfg.Burst = 50, 100
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, nil, t, fmt.Errorf("kubeconfig: %s", oneLine(err.Error()))
	}
	return cs, cfg, t, nil
}

// Collect reads t's namespace into facts. It always returns facts: a
// connection or API failure is the kubernetes source's Error (its checks
// report ERROR), in one line naming the server and what to do.
func Collect(ctx context.Context, t Target) *checks.Facts {
	f := &checks.Facts{SchemaVersion: checks.FactsSchemaVersion, CollectedAt: time.Now().UTC(),
		Target: checks.Target{Profile: checks.ProfileKubernetes}}
	if h, err := os.Hostname(); err == nil {
		f.Target.Host = h
	}
	start := time.Now()
	cs, cfg, t, err := Connect(t)
	if err != nil {
		f.SetSource(checks.SourceKube, checks.SourceState{Error: err.Error(), DurationMS: time.Since(start).Milliseconds()})
		return f
	}
	k, err := Read(ctx, cs, t.Namespace)
	st := checks.SourceState{DurationMS: time.Since(start).Milliseconds()}
	switch {
	case err != nil:
		st.Error = Explain(err, cfg.Host)
	case !k.NamespaceFound:
		st.Error = fmt.Sprintf("namespace %s does not exist on %s; pass --namespace (or --context) naming the release's", t.Namespace, cfg.Host)
	default:
		k.Server, k.Context = cfg.Host, t.Context
		f.Kube = k
		st.Collected = true
	}
	f.SetSource(checks.SourceKube, st)
	return f
}

// Explain turns an API error into one line with what to do.
func Explain(err error, host string) string {
	var ne net.Error
	var ue *url.Error
	switch {
	case apierrors.IsUnauthorized(err):
		return fmt.Sprintf("the API server %s refused the credentials (401): refresh the kubeconfig's token or certificate", host)
	case apierrors.IsForbidden(err):
		return fmt.Sprintf("the API server %s forbids reading the namespace: %s; grant list/get on its objects (a namespace admin or view role plus secrets list)", host, oneLine(err.Error()))
	case errors.As(err, &ue) || errors.As(err, &ne):
		return fmt.Sprintf("cannot reach the API server %s: %s; check --kubeconfig and --context, and that the cluster is up", host, oneLine(rootCause(err).Error()))
	}
	return fmt.Sprintf("the API server %s: %s", host, oneLine(err.Error()))
}

func rootCause(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Read lists the namespace's objects into KubeFacts.
func Read(ctx context.Context, cs kubernetes.Interface, ns string) (*checks.KubeFacts, error) {
	k := &checks.KubeFacts{Namespace: ns}
	if v, err := cs.Discovery().ServerVersion(); err == nil {
		k.ServerVersion = v.GitVersion
	} else {
		return nil, err
	}
	nso, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return k, nil
	case err != nil:
		return nil, err
	}
	k.NamespaceFound, k.NamespaceLabel = true, nso.Labels
	if nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{}); err == nil {
		k.Nodes = len(nodes.Items)
	} else if !apierrors.IsForbidden(err) {
		return nil, err
	}
	lo := metav1.ListOptions{}
	deps, err := cs.AppsV1().Deployments(ns).List(ctx, lo)
	if err != nil {
		return nil, err
	}
	for _, d := range deps.Items {
		k.Workloads = append(k.Workloads, workload("Deployment", d.ObjectMeta, d.Spec.Replicas, d.Spec.Template))
	}
	sts, err := cs.AppsV1().StatefulSets(ns).List(ctx, lo)
	if err != nil {
		return nil, err
	}
	for _, s := range sts.Items {
		k.Workloads = append(k.Workloads, workload("StatefulSet", s.ObjectMeta, s.Spec.Replicas, s.Spec.Template))
	}
	dss, err := cs.AppsV1().DaemonSets(ns).List(ctx, lo)
	if err != nil {
		return nil, err
	}
	for _, d := range dss.Items {
		k.Workloads = append(k.Workloads, workload("DaemonSet", d.ObjectMeta, nil, d.Spec.Template))
	}
	cjs, err := cs.BatchV1().CronJobs(ns).List(ctx, lo)
	if err != nil {
		return nil, err
	}
	for _, c := range cjs.Items {
		k.Workloads = append(k.Workloads, workload("CronJob", c.ObjectMeta, nil, c.Spec.JobTemplate.Spec.Template))
	}
	jobs, err := cs.BatchV1().Jobs(ns).List(ctx, lo)
	if err != nil {
		return nil, err
	}
	for _, j := range jobs.Items {
		k.Workloads = append(k.Workloads, workload("Job", j.ObjectMeta, nil, j.Spec.Template))
	}
	pods, err := cs.CoreV1().Pods(ns).List(ctx, lo)
	if err != nil {
		return nil, err
	}
	for _, p := range pods.Items {
		k.Workloads = append(k.Workloads, workload("Pod", p.ObjectMeta, nil, corev1.PodTemplateSpec{ObjectMeta: p.ObjectMeta, Spec: p.Spec}))
	}
	nps, err := cs.NetworkingV1().NetworkPolicies(ns).List(ctx, lo)
	if err != nil {
		return nil, err
	}
	for _, p := range nps.Items {
		k.NetworkPolicies = append(k.NetworkPolicies, netpol(p))
	}
	sas, err := cs.CoreV1().ServiceAccounts(ns).List(ctx, lo)
	if err != nil {
		return nil, err
	}
	for _, s := range sas.Items {
		k.ServiceAccounts = append(k.ServiceAccounts, checks.KubeServiceAccount{Name: s.Name, AutomountToken: s.AutomountServiceAccountToken})
	}
	ings, err := cs.NetworkingV1().Ingresses(ns).List(ctx, lo)
	if err != nil {
		return nil, err
	}
	for _, in := range ings.Items {
		k.Ingresses = append(k.Ingresses, ingress(in))
	}
	// No check reads Secrets' key names, so a role that may not list
	// Secrets (the built-in "view") still gets every check.
	secs, err := cs.CoreV1().Secrets(ns).List(ctx, lo)
	if apierrors.IsForbidden(err) {
		secs, err = &corev1.SecretList{}, nil
	}
	if err != nil {
		return nil, err
	}
	for _, s := range secs.Items {
		keys := make([]string, 0, len(s.Data)+len(s.StringData))
		for key := range s.Data {
			keys = append(keys, key)
		}
		sort.Strings(keys)
		k.Secrets = append(k.Secrets, checks.KubeKeyed{Name: s.Name, Type: string(s.Type), Keys: keys})
	}
	cms, err := cs.CoreV1().ConfigMaps(ns).List(ctx, lo)
	if err != nil {
		return nil, err
	}
	for _, c := range cms.Items {
		k.ConfigMaps = append(k.ConfigMaps, configMap(c))
	}
	pdbs, err := cs.PolicyV1().PodDisruptionBudgets(ns).List(ctx, lo)
	if err != nil {
		return nil, err
	}
	for _, p := range pdbs.Items {
		e := checks.KubePDB{Name: p.Name, Selector: selector(p.Spec.Selector)}
		if p.Spec.MinAvailable != nil {
			e.MinAvailable = p.Spec.MinAvailable.String()
		}
		if p.Spec.MaxUnavailable != nil {
			e.MaxUnavailable = p.Spec.MaxUnavailable.String()
		}
		k.PDBs = append(k.PDBs, e)
	}
	hpas, err := cs.AutoscalingV2().HorizontalPodAutoscalers(ns).List(ctx, lo)
	if err != nil {
		return nil, err
	}
	for _, h := range hpas.Items {
		min := int32(1)
		if h.Spec.MinReplicas != nil {
			min = *h.Spec.MinReplicas
		}
		k.HPAs = append(k.HPAs, checks.KubeHPA{Name: h.Name, TargetKind: h.Spec.ScaleTargetRef.Kind, TargetName: h.Spec.ScaleTargetRef.Name,
			MinReplicas: min, MaxReplicas: h.Spec.MaxReplicas})
	}
	return k, nil
}

func workload(kind string, m metav1.ObjectMeta, replicas *int32, t corev1.PodTemplateSpec) checks.KubeWorkload {
	w := checks.KubeWorkload{Kind: kind, Name: m.Name, Labels: m.Labels, PodLabels: t.Labels, Replicas: replicas, Pod: podSpec(t.Spec)}
	for _, o := range m.OwnerReferences {
		if o.Controller != nil && *o.Controller {
			w.OwnedBy = o.Kind + "/" + o.Name
		}
	}
	for key, v := range t.Annotations {
		if strings.HasPrefix(key, "calctl.dev/") {
			if w.Annotations == nil {
				w.Annotations = map[string]string{}
			}
			w.Annotations[key] = v
		}
	}
	return w
}

func podSpec(s corev1.PodSpec) checks.KubePodSpec {
	p := checks.KubePodSpec{ServiceAccount: s.ServiceAccountName, AutomountToken: s.AutomountServiceAccountToken,
		HostNetwork: s.HostNetwork, HostPID: s.HostPID, HostIPC: s.HostIPC}
	if sc := s.SecurityContext; sc != nil {
		p.RunAsNonRoot, p.RunAsUser = sc.RunAsNonRoot, sc.RunAsUser
		if sc.SeccompProfile != nil {
			p.Seccomp = string(sc.SeccompProfile.Type)
		}
	}
	for _, v := range s.Volumes {
		if v.HostPath != nil {
			p.HostPaths = append(p.HostPaths, v.Name+":"+v.HostPath.Path)
		}
	}
	for _, c := range s.InitContainers {
		p.Containers = append(p.Containers, container(c, true))
	}
	for _, c := range s.Containers {
		p.Containers = append(p.Containers, container(c, false))
	}
	return p
}

func container(c corev1.Container, init bool) checks.KubeContainer {
	k := checks.KubeContainer{Name: c.Name, Init: init, Image: c.Image, Readiness: c.ReadinessProbe != nil, Liveness: c.LivenessProbe != nil}
	if sc := c.SecurityContext; sc != nil {
		k.Privileged, k.AllowEscalation, k.ReadOnlyRootFS = sc.Privileged, sc.AllowPrivilegeEscalation, sc.ReadOnlyRootFilesystem
		k.RunAsNonRoot, k.RunAsUser = sc.RunAsNonRoot, sc.RunAsUser
		if sc.SeccompProfile != nil {
			k.Seccomp = string(sc.SeccompProfile.Type)
		}
		if sc.Capabilities != nil {
			for _, x := range sc.Capabilities.Add {
				k.CapAdd = append(k.CapAdd, string(x))
			}
			for _, x := range sc.Capabilities.Drop {
				k.CapDrop = append(k.CapDrop, string(x))
			}
		}
	}
	k.Requests, k.Limits = quantities(c.Resources.Requests), quantities(c.Resources.Limits)
	for _, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			k.SecretEnv = append(k.SecretEnv, e.Name+" ← "+e.ValueFrom.SecretKeyRef.Name+"/"+e.ValueFrom.SecretKeyRef.Key)
		}
	}
	for _, e := range c.EnvFrom {
		if e.SecretRef != nil {
			k.SecretEnv = append(k.SecretEnv, "* ← "+e.SecretRef.Name)
		}
	}
	for _, p := range c.Ports {
		if p.HostPort != 0 {
			k.HostPorts = append(k.HostPorts, p.HostPort)
		}
	}
	return k
}

func quantities(l corev1.ResourceList) map[string]string {
	if len(l) == 0 {
		return nil
	}
	out := map[string]string{}
	for n, q := range l {
		out[string(n)] = q.String()
	}
	return out
}

func selector(s *metav1.LabelSelector) checks.KubeSelector {
	if s == nil {
		return checks.KubeSelector{}
	}
	out := checks.KubeSelector{Match: s.MatchLabels}
	for _, e := range s.MatchExpressions {
		out.Expr = append(out.Expr, checks.KubeSelectorReq{Key: e.Key, Operator: string(e.Operator), Values: e.Values})
	}
	return out
}

func netpol(p networkingv1.NetworkPolicy) checks.KubeNetworkPolicy {
	out := checks.KubeNetworkPolicy{Name: p.Name, PodSelector: selector(&p.Spec.PodSelector)}
	types := p.Spec.PolicyTypes
	if len(types) == 0 {
		// The API's default: Ingress always, Egress when egress rules exist.
		types = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
		if len(p.Spec.Egress) > 0 {
			types = append(types, networkingv1.PolicyTypeEgress)
		}
	}
	for _, t := range types {
		out.Ingress = out.Ingress || t == networkingv1.PolicyTypeIngress
		out.Egress = out.Egress || t == networkingv1.PolicyTypeEgress
	}
	peers := func(ps []networkingv1.NetworkPolicyPeer) []checks.KubePeer {
		var o []checks.KubePeer
		for _, x := range ps {
			var e checks.KubePeer
			if x.PodSelector != nil {
				s := selector(x.PodSelector)
				e.Pods = &s
			}
			if x.NamespaceSelector != nil {
				s := selector(x.NamespaceSelector)
				e.Namespaces = &s
			}
			if x.IPBlock != nil {
				e.CIDR = x.IPBlock.CIDR
			}
			o = append(o, e)
		}
		return o
	}
	ports := func(ps []networkingv1.NetworkPolicyPort) []string {
		var o []string
		for _, x := range ps {
			s := "any"
			if x.Port != nil {
				s = x.Port.String()
			}
			if x.Protocol != nil {
				s += "/" + string(*x.Protocol)
			}
			o = append(o, s)
		}
		return o
	}
	for _, r := range p.Spec.Ingress {
		out.IngressRules = append(out.IngressRules, checks.KubePolicyRule{Peers: peers(r.From), Ports: ports(r.Ports)})
	}
	for _, r := range p.Spec.Egress {
		out.EgressRules = append(out.EgressRules, checks.KubePolicyRule{Peers: peers(r.To), Ports: ports(r.Ports)})
	}
	return out
}

func ingress(in networkingv1.Ingress) checks.KubeIngress {
	out := checks.KubeIngress{Name: in.Name, TLS: len(in.Spec.TLS) > 0}
	for _, r := range in.Spec.Rules {
		if r.Host != "" {
			out.Hosts = append(out.Hosts, r.Host)
		}
	}
	for _, t := range in.Spec.TLS {
		out.TLSHosts = append(out.TLSHosts, t.Hosts...)
	}
	for _, l := range in.Status.LoadBalancer.Ingress {
		if l.Hostname != "" {
			out.Address = l.Hostname
		} else if l.IP != "" {
			out.Address = l.IP
		}
	}
	return out
}

// valueRules find credential-shaped values in a ConfigMap: token shapes,
// bearer/basic credentials and `password=…`-style assignments (the long
// base64 and e-mail rules would flag ordinary certificates and addresses).
var valueRules = append(redact.StructuredRules(), redact.Bearer, redact.BasicAuth, redact.SecretAssignment)

// configMap reduces a ConfigMap to its keys and the keys that look secret.
func configMap(c corev1.ConfigMap) checks.KubeKeyed {
	out := checks.KubeKeyed{Name: c.Name}
	rules := map[string]bool{}
	all := map[string]string{}
	for key, v := range c.Data {
		all[key] = v
	}
	for key, v := range c.BinaryData {
		all[key] = string(v)
	}
	for key, v := range all {
		out.Keys = append(out.Keys, key)
		if v == "" {
			continue
		}
		hit := false
		if redact.IsSecretKey(key) {
			hit, rules["secret-key-name"] = true, true
		}
		if len(redact.URLPasswords(v)) > 0 {
			hit, rules["url-password"] = true, true
		}
		r := redact.New(redact.Options{Rules: valueRules})
		r.Text(key, v)
		for _, x := range r.Report() {
			hit, rules[x.Rule] = true, true
		}
		if hit {
			out.SecretKeys = append(out.SecretKeys, key)
		}
	}
	sort.Strings(out.Keys)
	sort.Strings(out.SecretKeys)
	for r := range rules {
		out.SecretRules = append(out.SecretRules, r)
	}
	sort.Strings(out.SecretRules)
	return out
}

// unstructuredTo converts an unstructured object to a typed one.
func unstructuredTo(u *unstructured.Unstructured, out any) error {
	return runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, out)
}
