package kuberelease_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/calctl/calctl/installer/kubechart"
	"github.com/calctl/calctl/installer/kuberelease"
	"github.com/calctl/calctl/internal/kubetest"
	"github.com/calctl/calctl/internal/testenv"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"
)

func TestMain(m *testing.M) { os.Exit(testenv.KubeMain(m)) }

const digest = kubetest.Digest

// baseConfig is a full-featured config; variants switch parts off. It is
// kubetest.Config with the calctl and postgres images by tag, as a release
// build renders them (the K8S checks' tests pin every image by digest).
func baseConfig(release, ns string) kubechart.Config {
	c := kubetest.Config(release, ns)
	c.Images.Calctl, c.Images.Postgres = "ghcr.io/calctl/calctl:v1.0.0", "postgres:16-alpine"
	return c
}

// variants are the answer combinations that change which objects exist
// or how they look.
var variants = []struct {
	name string
	mut  func(c *kubechart.Config)
}{
	{"full-bundled", func(c *kubechart.Config) {}},
	{"external-minimal", func(c *kubechart.Config) {
		c.Database = kubechart.Database{Mode: "external", Port: 5432, EgressCIDRs: []string{"10.20.0.0/16"}}
		c.API.Enabled, c.Agent.Enabled, c.Backup.Enabled = false, false, false
		c.Web.Autoscaling.Enabled = false
		c.Cron.Routes = nil
		c.Ingress.TLS = kubechart.TLS{Enabled: true, SecretName: "existing-tls"}
		c.Ingress.ClassName = ""
		c.EmailPort = 0
	}},
	{"rds-ca-issuer-pullsecret", func(c *kubechart.Config) {
		c.Database = kubechart.Database{Mode: "rds", Port: 5432, EgressCIDRs: []string{"10.0.0.0/8", "172.16.0.0/12"}, CACert: true}
		c.Ingress.TLS = kubechart.TLS{Enabled: true, Issuer: "ca-issuer", SecretName: "web-tls"}
		c.PullSecrets = []string{"regcred"}
		c.API.Autoscaling = kubechart.Autoscaling{Enabled: true, MinReplicas: 2, MaxReplicas: 4, TargetCPU: 60}
		c.StorageClass = "gp3"
	}},
	{"no-ingress-no-migrate", func(c *kubechart.Config) {
		c.Ingress.Enabled = false
		c.Migrate.Enabled = false
		c.Backup.Enabled = false
	}},
}

