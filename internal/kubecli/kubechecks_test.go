package kubecli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/internal/cli"
	"github.com/calctl/calctl/internal/kubecli"
	"github.com/calctl/calctl/internal/kubetest"
	"github.com/calctl/calctl/internal/testenv"
)

// run runs calctl-kubernetes (cli.Kube = kubecli's hooks) in process.
func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cli.Kube = kubecli.Hooks
	var out, errb bytes.Buffer
	f := &cli.Factory{IO: cli.IO{In: strings.NewReader(""), Out: &out, Err: &errb}, Getenv: func(string) string { return "" }}
	code = cli.Run(context.Background(), f, args)
	return code, out.String(), errb.String()
}

// startKubeAPI starts this test's own kube-apiserver (the package's
// TestMain belongs to testscript, so the shared one could not be stopped).
func startKubeAPI(t *testing.T) *testenv.KubeAPI {
	t.Helper()
	if _, err := exec.LookPath("etcd"); err != nil {
		testenv.Unavailable(t, "kube-apiserver", fmt.Errorf("etcd not found in PATH (apt-get install etcd-server): %w", err))
	}
	k, err := testenv.StartKubeAPI(context.Background())
	if err != nil {
		t.Fatalf("kube-apiserver: %v", err)
	}
	t.Cleanup(k.Stop)
	return k
}

