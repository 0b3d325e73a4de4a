// Package kubetest installs calctl's rendered Helm charts into a namespace
// of the real test kube-apiserver (internal/testenv.SharedKubeAPI) for the
// tests of the K8S checks, the bundle and verify. It is imported by tests
// only.
package kubetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/calctl/calctl/installer/kubechart"
	"github.com/calctl/calctl/installer/kuberelease"
	"github.com/calctl/calctl/internal/testenv"
)

// Digest is a fake image digest; no image is pulled (no kubelet runs).
const Digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// Config is a full-featured chart config with every image pinned by digest:
// web and API with HPA and PDB, ingress with TLS, the bundled database,
// migrations, agent, a cron route and backups.
func Config(release, ns string) kubechart.Config {
	res := kubechart.Resources{Requests: kubechart.ResourceList{CPU: "250m", Memory: "512Mi"}, Limits: kubechart.ResourceList{CPU: "1", Memory: "1Gi"}}
	return kubechart.Config{
		Release: release, Namespace: ns, PublicURL: "https://cal.example.com", AppVersion: "abc1234",
		Images: kubechart.Images{Web: "registry.example.com/calcom/web@" + Digest, Calctl: "ghcr.io/calctl/calctl@" + Digest, Postgres: "docker.io/library/postgres@" + Digest},
		Web:    kubechart.Workload{Enabled: true, Port: 3000, Replicas: 2, Autoscaling: kubechart.Autoscaling{Enabled: true, MinReplicas: 2, MaxReplicas: 6, TargetCPU: 70}, Resources: res},
		API:    kubechart.Workload{Enabled: true, Port: 3003, Replicas: 2, Resources: res},
		APIDir: "apps/api/v1",
		Ingress: kubechart.Ingress{Enabled: true, ClassName: "nginx", Host: "cal.example.com", APIHost: "api.cal.example.com", ControllerNamespace: "ingress-nginx",
			TLS: kubechart.TLS{Enabled: true, ClusterIssuer: "letsencrypt", SecretName: release + "-tls"}},
		Database:     kubechart.Database{Mode: "bundled", Port: 5432, Name: "calendso", User: "calcom", Storage: "20Gi", Resources: res},
		Migrate:      kubechart.Migrate{Enabled: true, Command: []string{"npx", "prisma", "migrate", "deploy", "--schema", "packages/prisma/schema.prisma"}, TimeoutSeconds: 1800},
		Agent:        kubechart.Agent{Enabled: true, Config: "deployment_id: dep_1\nendpoint: https://billing.example.com\n", Storage: "1Gi", BillingPort: 443, Resources: res},
		Cron:         kubechart.Cron{Routes: []kubechart.CronRoute{{Name: "bookingreminder", Path: "/api/cron/bookingReminder", Schedule: "*/15 * * * *"}}, Resources: res},
		Backup:       kubechart.Backup{Enabled: true, Schedule: "17 3 * * *", Storage: "50Gi", Keep: 7},
		EmailPort:    587,
		JobResources: res,
	}
}

var seq atomic.Int64

// Namespace returns a fresh namespace name with prefix.
func Namespace(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano()%100000, seq.Add(1))
}

// Installed is a chart applied to the test server.
type Installed struct {
	API    *testenv.KubeAPI    // the server it is on
	Client *kuberelease.Client // a client for its namespace
	Config kubechart.Config    // what was rendered (SecretChecksum set)
	// Secrets are the values of the release Secret calctl generated
	// (key → value), for leak tests.
	Secrets map[string][]byte
	// Manifest is everything applied.
	Manifest []byte
}

func genSecret(string) (string, error) {
	b := make([]byte, 24)
	_, err := rand.Read(b)
	return hex.EncodeToString(b), err
}

// Install is InstallWith(t, c, false).
func Install(t testing.TB, c *kubechart.Config) *Installed { return InstallWith(t, c, false) }

// InstallWith renders c (Config(...) when nil) and applies the Secret and both
// charts' objects (hooks included: the migrations Job stays, as no job
// controller runs) into a namespace created the way calctl install creates
// it (Pod Security restricted), by server-side apply.
//
// With helm, the Secret is applied and both charts are installed as Helm
// releases through the SDK instead (so the releases are "deployed"); a
// watcher stands in for the job controller and kubelet this server lacks and
// marks each hook Job complete, or Helm would wait for it forever. Helm then
// deletes the migrations Job (hook-delete-policy hook-succeeded).
func InstallWith(t testing.TB, c *kubechart.Config, helm bool) *Installed {
	t.Helper()
	return InstallOn(t, testenv.SharedKubeAPI(t), c, helm)
}

