package kubecollect_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	intstrpkg "k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/checks/catalog"
	"github.com/calctl/calctl/checks/kubecollect"
	"github.com/calctl/calctl/internal/kubetest"
	"github.com/calctl/calctl/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.KubeMain(m)) }

func judge(f *checks.Facts) *checks.Report {
	return checks.Run(f, catalog.For(checks.ProfileKubernetes), checks.Selection{}, nil)
}

// TestOwnChartPasses installs calctl's own charts (every part on, every
// image by digest) into a namespace of the real API server: every K8S check
// passes on every object.
func TestOwnChartPasses(t *testing.T) {
	in := kubetest.Install(t, nil)
	f := kubecollect.Collect(context.Background(), kubecollect.Target{Kubeconfig: in.API.Kubeconfig, Namespace: in.Config.Namespace})
	if st := f.Source(checks.SourceKube); !st.Collected {
		t.Fatalf("collect: %+v", st)
	}
	if len(f.Kube.Workloads) < 6 {
		t.Fatalf("collected %d workloads, want web, api, agent, database, migrate, cron, backup", len(f.Kube.Workloads))
	}
	rep := judge(f)
	ids := map[string]bool{}
	for _, r := range rep.Results {
		ids[r.ID] = true
		if r.Status != checks.Pass {
			t.Errorf("%s %s %s: %s", r.ID, r.Status, r.Resource, r.Message)
		}
	}
	if len(ids) != len(catalog.For(checks.ProfileKubernetes)) {
		t.Errorf("%d check IDs reported, want %d", len(ids), len(catalog.For(checks.ProfileKubernetes)))
	}
	t.Logf("%d results, all PASS, over %d workloads", len(rep.Results), len(f.Kube.Workloads))
}

func ptr[T any](v T) *T { return &v }

// goodDeployment passes every per-workload K8S check on its own.
func goodDeployment(name, component string) *appsv1.Deployment {
	labels := map[string]string{"app.kubernetes.io/name": name, "app.kubernetes.io/component": component}
	rl := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")}
	probe := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr(3000)}}}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec: appsv1.DeploymentSpec{Replicas: ptr(int32(2)), Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
				AutomountServiceAccountToken: ptr(false),
				SecurityContext:              &corev1.PodSecurityContext{RunAsNonRoot: ptr(true), RunAsUser: ptr(int64(1000)), SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
				Containers: []corev1.Container{{Name: "app", Image: "registry.example.com/app@" + kubetest.Digest,
					Resources:      corev1.ResourceRequirements{Requests: rl, Limits: rl},
					ReadinessProbe: probe, LivenessProbe: probe,
					SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: ptr(false), ReadOnlyRootFilesystem: ptr(true),
						Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}}},
			}}},
	}
}

func container(d *appsv1.Deployment) *corev1.Container { return &d.Spec.Template.Spec.Containers[0] }