// TestKubeCommands drives check, bundle and verify for the kubernetes
// target through calctl's command line against a real API server holding
// calctl's charts: every output format of check, the answers' kubernetes:
// block, exit codes for findings, errors and not-ready, the bundle and
// check --from-bundle giving the live results.
func TestKubeCommands(t *testing.T) {
	k := startKubeAPI(t)
	cfg := kubetest.Config("cal", kubetest.Namespace("cli"))
	in := kubetest.InstallOn(t, k, &cfg, true)
	ns := cfg.Namespace
	kc := []string{"--kubeconfig", k.Kubeconfig, "--namespace", ns}

	t.Run("check-formats", func(t *testing.T) {
		for _, o := range []string{"table", "json", "sarif", "junit", "html"} {
			code, out, stderr := run(t, append([]string{"check", "--profile", "kubernetes", "--all", "-o", o}, kc...)...)
			if code != 0 || !strings.Contains(out, "K8S-001") {
				t.Errorf("-o %s: exit %d, stderr %s\n%.400s", o, code, stderr, out)
			}
			if strings.Contains(out, "PG-001") || strings.Contains(out, "DK-001") {
				t.Errorf("-o %s: the kubernetes profile reports non-K8S checks", o)
			}
		}
	})
	var live checks.Report
	t.Run("check-json-all-pass", func(t *testing.T) {
		code, out, _ := run(t, "check", "--kubeconfig", k.Kubeconfig, "--namespace", ns, "-o", "json")
		if code != 0 {
			t.Fatalf("exit %d", code)
		}
		if err := json.Unmarshal([]byte(out), &live); err != nil {
			t.Fatal(err)
		}
		if live.Summary.Fail+live.Summary.Warn+live.Summary.Error+live.Summary.Skip != 0 || live.Summary.Pass < 50 || live.Target.Profile != "kubernetes" {
			t.Errorf("summary %+v, profile %q", live.Summary, live.Target.Profile)
		}
	})
	t.Run("answers-block", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "calctl-answers.yaml"), []byte(fmt.Sprintf(
			"target: kubernetes\npublic_url: https://cal.example.com\nkubernetes:\n  kubeconfig: %s\n  namespace: %s\n  release: cal\n", k.Kubeconfig, ns)), 0o600)
		code, out, stderr := run(t, "check", "--dir", dir, "--only", "K8S-00[1-3]", "-o", "json")
		var rep checks.Report
		if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || rep.Target.Profile != "kubernetes" || len(rep.Results) < 3 {
			t.Errorf("check --dir with kubernetes answers: exit %d\n%.300s\n%s", code, out, stderr)
		}
		for _, r := range rep.Results {
			if r.Status != checks.Pass || r.ID > "K8S-003" {
				t.Errorf("%s %s %s", r.ID, r.Resource, r.Status)
			}
		}
		code, out, _ = run(t, "verify", "--dir", dir)
		if code != 3 || !strings.Contains(out, "release cal in namespace "+ns) {
			t.Errorf("verify --dir: exit %d\n%s", code, out)
		}
	})
	t.Run("bundle-and-from-bundle", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "k.tar.gz")
		code, _, stderr := run(t, append([]string{"bundle", "--profile", "kubernetes", "--out", out}, kc...)...)
		if code != 0 || !strings.Contains(stderr, "wrote "+out) {
			t.Fatalf("bundle: exit %d: %s", code, stderr)
		}
		raw, _ := os.ReadFile(out)
		for key, v := range in.Secrets {
			if len(v) >= 8 && bytes.Contains(raw, v) {
				t.Errorf("bundle holds Secret value %s (compressed stream)", key)
			}
		}
		code, got, _ := run(t, "check", "--from-bundle", out, "-o", "json")
		var rep checks.Report
		if code != 0 || json.Unmarshal([]byte(got), &rep) != nil {
			t.Fatalf("check --from-bundle: exit %d\n%.300s", code, got)
		}
		if len(rep.Results) != len(live.Results) {
			t.Fatalf("from bundle %d results, live %d", len(rep.Results), len(live.Results))
		}
		for i := range rep.Results {
			a, b := rep.Results[i], live.Results[i]
			if a.ID != b.ID || a.Resource != b.Resource || a.Status != b.Status || a.Message != b.Message {
				t.Errorf("from bundle %s %s %s, live %s %s %s", a.ID, a.Resource, a.Status, b.ID, b.Resource, b.Status)
			}
		}
	})
	t.Run("verify", func(t *testing.T) {
		code, out, stderr := run(t, append([]string{"verify", "--release", "cal"}, kc...)...)
		if code != 3 || !strings.Contains(out, "no kubelet runs pods") || !strings.Contains(out, "→ Deployment/cal-web: ") || !strings.Contains(stderr, "not ready") {
			t.Errorf("verify: exit %d\n%s\n%s", code, out, stderr)
		}
		code, out, _ = run(t, append([]string{"verify", "--release", "cal", "-o", "json"}, kc...)...)
		var rep struct {
			Ready bool                     `json:"ready"`
			Items []struct{ State string } `json:"items"`
		}
		if code != 3 || json.Unmarshal([]byte(out), &rep) != nil || rep.Ready || len(rep.Items) < 8 {
			t.Errorf("verify -o json: exit %d\n%.300s", code, out)
		}
		code, _, stderr = run(t, "verify", "--kubeconfig", k.Kubeconfig, "--namespace", "no-such-ns")
		if code != 1 || !strings.Contains(stderr, "namespace no-such-ns does not exist") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("verify, missing namespace: exit %d: %q", code, stderr)
		}
	})
	t.Run("findings-exit-3", func(t *testing.T) {
		cs := in.Client.Clientset()
		if _, err := cs.CoreV1().ConfigMaps(ns).Create(context.Background(), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "leaky"},
			Data: map[string]string{"SMTP_PASSWORD": "hunter2hunter2"}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		defer cs.CoreV1().ConfigMaps(ns).Delete(context.Background(), "leaky", metav1.DeleteOptions{})
		code, out, _ := run(t, append([]string{"check", "--profile", "kubernetes"}, kc...)...)
		if code != 3 || !strings.Contains(out, "K8S-014") || strings.Contains(out, "hunter2") {
			t.Errorf("exit %d\n%s", code, out)
		}
	})
	t.Run("unreachable-exit-4", func(t *testing.T) {
		dead := filepath.Join(t.TempDir(), "dead")
		os.WriteFile(dead, []byte("apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: \"https://127.0.0.1:1\"}}]\nusers: [{name: u, user: {token: x}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n"), 0o600)
		code, _, stderr := run(t, "check", "--profile", "kubernetes", "--kubeconfig", dead, "--timeout", "3s")
		if code != 4 || !strings.Contains(stderr, "calctl: kubernetes collector failed: cannot reach the API server https://127.0.0.1:1") {
			t.Errorf("exit %d: %s", code, stderr)
		}
		for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
			t.Logf("stderr: %s", l)
		}
		code, _, stderr = run(t, "verify", "--kubeconfig", filepath.Join(t.TempDir(), "missing"))
		if code != 1 || !strings.Contains(stderr, "kubeconfig") {
			t.Errorf("verify with a missing kubeconfig: exit %d: %s", code, stderr)
		}
	})
}

// TestKubeChecksHooks: importing kubecli fills the hooks of check, bundle
// and verify.
func TestKubeChecksHooks(t *testing.T) {
	if kubecli.Hooks.KubeFacts == nil || kubecli.Hooks.KubeBundle == nil || kubecli.Hooks.Verify == nil {
		t.Fatalf("hooks missing: %+v", *kubecli.Hooks)
	}
}