func newClient(t *testing.T, k *testenv.KubeAPI, ns string) *kuberelease.Client {
	t.Helper()
	c, err := kuberelease.New(kuberelease.Target{Kubeconfig: k.Kubeconfig, Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.EnsureNamespace(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	return c
}

func genSecret(string) (string, error) {
	b := make([]byte, 16)
	_, err := rand.Read(b)
	return hex.EncodeToString(b), err
}

func secretInputs(c kubechart.Config) kubechart.SecretInputs {
	in := kubechart.SecretInputs{EmailHost: "smtp.example.com", EmailFrom: "cal@example.com", EmailFromName: "Cal.com", EmailUser: "cal", SMTPPassword: "p'a$s`word&x"}
	if c.Database.Mode != "bundled" {
		in.DatabaseURL = "postgresql://calcom:pw@db.example.com:5432/calendso?sslmode=verify-full&sslrootcert=/etc/calcom/db-ca.pem"
	}
	if c.Database.CACert {
		in.DBCACert = []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
	}
	in.BillingToken, in.SigningSecret = "tok-123", "sig-456"
	return in
}

// renderAll renders the charts for c into dir and returns, per chart
// (app first, then the database), the manifest Helm renders and the Secret.
func renderAll(t *testing.T, cl *kuberelease.Client, c kubechart.Config, kept map[string][]byte, dir string) (secret kubechart.File, charts map[string]kuberelease.Rendered) {
	t.Helper()
	in := secretInputs(c)
	in.Kept = kept
	data, _, err := kubechart.BuildSecrets(c, in, genSecret)
	if err != nil {
		t.Fatal(err)
	}
	c.SecretChecksum = kubechart.Checksum(data)
	files, err := kubechart.Render(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		p := filepath.Join(dir, f.Path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, f.Mode); err != nil {
			t.Fatal(err)
		}
	}
	charts = map[string]kuberelease.Rendered{}
	for _, cd := range []struct{ dir, release string }{{kubechart.AppChartDir, c.Release}, {kubechart.DatabaseChartDir, kubechart.DatabaseRelease(c.Release)}} {
		if _, err := os.Stat(filepath.Join(dir, cd.dir)); err != nil {
			continue
		}
		if msgs := kuberelease.Lint(filepath.Join(dir, cd.dir)); len(msgs) > 0 {
			t.Errorf("helm lint %s: %s", cd.dir, strings.Join(msgs, "\n"))
		}
		ch, err := kuberelease.LoadChart(filepath.Join(dir, cd.dir))
		if err != nil {
			t.Fatal(err)
		}
		r, err := cl.Template(ch, cd.release)
		if err != nil {
			t.Fatal(err)
		}
		charts[cd.dir] = r
	}
	return kubechart.SecretManifest(c.Release, c.Namespace, data), charts
}

// TestChartVariantsOnRealAPIServer: every variant's objects pass a
// server-side dry-run apply, then a real apply; what is read back contains
// exactly what was rendered; Pod Security "restricted" admits every pod
// template; a re-render keeps the Secret byte for byte.
func TestChartVariantsOnRealAPIServer(t *testing.T) {
	k := testenv.SharedKubeAPI(t)
	ctx := context.Background()
	for i, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			ns := fmt.Sprintf("variant-%d-%d", i, time.Now().UnixNano()%100000)
			cl := newClient(t, k, ns)
			c := baseConfig("cal", ns)
			v.mut(&c)
			dir := t.TempDir()
			secret, charts := renderAll(t, cl, c, nil, dir)
			var all []byte
			all = append(all, secret.Data...)
			keys := make([]string, 0, len(charts))
			for k := range charts {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				all = append(all, charts[k].All()...)
			}
			cl.Warnings().Take()
			dry, err := cl.Apply(ctx, all, true)
			if err != nil {
				t.Fatalf("server-side dry-run apply: %v", err)
			}
			if w := cl.Warnings().Take(); len(w) > 0 {
				t.Fatalf("server warnings on dry run (Pod Security or deprecations): %q", w)
			}
			for _, r := range dry {
				if r.Action != "created" {
					t.Errorf("dry run: %s would be %s, want created (nothing was stored before)", r.Ref(), r.Action)
				}
			}
			applied, err := cl.Apply(ctx, all, false)
			if err != nil {
				t.Fatalf("apply: %v", err)
			}
			if len(applied) != len(dry) {
				t.Fatalf("applied %d objects, dry run had %d", len(applied), len(dry))
			}
			objs, _ := kuberelease.Decode(all)
			for _, o := range objs {
				live, err := cl.Get(ctx, o)
				if err != nil {
					t.Fatalf("read back %s/%s: %v", o.GetKind(), o.GetName(), err)
				}
				if path, ok := contains(jsonOf(t, live.Object), jsonOf(t, o.Object), o.GetKind()); !ok {
					t.Errorf("%s/%s read back differs from rendered at %s", o.GetKind(), o.GetName(), path)
				}
			}
			checkPodTemplates(t, cl, objs)
			// a re-render with the Secret read back from the cluster keeps it byte for byte
			kept, found, err := cl.ReadSecret(ctx, kubechart.SecretName(c.Release))
			if err != nil || !found {
				t.Fatalf("read Secret back: found=%v err=%v", found, err)
			}
			secret2, charts2 := renderAll(t, cl, c, kept, t.TempDir())
			if string(secret2.Data) != string(secret.Data) {
				t.Fatal("re-render changed the Secret")
			}
			if !reflect.DeepEqual(charts2, charts) {
				t.Fatal("re-render changed the rendered objects")
			}
			// and applying it again changes nothing on the server
			again, err := cl.Apply(ctx, all, false)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range again {
				if r.Action != "unchanged" {
					t.Errorf("re-apply: %s %s, want unchanged", r.Ref(), r.Action)
				}
			}
			if secret.Mode != 0o600 {
				t.Errorf("secret manifest mode %v, want 0600", secret.Mode)
			}
			for _, k := range keys {
				if strings.Contains(charts[k].Manifest, "kind: Secret\n") {
					t.Errorf("%s renders a Secret: secrets belong only in %s", k, secret.Path)
				}
			}
		})
	}
}

func jsonOf(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// contains reports whether every field of want is in got with the same
// value (lists element by element, same length): the server may add
// defaults, but must keep everything calctl rendered.
func contains(got, want any, path string) (string, bool) {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return path, false
		}
		for k, wv := range w {
			if p, ok := contains(g[k], wv, path+"."+k); !ok {
				return p, false
			}
		}
		return "", true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return path + fmt.Sprintf(" (list of %d, got %v)", len(w), got), false
		}
		for i := range w {
			if p, ok := contains(g[i], w[i], fmt.Sprintf("%s[%d]", path, i)); !ok {
				return p, false
			}
		}
		return "", true
	default:
		if !reflect.DeepEqual(got, want) {
			return fmt.Sprintf("%s (%v, got %v)", path, want, got), false
		}
		return "", true
	}
}

