package kubecollect

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/checks/bundle"
)

// BundleOptions tune a namespace bundle.
type BundleOptions struct {
	// Since limits pod logs to this long ago (0: no limit); Tail is lines
	// per container (0: 500).
	Since time.Duration
	Tail  int64 // last lines per container (0: 500)
}

// bundleKinds are the objects a bundle holds, one file each.
var bundleKinds = []struct {
	gvr  schema.GroupVersionResource
	file string
}{
	{schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}, "deployments"},
	{schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "statefulsets"}, "statefulsets"},
	{schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "daemonsets"}, "daemonsets"},
	{schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "replicasets"}, "replicasets"},
	{schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "cronjobs"}, "cronjobs"},
	{schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "jobs"}, "jobs"},
	{schema.GroupVersionResource{Version: "v1", Resource: "pods"}, "pods"},
	{schema.GroupVersionResource{Version: "v1", Resource: "services"}, "services"},
	{schema.GroupVersionResource{Group: "discovery.k8s.io", Version: "v1", Resource: "endpointslices"}, "endpointslices"},
	{schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"}, "ingresses"},
	{schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "networkpolicies"}, "networkpolicies"},
	{schema.GroupVersionResource{Version: "v1", Resource: "serviceaccounts"}, "serviceaccounts"},
	{schema.GroupVersionResource{Version: "v1", Resource: "persistentvolumeclaims"}, "persistentvolumeclaims"},
	{schema.GroupVersionResource{Group: "policy", Version: "v1", Resource: "poddisruptionbudgets"}, "poddisruptionbudgets"},
	{schema.GroupVersionResource{Group: "autoscaling", Version: "v2", Resource: "horizontalpodautoscalers"}, "horizontalpodautoscalers"},
	{schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "roles"}, "roles"},
	{schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "rolebindings"}, "rolebindings"},
	{schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}, "configmaps"},
	{schema.GroupVersionResource{Version: "v1", Resource: "secrets"}, "secrets"},
}

// Redacted replaces each Secret value in a bundle; the keys stay.
const Redacted = "[REDACTED]"

// Bundle collects t's namespace — its facts, every object as YAML (Secret
// values replaced, keys kept; managedFields and last-applied annotations
// dropped), its events and its pods' recent logs — and returns what
// bundle.WriteKube writes. Secret values are returned in Known, in memory
// only, so that a value echoed in a log or event is redacted too. A pod
// whose log the API server cannot give (no kubelet, no node) is an Omitted
// entry; a namespace without pods says so in Omitted.
func Bundle(ctx context.Context, t Target, o BundleOptions) (*bundle.KubeInputs, error) {
	f := Collect(ctx, t)
	in := &bundle.KubeInputs{Facts: f}
	if st := f.Source(checks.SourceKube); !st.Collected {
		return nil, fmt.Errorf("kubernetes: %s", st.Error)
	}
	cs, cfg, t, err := Connect(t)
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	ns := f.Kube.Namespace
	var secretValues [][]byte
	for _, k := range bundleKinds {
		list, err := dyn.Resource(k.gvr).Namespace(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			in.Omitted = append(in.Omitted, bundle.OmittedFile{Name: "objects/" + k.file + ".yaml", Reason: Explain(err, cfg.Host)})
			continue
		}
		if len(list.Items) == 0 {
			continue
		}
		sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].GetName() < list.Items[j].GetName() })
		var buf bytes.Buffer
		for i := range list.Items {
			obj := &list.Items[i]
			obj.SetAPIVersion(k.gvr.GroupVersion().String())
			obj.SetKind(kindOf(list, obj))
			obj.SetManagedFields(nil)
			if a := obj.GetAnnotations(); a != nil {
				delete(a, "kubectl.kubernetes.io/last-applied-configuration")
				obj.SetAnnotations(a)
			}
			if k.file == "secrets" {
				secretValues = append(secretValues, redactSecret(obj)...)
			}
			raw, err := yaml.Marshal(obj.Object)
			if err != nil {
				return nil, fmt.Errorf("encode %s/%s: %w", k.file, obj.GetName(), err)
			}
			buf.WriteString("---\n")
			buf.Write(raw)
		}
		kind := "objects"
		if k.file == "configmaps" {
			kind = "configmaps"
		}
		in.Files = append(in.Files, bundle.KubeFile{Name: "objects/" + k.file + ".yaml", Kind: kind, Data: buf.Bytes(),
			What: fmt.Sprintf("%d %s of namespace %s (%s)", len(list.Items), k.file, ns, map[bool]string{true: "values redacted, keys kept", false: "redacted"}[k.file == "secrets"])})
	}
	in.Known = bundle.SecretValues(secretValues)
	if ev, err := events(ctx, cs, ns); err != nil {
		in.Omitted = append(in.Omitted, bundle.OmittedFile{Name: "events.txt", Reason: Explain(err, cfg.Host)})
	} else {
		in.Files = append(in.Files, bundle.KubeFile{Name: "events.txt", Kind: "text", Data: ev, What: "the namespace's events, oldest first (redacted)"})
	}
	files, omitted := podLogs(ctx, cs, ns, o, f.Kube.Nodes, cfg.Host)
	in.Files = append(in.Files, files...)
	in.Omitted = append(in.Omitted, omitted...)
	return in, nil
}

