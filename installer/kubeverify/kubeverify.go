// Package kubeverify is `calctl verify`: a smoke test of a Cal.com release
// on any Kubernetes cluster. It reads the namespace through the API server
// and reports, one line per object, whether the Helm release is deployed,
// every Deployment and StatefulSet rolled out (ready replicas = desired),
// the migrations Job succeeded, every Service has a ready endpoint, the
// Ingress has an address, and — when the public URL answers — Cal.com's
// login page comes back below 500 (what the compose install's verify step
// accepts, installer/step_verify.go). Each line that is not ready says what
// to do.
package kubeverify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// State is one line's outcome.
type State string

// The states.
const (
	// Ready means the object is as it should be.
	Ready State = "ready"
	// NotReady means it is not (yet): verify exits non-zero.
	NotReady State = "not ready"
	// Skipped means the line could not be judged, and why (not a failure).
	Skipped State = "skipped"
)

// Item is one line of the report.
type Item struct {
	Check  string `json:"check"`  // release, rollout, job, endpoints, ingress or http
	Object string `json:"object"` // Kind/name, the release name or the URL probed
	State  State  `json:"state"`  // ready, not ready or skipped
	Detail string `json:"detail"` // what was seen
	// Fix says what to do when State is NotReady.
	Fix string `json:"fix,omitempty"`
}

// Report is what verify prints.
type Report struct {
	Server    string `json:"server,omitempty"`     // the API server URL
	Namespace string `json:"namespace"`            // the namespace verified
	Release   string `json:"release"`              // the Helm release verified
	PublicURL string `json:"public_url,omitempty"` // the URL probed, when any
	// Nodes is the number of registered nodes (0: nothing can run).
	Nodes int    `json:"nodes"`
	Ready bool   `json:"ready"` // true when no item is not ready
	Items []Item `json:"items"` // one per object, in check order
}

// Options say what to verify.
type Options struct {
	Namespace string // the namespace of the release
	// Release is the Helm release (default calcom); its bundled database
	// is the release <Release>-postgres when present.
	Release string
	// PublicURL is probed at /auth/login (default: https:// plus the
	// Ingress's first TLS host, else http:// plus its first host).
	PublicURL string
	// HTTP is the client for the probe (default: 10 s timeout, redirects
	// not followed).
	HTTP *http.Client
	// Server is the API server URL, for the report.
	Server string
}

// LoginPath is what the probe GETs: Cal.com's login page, served by the
// web app itself (not a static asset), so a 2xx/3xx/4xx proves Next.js runs.
const LoginPath = "/auth/login"