// podSpecs returns the pod templates of workload objects.
func podSpecs(objs []*unstructured.Unstructured) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, o := range objs {
		var path []string
		switch o.GetKind() {
		case "Deployment", "StatefulSet", "Job":
			path = []string{"spec", "template"}
		case "CronJob":
			path = []string{"spec", "jobTemplate", "spec", "template"}
		default:
			continue
		}
		tmpl, found, _ := unstructured.NestedMap(o.Object, path...)
		// a StatefulSet's claim templates become volumes of its pods
		claims, _, _ := unstructured.NestedSlice(o.Object, "spec", "volumeClaimTemplates")
		for _, cl := range claims {
			name, _, _ := unstructured.NestedString(cl.(map[string]any), "metadata", "name")
			vols, _, _ := unstructured.NestedSlice(tmpl, "spec", "volumes")
			vols = append(vols, map[string]any{"name": name, "persistentVolumeClaim": map[string]any{"claimName": name}})
			_ = unstructured.SetNestedSlice(tmpl, vols, "spec", "volumes")
		}
		if found {
			out[o.GetKind()+"/"+o.GetName()] = tmpl
		}
	}
	return out
}

// checkPodTemplates creates (dry run) a Pod from every pod template in the
// namespace, whose Pod Security admission enforces "restricted"; a Pod
// stripped of its security context must be refused, which shows the
// admission really runs.
func checkPodTemplates(t *testing.T, cl *kuberelease.Client, objs []*unstructured.Unstructured) {
	t.Helper()
	ctx := context.Background()
	specs := podSpecs(objs)
	if len(specs) == 0 {
		t.Fatal("no pod templates rendered")
	}
	for ref, tmpl := range specs {
		pod := podFrom(t, tmpl, "psa-"+strings.ToLower(strings.ReplaceAll(ref, "/", "-")))
		if _, err := cl.Clientset().CoreV1().Pods(cl.Namespace).Create(ctx, pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
			t.Errorf("Pod Security restricted refuses the pod template of %s: %v", ref, err)
		}
		bad := pod.DeepCopy()
		bad.Spec.SecurityContext = nil
		for i := range bad.Spec.Containers {
			bad.Spec.Containers[i].SecurityContext = nil
		}
		if _, err := cl.Clientset().CoreV1().Pods(cl.Namespace).Create(ctx, bad, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err == nil || !strings.Contains(err.Error(), "restricted") {
			t.Errorf("%s without security contexts was not refused by Pod Security: %v", ref, err)
		}
	}
}

func podFrom(t *testing.T, tmpl map[string]any, name string) *corev1.Pod {
	t.Helper()
	var pt corev1.PodTemplateSpec
	b, _ := json.Marshal(tmpl)
	if err := json.Unmarshal(b, &pt); err != nil {
		t.Fatal(err)
	}
	if len(name) > 63 {
		name = name[:63]
	}
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: strings.TrimRight(name, "-"), Labels: pt.Labels, Annotations: pt.Annotations}, Spec: pt.Spec}
}

// completeJobs stands in for the job controller and kubelet this test
// server lacks: it marks every Job that appears in ns as succeeded, so
// Helm's hook wait (which watches for the Complete condition) returns. It
// is the one mock here: a finished pod cannot be provoked without a node.
func completeJobs(t *testing.T, cl *kuberelease.Client, ns string) (stop func(), seen func() []string) {
	ctx, cancel := context.WithCancel(context.Background())
	jobs := cl.Clientset().BatchV1().Jobs(ns)
	w, err := jobs.Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	names := make(chan string, 100)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range w.ResultChan() {
			j, ok := ev.Object.(*batchv1.Job)
			if st, ok := ev.Object.(*metav1.Status); ok {
				t.Logf("watch error: %s", st.Message)
			}
			if !ok || ev.Type != watch.Added {
				continue
			}
			now := metav1.Now()
			j.Status = batchv1.JobStatus{StartTime: &now, CompletionTime: &now, Succeeded: 1,
				Conditions: []batchv1.JobCondition{
					{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, LastTransitionTime: now, LastProbeTime: now},
					{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: now, LastProbeTime: now},
				}}
			if _, err := jobs.UpdateStatus(ctx, j, metav1.UpdateOptions{}); err != nil && ctx.Err() == nil {
				t.Errorf("complete job %s: %v", j.Name, err)
			}
			names <- j.Name
		}
	}()
	return func() { cancel(); w.Stop(); <-done }, func() []string {
		var out []string
		for {
			select {
			case n := <-names:
				out = append(out, n)
			default:
				return out
			}
		}
	}
}