// kindOf is an item's kind: the list's kind without "List".
func kindOf(list *unstructured.UnstructuredList, obj *unstructured.Unstructured) string {
	if k := obj.GetKind(); k != "" {
		return k
	}
	return strings.TrimSuffix(list.GetKind(), "List")
}

// redactSecret replaces every value of a Secret's data and stringData,
// keeping its keys, and returns the decoded values.
func redactSecret(obj *unstructured.Unstructured) [][]byte {
	var vals [][]byte
	var s corev1.Secret
	_ = unstructuredTo(obj, &s)
	for _, v := range s.Data {
		vals = append(vals, v)
	}
	for _, v := range s.StringData {
		vals = append(vals, []byte(v))
	}
	for _, field := range []string{"data", "stringData"} {
		m, ok, _ := unstructured.NestedMap(obj.Object, field)
		if !ok {
			continue
		}
		for k := range m {
			m[k] = Redacted
		}
		_ = unstructured.SetNestedMap(obj.Object, m, field)
	}
	return vals
}

func events(ctx context.Context, cs kubernetes.Interface, ns string) ([]byte, error) {
	l, err := cs.CoreV1().Events(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	sort.SliceStable(l.Items, func(i, j int) bool { return eventTime(l.Items[i]).Before(eventTime(l.Items[j])) })
	var b bytes.Buffer
	if len(l.Items) == 0 {
		fmt.Fprintf(&b, "no events in namespace %s (events expire after an hour by default)\n", ns)
	}
	for _, e := range l.Items {
		fmt.Fprintf(&b, "%s %s %s/%s %s x%d: %s\n", eventTime(e).UTC().Format(time.RFC3339), e.Type, e.InvolvedObject.Kind, e.InvolvedObject.Name,
			e.Reason, max(e.Count, 1), oneLine(e.Message))
	}
	return b.Bytes(), nil
}

func eventTime(e corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	}
	return e.CreationTimestamp.Time
}

// podLogs reads the recent logs of every container of every pod.
func podLogs(ctx context.Context, cs kubernetes.Interface, ns string, o BundleOptions, nodes int, host string) ([]bundle.KubeFile, []bundle.OmittedFile) {
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, []bundle.OmittedFile{{Name: "logs/", Reason: Explain(err, host)}}
	}
	if len(pods.Items) == 0 {
		why := "no pods in namespace " + ns + ": no logs to read"
		if nodes == 0 {
			why += " (the cluster has no node registered, so nothing can run)"
		}
		return nil, []bundle.OmittedFile{{Name: "logs/", Reason: why}}
	}
	tail := o.Tail
	if tail <= 0 {
		tail = 500
	}
	var files []bundle.KubeFile
	var omitted []bundle.OmittedFile
	for _, p := range pods.Items {
		var cs2 []string
		for _, c := range p.Spec.InitContainers {
			cs2 = append(cs2, c.Name)
		}
		for _, c := range p.Spec.Containers {
			cs2 = append(cs2, c.Name)
		}
		for _, c := range cs2 {
			name := "logs/" + p.Name + "/" + c + ".log"
			if p.Spec.NodeName == "" {
				omitted = append(omitted, bundle.OmittedFile{Name: name, Reason: "pod is not scheduled to a node (phase " + string(p.Status.Phase) + "): it has no log"})
				continue
			}
			lo := &corev1.PodLogOptions{Container: c, TailLines: &tail, Timestamps: true}
			if o.Since > 0 {
				s := int64(o.Since.Seconds())
				lo.SinceSeconds = &s
			}
			rc, err := cs.CoreV1().Pods(ns).GetLogs(p.Name, lo).Stream(ctx)
			if err != nil {
				omitted = append(omitted, bundle.OmittedFile{Name: name, Reason: oneLine(err.Error())})
				continue
			}
			raw, err := io.ReadAll(io.LimitReader(rc, 8<<20))
			rc.Close()
			if err != nil {
				omitted = append(omitted, bundle.OmittedFile{Name: name, Reason: oneLine(err.Error())})
				continue
			}
			files = append(files, bundle.KubeFile{Name: name, Kind: "text", Data: raw, What: fmt.Sprintf("last %d log lines of %s/%s (redacted)", tail, p.Name, c)})
		}
	}
	return files, omitted
}