// InstallOn is InstallWith on a given API server.
func InstallOn(t testing.TB, k *testenv.KubeAPI, c *kubechart.Config, helm bool) *Installed {
	t.Helper()
	ctx := context.Background()
	if c == nil {
		cfg := Config("cal", Namespace("chart"))
		c = &cfg
	}
	cl, err := kuberelease.New(kuberelease.Target{Kubeconfig: k.Kubeconfig, Namespace: c.Namespace})
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.EnsureNamespace(ctx, false); err != nil {
		t.Fatal(err)
	}
	in := kubechart.SecretInputs{EmailHost: "smtp.example.com", EmailFrom: "cal@example.com", EmailFromName: "Cal.com", EmailUser: "cal",
		SMTPPassword: "smtp-" + mustGen(t), BillingToken: "tok-" + mustGen(t), SigningSecret: "sig-" + mustGen(t)}
	data, _, err := kubechart.BuildSecrets(*c, in, genSecret)
	if err != nil {
		t.Fatal(err)
	}
	c.SecretChecksum = kubechart.Checksum(data)
	files, err := kubechart.Render(*c)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, f := range files {
		p := filepath.Join(dir, f.Path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, f.Mode); err != nil {
			t.Fatal(err)
		}
	}
	all := append([]byte(nil), kubechart.SecretManifest(c.Release, c.Namespace, data).Data...)
	if helm {
		if _, err := cl.Apply(ctx, all, false); err != nil {
			t.Fatalf("apply the Secret: %v", err)
		}
		stop := completeJobs(t, cl, c.Namespace)
		defer stop()
	}
	for _, cd := range []struct{ dir, release string }{{kubechart.AppChartDir, c.Release}, {kubechart.DatabaseChartDir, kubechart.DatabaseRelease(c.Release)}} {
		if _, err := os.Stat(filepath.Join(dir, cd.dir)); err != nil {
			continue
		}
		ch, err := kuberelease.LoadChart(filepath.Join(dir, cd.dir))
		if err != nil {
			t.Fatal(err)
		}
		if helm {
			rel, _, err := cl.Install(ctx, ch, cd.release, kuberelease.InstallOptions{Timeout: time.Minute})
			if err != nil {
				t.Fatalf("helm install %s: %v", cd.release, err)
			}
			for _, h := range rel.Hooks {
				all = append(all, "\n---\n"+h.Manifest...)
			}
			all = append(all, "\n---\n"+rel.Manifest...)
			continue
		}
		r, err := cl.Template(ch, cd.release)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, r.All()...)
	}
	if helm {
		return &Installed{API: k, Client: cl, Config: *c, Secrets: data, Manifest: all}
	}
	if _, err := cl.Apply(ctx, all, false); err != nil {
		t.Fatalf("apply the chart: %v", err)
	}
	return &Installed{API: k, Client: cl, Config: *c, Secrets: data, Manifest: all}
}

func mustGen(t testing.TB) string {
	s, err := genSecret("")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// completeJobs marks every Job created in ns as succeeded through the
// status subresource: the one fake here, for the job controller and kubelet
// the test server does not run.
func completeJobs(t testing.TB, cl *kuberelease.Client, ns string) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	jobs := cl.Clientset().BatchV1().Jobs(ns)
	w, err := jobs.Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range w.ResultChan() {
			j, ok := ev.Object.(*batchv1.Job)
			if !ok || ev.Type != watch.Added {
				continue
			}
			CompleteJob(j)
			if _, err := jobs.UpdateStatus(ctx, j, metav1.UpdateOptions{}); err != nil && ctx.Err() == nil {
				t.Errorf("complete job %s: %v", j.Name, err)
			}
		}
	}()
	return func() { cancel(); w.Stop(); <-done }
}

// CompleteJob sets j's status to what the job controller writes when its
// one pod succeeded.
func CompleteJob(j *batchv1.Job) {
	now := metav1.Now()
	j.Status = batchv1.JobStatus{StartTime: &now, CompletionTime: &now, Succeeded: 1,
		Conditions: []batchv1.JobCondition{
			{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, LastTransitionTime: now, LastProbeTime: now},
			{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: now, LastProbeTime: now},
		}}
}