// Run verifies the release in o.Namespace. An error means the API server
// could not be read; everything else is in the Report.
func Run(ctx context.Context, cs kubernetes.Interface, o Options) (*Report, error) {
	if o.Release == "" {
		o.Release = "calcom"
	}
	r := &Report{Server: o.Server, Namespace: o.Namespace, Release: o.Release}
	ns := o.Namespace
	if _, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); err != nil {
		return nil, err
	}
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err == nil {
		r.Nodes = len(nodes.Items)
	}
	noNodes := err == nil && r.Nodes == 0
	add := func(it Item) { r.Items = append(r.Items, it) }

	// Helm release: its storage Secrets carry owner=helm, name and status labels.
	secs, err := cs.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{LabelSelector: "owner=helm"})
	if err != nil {
		return nil, err
	}
	latest := map[string]corev1.Secret{}
	for _, s := range secs.Items {
		n := s.Labels["name"]
		if cur, ok := latest[n]; !ok || atoi(s.Labels["version"]) > atoi(cur.Labels["version"]) {
			latest[n] = s
		}
	}
	for _, name := range []string{o.Release, o.Release + "-postgres"} {
		s, ok := latest[name]
		switch {
		case !ok && name == o.Release:
			add(Item{Check: "release", Object: name, State: NotReady, Detail: "no Helm release " + name + " in namespace " + ns,
				Fix: "run `calctl install` (or check --namespace and --release)"})
		case !ok:
		case s.Labels["status"] == "deployed":
			add(Item{Check: "release", Object: name, State: Ready, Detail: "revision " + s.Labels["version"] + " deployed"})
		default:
			add(Item{Check: "release", Object: name, State: NotReady, Detail: "revision " + s.Labels["version"] + " is " + s.Labels["status"],
				Fix: "`calctl install` again to finish or roll back; a failed hook's Job shows why (kubectl -n " + ns + " describe jobs)"})
		}
	}

	noPods := ""
	if noNodes {
		noPods = " — no node is registered, so no kubelet runs pods"
	}
	deps, err := cs.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	for _, d := range deps.Items {
		want := int32(1)
		if d.Spec.Replicas != nil {
			want = *d.Spec.Replicas
		}
		s := d.Status
		detail := fmt.Sprintf("%d/%d ready, %d updated, %d available", s.ReadyReplicas, want, s.UpdatedReplicas, s.AvailableReplicas)
		if s.ObservedGeneration >= d.Generation && s.ReadyReplicas >= want && s.UpdatedReplicas >= want && s.AvailableReplicas >= want {
			add(Item{Check: "rollout", Object: "Deployment/" + d.Name, State: Ready, Detail: detail})
			continue
		}
		add(Item{Check: "rollout", Object: "Deployment/" + d.Name, State: NotReady, Detail: detail + noPods,
			Fix: podFix(ns, d.Spec.Template.Labels, noNodes)})
	}
	sts, err := cs.AppsV1().StatefulSets(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	for _, s := range sts.Items {
		want := int32(1)
		if s.Spec.Replicas != nil {
			want = *s.Spec.Replicas
		}
		detail := fmt.Sprintf("%d/%d ready", s.Status.ReadyReplicas, want)
		if s.Status.ObservedGeneration >= s.Generation && s.Status.ReadyReplicas >= want {
			add(Item{Check: "rollout", Object: "StatefulSet/" + s.Name, State: Ready, Detail: detail})
			continue
		}
		add(Item{Check: "rollout", Object: "StatefulSet/" + s.Name, State: NotReady, Detail: detail + noPods,
			Fix: podFix(ns, s.Spec.Template.Labels, noNodes) + "; a Pending database pod often waits for its PersistentVolumeClaim (kubectl -n " + ns + " get pvc)"})
	}
	jobs, err := cs.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	for _, j := range jobs.Items {
		if owner := metav1.GetControllerOf(&j); owner != nil && owner.Kind == "CronJob" {
			continue // a cron run, not a rollout step
		}
		add(jobItem(ns, j, noPods))
	}

	svcs, err := cs.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	slices, err := cs.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	readyEP := map[string]int{}
	for _, sl := range slices.Items {
		for _, ep := range sl.Endpoints {
			if ep.Conditions.Ready == nil || *ep.Conditions.Ready {
				readyEP[sl.Labels["kubernetes.io/service-name"]] += len(ep.Addresses)
			}
		}
	}
	for _, s := range svcs.Items {
		if s.Spec.Type == corev1.ServiceTypeExternalName {
			continue
		}
		if n := readyEP[s.Name]; n > 0 {
			add(Item{Check: "endpoints", Object: "Service/" + s.Name, State: Ready, Detail: fmt.Sprintf("%d ready endpoint(s)", n)})
			continue
		}
		add(Item{Check: "endpoints", Object: "Service/" + s.Name, State: NotReady, Detail: "no ready endpoint: no ready pod matches its selector" + noPods,
			Fix: fmt.Sprintf("kubectl -n %s get pods -l %s and fix the pods that are not Ready", ns, selectorString(s.Spec.Selector))})
	}

	ings, err := cs.NetworkingV1().Ingresses(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	publicURL, ingressAddr := o.PublicURL, ""
	for _, in := range ings.Items {
		var addrs []string
		for _, l := range in.Status.LoadBalancer.Ingress {
			if l.Hostname != "" {
				addrs = append(addrs, l.Hostname)
			} else if l.IP != "" {
				addrs = append(addrs, l.IP)
			}
		}
		if publicURL == "" {
			for _, t := range in.Spec.TLS {
				if len(t.Hosts) > 0 {
					publicURL = "https://" + t.Hosts[0]
					break
				}
			}
		}
		if publicURL == "" && len(in.Spec.Rules) > 0 && in.Spec.Rules[0].Host != "" {
			publicURL = "http://" + in.Spec.Rules[0].Host
		}
		if len(addrs) > 0 {
			ingressAddr = addrs[0]
			add(Item{Check: "ingress", Object: "Ingress/" + in.Name, State: Ready, Detail: "address " + strings.Join(addrs, ", ")})
			continue
		}
		class := "the cluster default"
		if in.Spec.IngressClassName != nil {
			class = *in.Spec.IngressClassName
		}
		add(Item{Check: "ingress", Object: "Ingress/" + in.Name, State: NotReady, Detail: "no address in status: no ingress controller has admitted it",
			Fix: fmt.Sprintf("check that an ingress controller for class %s runs (kubectl get ingressclass; its controller's logs), then point DNS for the hosts at its address", class)})
	}

	r.PublicURL = publicURL
	switch {
	case publicURL == "":
		add(Item{Check: "http", Object: LoginPath, State: Skipped, Detail: "no public URL: no Ingress host and no --url"})
	case len(ings.Items) > 0 && ingressAddr == "" && o.PublicURL == "":
		add(Item{Check: "http", Object: publicURL + LoginPath, State: Skipped, Detail: "the Ingress has no address yet; pass --url to probe anyway"})
	default:
		add(probe(ctx, o.HTTP, publicURL))
	}

	r.Ready = true
	for _, it := range r.Items {
		if it.State == NotReady {
			r.Ready = false
		}
	}
	return r, nil
}

func jobItem(ns string, j batchv1.Job, noPods string) Item {
	it := Item{Check: "job", Object: "Job/" + j.Name}
	for _, c := range j.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			it.State, it.Detail = Ready, fmt.Sprintf("succeeded (%d pod)", j.Status.Succeeded)
			return it
		case batchv1.JobFailed:
			it.State, it.Detail = NotReady, "failed: "+oneLine(c.Reason+" "+c.Message)
			it.Fix = fmt.Sprintf("kubectl -n %s logs job/%s --all-containers (a P3009 guard failure names the migrations to resolve; see calctl doctor)", ns, j.Name)
			return it
		}
	}
	it.State = NotReady
	it.Detail = fmt.Sprintf("not finished: %d active, %d succeeded, %d failed%s", j.Status.Active, j.Status.Succeeded, j.Status.Failed, noPods)
	it.Fix = fmt.Sprintf("kubectl -n %s describe job/%s; its pods must be scheduled and run to completion", ns, j.Name)
	return it
}

