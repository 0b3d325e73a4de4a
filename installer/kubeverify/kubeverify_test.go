package kubeverify_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/yaml"

	batchv1 "k8s.io/api/batch/v1"

	"github.com/calctl/calctl/installer/kubeverify"
	"github.com/calctl/calctl/internal/kubetest"
	"github.com/calctl/calctl/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.KubeMain(m)) }

func ptr[T any](v T) *T { return &v }

// TestVerifyNotReadyThenReady installs both charts as Helm releases on the
// real API server. With no kubelet nothing runs: verify reports every
// Deployment and the StatefulSet at 0 ready replicas, Services without
// endpoints and an Ingress without an address, each with what to do, and
// is not ready. Then the test plays kubelet and controllers — it writes the
// status subresources (Deployment, StatefulSet, Job, Ingress) and the
// EndpointSlices those controllers would write — and serves the login page
// on loopback: verify is ready.
func TestVerifyNotReadyThenReady(t *testing.T) {
	in := kubetest.InstallWith(t, nil, true)
	ctx := context.Background()
	ns, rel := in.Config.Namespace, in.Config.Release
	cs := in.Client.Clientset()
	// Helm deleted the migrations hook Job once it succeeded
	// (hook-delete-policy hook-succeeded); apply it again, as a user's
	// unfinished run would leave it, so verify has a Job to judge.
	for _, doc := range strings.Split(string(in.Manifest), "\n---") {
		if strings.Contains(doc, "kind: Job\n") && strings.Contains(doc, "name: "+rel+"-migrate\n") {
			var j batchv1.Job
			if err := yaml.NewYAMLOrJSONDecoder(strings.NewReader(doc), 4096).Decode(&j); err != nil {
				t.Fatal(err)
			}
			if _, err := cs.BatchV1().Jobs(ns).Create(ctx, &j, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := cs.BatchV1().Jobs(ns).Get(ctx, rel+"-migrate", metav1.GetOptions{}); err != nil {
		t.Fatalf("migrations Job not re-applied: %v", err)
	}

	rep, err := kubeverify.Run(ctx, cs, kubeverify.Options{Namespace: ns, Release: rel})
	if err != nil {
		t.Fatal(err)
	}
	var table bytes.Buffer
	rep.WriteTable(&table)
	t.Logf("before:\n%s", table.String())
	if rep.Ready || rep.Nodes != 0 {
		t.Fatalf("ready=%v nodes=%d with no kubelet", rep.Ready, rep.Nodes)
	}
	state := func(rep *kubeverify.Report) map[string]kubeverify.Item {
		m := map[string]kubeverify.Item{}
		for _, it := range rep.Items {
			m[it.Check+" "+it.Object] = it
		}
		return m
	}
	got := state(rep)
	for key, want := range map[string]kubeverify.State{
		"release " + rel:                                      kubeverify.Ready,
		"release " + rel + "-postgres":                        kubeverify.Ready,
		"rollout Deployment/" + rel + "-web":                  kubeverify.NotReady,
		"rollout Deployment/" + rel + "-api":                  kubeverify.NotReady,
		"rollout StatefulSet/" + rel + "-postgres":            kubeverify.NotReady,
		"endpoints Service/" + rel + "-web":                   kubeverify.NotReady,
		"ingress Ingress/" + rel:                              kubeverify.NotReady,
		"http https://cal.example.com" + kubeverify.LoginPath: kubeverify.Skipped,
	} {
		if got[key].State != want {
			t.Errorf("%s: %q, want %q (%s)", key, got[key].State, want, got[key].Detail)
		}
	}
	if it := got["rollout Deployment/"+rel+"-web"]; !strings.Contains(it.Detail, "0/1 ready") || !strings.Contains(it.Detail, "no kubelet runs pods") || it.Fix == "" {
		t.Errorf("web line: %+v", it)
	}
	for _, it := range rep.Items {
		if it.State == kubeverify.NotReady && !strings.Contains(table.String(), "→ "+it.Object+": "+it.Fix) {
			t.Errorf("table lacks the fix line for %s", it.Object)
		}
	}
	if !strings.Contains(table.String(), "not ready:") {
		t.Error("table has no verdict")
	}

	// Play kubelet, job controller, endpoint controller and ingress controller.
	deps, _ := cs.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
	for _, d := range deps.Items {
		n := *d.Spec.Replicas
		d.Status.ObservedGeneration, d.Status.Replicas, d.Status.ReadyReplicas, d.Status.UpdatedReplicas, d.Status.AvailableReplicas = d.Generation, n, n, n, n
		if _, err := cs.AppsV1().Deployments(ns).UpdateStatus(ctx, &d, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	stss, _ := cs.AppsV1().StatefulSets(ns).List(ctx, metav1.ListOptions{})
	for _, s := range stss.Items {
		n := *s.Spec.Replicas
		s.Status.ObservedGeneration, s.Status.Replicas, s.Status.ReadyReplicas, s.Status.AvailableReplicas, s.Status.CurrentReplicas, s.Status.UpdatedReplicas = s.Generation, n, n, n, n, n
		if _, err := cs.AppsV1().StatefulSets(ns).UpdateStatus(ctx, &s, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	jobs, _ := cs.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{})
	for _, j := range jobs.Items {
		kubetest.CompleteJob(&j)
		if _, err := cs.BatchV1().Jobs(ns).UpdateStatus(ctx, &j, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	svcs, _ := cs.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
	for _, s := range svcs.Items {
		sl := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: s.Name + "-fake", Labels: map[string]string{"kubernetes.io/service-name": s.Name}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.7"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr(true)}}},
			Ports:       []discoveryv1.EndpointPort{{Port: ptr(s.Spec.Ports[0].Port), Protocol: ptr(corev1.ProtocolTCP)}}}
		if _, err := cs.DiscoveryV1().EndpointSlices(ns).Create(ctx, sl, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	ings, _ := cs.NetworkingV1().Ingresses(ns).List(ctx, metav1.ListOptions{})
	for _, in := range ings.Items {
		in.Status.LoadBalancer.Ingress = []networkingv1.IngressLoadBalancerIngress{{IP: "127.0.0.1"}}
		if _, err := cs.NetworkingV1().Ingresses(ns).UpdateStatus(ctx, &in, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	var paths []string
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.Path)
		if r.URL.Path == kubeverify.LoginPath {
			w.Write([]byte("<html>Cal.com login</html>"))
			return
		}
		http.NotFound(w, r)
	}))
	defer app.Close()
	rep, err = kubeverify.Run(ctx, cs, kubeverify.Options{Namespace: ns, Release: rel, PublicURL: app.URL})
	if err != nil {
		t.Fatal(err)
	}
	table.Reset()
	rep.WriteTable(&table)
	t.Logf("after:\n%s", table.String())
	if !rep.Ready {
		t.Fatalf("not ready after the status writes")
	}
	if len(paths) != 1 || paths[0] != kubeverify.LoginPath {
		t.Errorf("probe GETs %v, want [%s]", paths, kubeverify.LoginPath)
	}
	if got := state(rep); got["job Job/"+rel+"-migrate"].State != kubeverify.Ready {
		t.Errorf("migrations job: %+v", got["job Job/"+rel+"-migrate"])
	}
	// a 5xx from the app is not ready
	app.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) })
	rep, _ = kubeverify.Run(ctx, cs, kubeverify.Options{Namespace: ns, Release: rel, PublicURL: app.URL})
	if rep.Ready {
		t.Error("ready while the app answers 502")
	}
}