// TestBadNamespaceFails applies deliberately bad objects into a namespace
// with no Pod Security label and no NetworkPolicy: each mutation makes its
// check FAIL on that object, while an unmutated control Deployment passes
// the same per-workload checks.
func TestBadNamespaceFails(t *testing.T) {
	k := testenv.SharedKubeAPI(t)
	ctx := context.Background()
	ns := kubetest.Namespace("bad")
	cs := clientset(t, k)
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	rows := []struct {
		name string
		id   string
		mut  func(d *appsv1.Deployment)
	}{
		{"escalation", "K8S-008", func(d *appsv1.Deployment) { container(d).SecurityContext.AllowPrivilegeEscalation = nil }},
		{"no-limits", "K8S-004", func(d *appsv1.Deployment) { container(d).Resources = corev1.ResourceRequirements{} }},
		{"image-latest", "K8S-005", func(d *appsv1.Deployment) { container(d).Image = "calcom/cal.com:latest" }},
		{"env-secret", "K8S-003", func(d *appsv1.Deployment) {
			container(d).Env = []corev1.EnvVar{{Name: "DATABASE_URL", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: "db"}, Key: "url"}}}}
		}},
		{"env-from-secret", "K8S-003", func(d *appsv1.Deployment) {
			container(d).EnvFrom = []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "app"}}}}
		}},
		{"token", "K8S-006", func(d *appsv1.Deployment) { d.Spec.Template.Spec.AutomountServiceAccountToken = nil }},
		{"root", "K8S-009", func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.SecurityContext.RunAsNonRoot = nil
			d.Spec.Template.Spec.SecurityContext.RunAsUser = ptr(int64(0))
		}},
		{"writable-root", "K8S-010", func(d *appsv1.Deployment) { container(d).SecurityContext.ReadOnlyRootFilesystem = ptr(false) }},
		{"caps", "K8S-011", func(d *appsv1.Deployment) {
			container(d).SecurityContext.Capabilities = &corev1.Capabilities{Add: []corev1.Capability{"NET_ADMIN"}}
		}},
		{"unconfined", "K8S-012", func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.SecurityContext.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}
		}},
		{"host-network", "K8S-015", func(d *appsv1.Deployment) { d.Spec.Template.Spec.HostNetwork = true }},
		{"host-path", "K8S-015", func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.Volumes = []corev1.Volume{{Name: "sock", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/run/docker.sock"}}}}
		}},
		{"host-pid", "K8S-015", func(d *appsv1.Deployment) { d.Spec.Template.Spec.HostPID = true }},
		{"single-web", "K8S-013", func(d *appsv1.Deployment) {
			d.Spec.Replicas = ptr(int32(1))
			d.Labels["app.kubernetes.io/component"] = "web"
			d.Spec.Template.Labels["app.kubernetes.io/component"] = "web"
			d.Spec.Selector.MatchLabels["app.kubernetes.io/component"] = "web"
		}},
		{"no-probes", "K8S-016", func(d *appsv1.Deployment) {
			d.Labels["app.kubernetes.io/component"] = "api"
			d.Spec.Template.Labels["app.kubernetes.io/component"] = "api"
			d.Spec.Selector.MatchLabels["app.kubernetes.io/component"] = "api"
			container(d).ReadinessProbe, container(d).LivenessProbe = nil, nil
		}},
	}
	for _, r := range append(rows, struct {
		name string
		id   string
		mut  func(d *appsv1.Deployment)
	}{"control", "", func(*appsv1.Deployment) {}}) {
		d := goodDeployment(r.name, "worker")
		r.mut(d)
		if _, err := cs.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
	}
	if _, err := cs.NetworkingV1().Ingresses(ns).Create(ctx, &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: "plain"},
		Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{Host: "cal.example.com"}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "app-config"},
		Data: map[string]string{"NEXT_PUBLIC_WEBAPP_URL": "https://cal.example.com", "DATABASE_URL": "postgresql://calcom:hunter2hunter2@db:5432/calendso"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	f := kubecollect.Collect(ctx, kubecollect.Target{Kubeconfig: k.Kubeconfig, Namespace: ns})
	if st := f.Source(checks.SourceKube); !st.Collected {
		t.Fatalf("collect: %+v", st)
	}
	// The test API server runs with --allow-privileged=false (the
	// default) and refuses a privileged container outright, so this one
	// mutation is made on the collected facts: a copy of the control
	// Deployment with privileged: true.
	for _, w := range f.Kube.Workloads {
		if w.Name == "control" {
			w.Name = "privileged"
			c := w.Pod.Containers[0]
			c.Privileged = ptr(true)
			w.Pod.Containers = []checks.KubeContainer{c}
			f.Kube.Workloads = append(f.Kube.Workloads, w)
			break
		}
	}
	rows = append(rows, struct {
		name string
		id   string
		mut  func(d *appsv1.Deployment)
	}{"privileged", "K8S-008", nil})
	rep := judge(f)
	status := map[string]checks.Status{} // ID + " " + resource
	for _, r := range rep.Results {
		status[r.ID+" "+r.Resource] = r.Status
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			if got := status[r.id+" Deployment/"+r.name]; got != checks.Fail {
				t.Errorf("%s on Deployment/%s = %q, want FAIL", r.id, r.name, got)
			}
			if got := status[r.id+" Deployment/control"]; r.id != "K8S-013" && r.id != "K8S-016" && got != checks.Pass {
				t.Errorf("%s on the control Deployment = %q, want PASS", r.id, got)
			}
		})
	}
	for _, want := range []string{"K8S-001 namespace/" + ns, "K8S-002 namespace/" + ns, "K8S-007 Ingress/plain", "K8S-014 ConfigMap/app-config"} {
		if got := status[want]; got != checks.Fail {
			t.Errorf("%s = %q, want FAIL", want, got)
		}
	}
	for _, r := range rep.Results {
		if r.Status == checks.Fail && strings.Contains(r.Message, "hunter2") {
			t.Errorf("%s shows a secret value: %s", r.ID, r.Message)
		}
	}
}

func intstr(p int) intstrpkg.IntOrString { return intstrpkg.FromInt32(int32(p)) }

func clientset(t *testing.T, k *testenv.KubeAPI) kubernetes.Interface {
	t.Helper()
	cs, _, _, err := kubecollect.Connect(kubecollect.Target{Kubeconfig: k.Kubeconfig})
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// TestConnectionErrors: a missing kubeconfig, a kubeconfig naming no
// cluster, and an API server that does not answer each give one line in
// the source's Error, so every K8S check reports ERROR (check exits 4).
func TestConnectionErrors(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage")
	os.WriteFile(garbage, []byte("not: [a kubeconfig"), 0o600)
	dead := filepath.Join(dir, "dead")
	os.WriteFile(dead, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: x}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`), 0o600)
	k := testenv.SharedKubeAPI(t)
	for _, c := range []struct{ name, kubeconfig, context, want string }{
		{"no-such-namespace", k.Kubeconfig, "", "namespace no-such-namespace does not exist on https://127.0.0.1:"},
		{"missing", filepath.Join(dir, "nope"), "", "kubeconfig " + filepath.Join(dir, "nope")},
		{"garbage", garbage, "", "kubeconfig:"},
		{"no-such-context", dead, "other", "kubeconfig:"},
		{"unreachable", dead, "", "cannot reach the API server https://127.0.0.1:1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			ns := "calcom"
			if c.name == "no-such-namespace" {
				ns = c.name
			}
			f := kubecollect.Collect(ctx, kubecollect.Target{Kubeconfig: c.kubeconfig, Context: c.context, Namespace: ns, Timeout: 3 * time.Second})
			st := f.Source(checks.SourceKube)
			if st.Collected || !strings.Contains(st.Error, c.want) || strings.Contains(st.Error, "\n") {
				t.Fatalf("source = %+v, want one line containing %q", st, c.want)
			}
			t.Logf("error line: %s", st.Error)
			for _, r := range judge(f).Results {
				if r.Status != checks.Error {
					t.Errorf("%s = %s, want ERROR", r.ID, r.Status)
				}
			}
		})
	}
}