// TestInstallUpgradeRollback installs the app chart with the Helm SDK
// against the real server (migrations hook included), upgrades it with a
// new image digest, and rolls it back.
func TestInstallUpgradeRollback(t *testing.T) {
	k := testenv.SharedKubeAPI(t)
	ctx := context.Background()
	ns := fmt.Sprintf("release-%d", time.Now().UnixNano()%100000)
	cl := newClient(t, k, ns)
	c := baseConfig("cal", ns)
	c.Database = kubechart.Database{Mode: "external", Port: 5432, EgressCIDRs: []string{"10.0.0.0/8"}}
	dir := t.TempDir()
	secret, _ := renderAll(t, cl, c, nil, dir)
	if _, err := cl.Apply(ctx, secret.Data, false); err != nil {
		t.Fatal(err)
	}
	stop, seen := completeJobs(t, cl, ns)
	defer stop()
	ch, err := kuberelease.LoadChart(filepath.Join(dir, kubechart.AppChartDir))
	if err != nil {
		t.Fatal(err)
	}
	hasNodes, err := cl.HasNodes(ctx)
	if err != nil || hasNodes {
		t.Fatalf("HasNodes = %v, %v; the test server has no nodes", hasNodes, err)
	}
	rel, action, err := cl.Install(ctx, ch, c.Release, kuberelease.InstallOptions{Timeout: 20 * time.Second})
	if err != nil {
		j, jerr := cl.Clientset().BatchV1().Jobs(ns).Get(ctx, "cal-migrate", metav1.GetOptions{})
		if jerr == nil {
			b, _ := json.MarshalIndent(j.Status, "", " ")
			t.Logf("job status: %s", b)
		}
		t.Logf("seen: %v", seen())
	}
	if err != nil || action != "install" || rel.Version != 1 {
		t.Fatalf("install: action=%s err=%v", action, err)
	}
	if got := seen(); len(got) != 1 || got[0] != "cal-migrate" {
		t.Fatalf("hook jobs run on install: %v, want [cal-migrate]", got)
	}
	image := func() string {
		d, err := cl.Clientset().AppsV1().Deployments(ns).Get(ctx, "cal-web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return d.Spec.Template.Spec.Containers[0].Image
	}
	if got := image(); !strings.HasSuffix(got, "@"+digest) {
		t.Fatalf("web image %s is not pinned to the digest", got)
	}
	states, err := cl.States(ctx, rel.Manifest, hasNodes)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range states {
		if s.State == "missing" || s.State == "failed" {
			t.Errorf("%s/%s: %s %s", s.Kind, s.Name, s.State, s.Detail)
		}
		if s.Kind == "Deployment" && s.State != "stored" {
			t.Errorf("Deployment %s: state %s without nodes, want stored", s.Name, s.State)
		}
	}
	// upgrade: a new build of the image
	c2 := c
	digest2 := "sha256:" + strings.Repeat("ab", 32)
	c2.Images.Web = "registry.example.com/calcom/web@" + digest2
	dir2 := t.TempDir()
	renderAll(t, cl, c2, nil, dir2)
	ch2, err := kuberelease.LoadChart(filepath.Join(dir2, kubechart.AppChartDir))
	if err != nil {
		t.Fatal(err)
	}
	rel2, action, err := cl.Install(ctx, ch2, c.Release, kuberelease.InstallOptions{Timeout: time.Minute})
	if err != nil || action != "upgrade" || rel2.Version != 2 {
		t.Fatalf("upgrade: action=%s err=%v", action, err)
	}
	if got := seen(); len(got) != 1 || got[0] != "cal-migrate" {
		t.Fatalf("hook jobs run on upgrade: %v, want [cal-migrate] (migrations before the rollout)", got)
	}
	if got := image(); !strings.HasSuffix(got, "@"+digest2) {
		t.Fatalf("after upgrade web image is %s", got)
	}
	if err := cl.Rollback(ctx, c.Release, 1, kuberelease.InstallOptions{Timeout: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if got := image(); !strings.HasSuffix(got, "@"+digest) {
		t.Fatalf("after rollback web image is %s, want the first digest", got)
	}
	h, err := cl.History(c.Release)
	if err != nil || len(h) != 3 || h[2].Info.Status != "deployed" || h[1].Info.Status != "superseded" {
		t.Fatalf("history after rollback: %d revisions, err %v", len(h), err)
	}
}