func podFix(ns string, labels map[string]string, noNodes bool) string {
	if noNodes {
		return "add nodes to the cluster (kubectl get nodes shows none); the objects are stored and will roll out once a kubelet runs"
	}
	return fmt.Sprintf("kubectl -n %s get pods -l %s, then kubectl describe/logs the ones not Ready (image pull, probes, Pod Security, quota)", ns, selectorString(labels))
}

func selectorString(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(parts, ",")
}

// probe GETs the login page once.
func probe(ctx context.Context, hc *http.Client, base string) Item {
	target := strings.TrimRight(base, "/") + LoginPath
	it := Item{Check: "http", Object: target}
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		it.State, it.Detail, it.Fix = NotReady, oneLine(err.Error()), "pass a valid --url"
		return it
	}
	resp, err := hc.Do(req)
	if err != nil {
		it.State, it.Detail = NotReady, oneLine(err.Error())
		it.Fix = "check DNS for the host points at the Ingress address, the certificate is issued (kubectl get certificate), and the web pods are Ready"
		return it
	}
	resp.Body.Close()
	if resp.StatusCode >= 500 {
		it.State, it.Detail = NotReady, resp.Status
		it.Fix = "the app answers with an error: kubectl logs deploy/<release>-web; calctl doctor"
		return it
	}
	it.State, it.Detail = Ready, resp.Status
	return it
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return n
		}
		n = n*10 + int(c-'0')
	}
	return n
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// WriteTable prints the report as a table, then one "→" line per item
// that is not ready with what to do, then a verdict.
func (r *Report) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "release %s in namespace %s", r.Release, r.Namespace)
	if r.Server != "" {
		fmt.Fprintf(w, " on %s", r.Server)
	}
	fmt.Fprintf(w, " (%d node(s))\n\n", r.Nodes)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tOBJECT\tSTATE\tDETAIL")
	for _, it := range r.Items {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", it.Check, it.Object, it.State, it.Detail)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	n := 0
	for _, it := range r.Items {
		if it.State == NotReady {
			if n == 0 {
				fmt.Fprintln(w)
			}
			n++
			fmt.Fprintf(w, "→ %s: %s\n", it.Object, it.Fix)
		}
	}
	if r.Ready {
		_, err := fmt.Fprintf(w, "\nready: every check passed\n")
		return err
	}
	_, err := fmt.Fprintf(w, "\nnot ready: %d of %d checks\n", n, len(r.Items))
	return err
}

// WriteJSON prints the report as JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
