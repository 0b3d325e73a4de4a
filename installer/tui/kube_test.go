package tui

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/calctl/calctl/installer/contract"
	"github.com/charmbracelet/x/ansi"
)

// kubeCfg prefills the kubeconfig as internal/cli does ($KUBECONFIG, then
// ~/.kube/config).
func kubeCfg(c *Config) { c.Kubeconfig = "/root/.kube/config" }

// Paths through the kubernetes pages of the Target screen.
func toKube(d *driver) { toTarget(d); d.keys("down", "down", "enter"); d.see("Kubeconfig") }
func toKubeNames(d *driver) {
	toKube(d)
	d.keys("enter", "enter")
	d.see("Namespace", "Helm release", "Web replicas")
}
func toKubeRegistry(d *driver) {
	toKubeNames(d)
	d.keys("enter", "enter", "enter")
	d.see("Image registry")
}
func toKubeTLS(d *driver) {
	toKubeRegistry(d)
	d.keys("registry.example.com/calcom/web", "enter", "enter")
	d.see("Ingress class")
	d.keys("enter", "enter")
	d.see("Ingress certificate")
}
func toKubeSite(d *driver) {
	toKubeTLS(d)
	d.keys("enter")
	d.see("ClusterIssuer")
	d.keys("letsencrypt-prod", "enter")
	d.see("Postgres")
	d.keys("enter")
	d.see("Public URL")
}
func toKubeReview(d *driver) {
	toKubeSite(d)
	d.keys("https://cal.example.com", "enter")
	d.see("SMTP host")
	d.keys("enter", "enter", "enter", "enter")
	d.see("deployment id")
	d.keys("enter")
	d.see("Review", "plan ready")
}

// TestKubernetesFieldsUseTheContract: a bad namespace, release or registry
// shows, on the screen, the very problem Answers.Validate reports for it:
// the wizard has no rules of its own.
func TestKubernetesFieldsUseTheContract(t *testing.T) {
	for _, tc := range []struct {
		name, path, value string
		to                func(d *driver)
		keys              []string
	}{
		{"namespace", "kubernetes.namespace", "Cal_Com", toKubeNames, nil},
		{"release", "kubernetes.release", "1calcom", toKubeNames, []string{"enter"}},
		{"replicas", "kubernetes.replicas.web", "101", toKubeNames, []string{"enter", "enter"}},
		{"registry", "kubernetes.registry", "registry.example.com/calcom/web:latest", toKubeRegistry, nil},
		{"pull_secret", "kubernetes.pull_secret", "Not_A_Name", toKubeRegistry, []string{"registry.example.com/calcom/web", "enter"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &contract.Answers{InstallDir: "/opt/calcom", Target: contract.TargetKubernetes}
			if err := a.Set(tc.path, tc.value); err != nil {
				t.Fatal(err)
			}
			a.ApplyDefaults() // as the wizard's answers are built
			var want, msg string
			var ae *contract.AnswersError
			if err := a.Validate(); errors.As(err, &ae) {
				// the field shows the first problem at its paths; the
				// replicas field also shows the HPA bounds they set
				for _, p := range ae.Problems {
					if want == "" && (p.Path == tc.path || tc.path == "kubernetes.replicas.web" && p.Path == "kubernetes.autoscaling.web") {
						want, msg = fieldMessage(p), p.Message
					}
				}
			}
			if want == "" {
				t.Fatalf("the contract finds no problem at %s with %q", tc.path, tc.value)
			}
			d := start(t, kubeTestConfig(), 120, 40)
			tc.to(d)
			d.keys(tc.keys...)
			d.keys("ctrl+u", tc.value, "enter")
			d.see(msg)
			m := d.final()
			// the error wraps at the screen's width: read it unwrapped
			var lines []string
			for _, l := range strings.Split(ansi.Strip(m.View()), "\n") {
				lines = append(lines, strings.TrimSpace(l))
			}
			if got := strings.Join(lines, " "); !strings.Contains(got, want) {
				t.Errorf("the screen lacks the contract's %q:\n%s", want, got)
			}
			if m.screen != screenTarget {
				t.Errorf("left the Target screen (%s) with a bad %s", screenNames[m.screen], tc.path)
			}
		})
	}
}

func kubeTestConfig() Config {
	cfg := testConfig(&memBackend{})
	kubeCfg(&cfg)
	return cfg
}

// TestKubernetesHandoff: Enter on the Review of target kubernetes ends the
// wizard with Outcome Handoff and answers the contract accepts; it never
// runs the in-process engine (the lean calctl has no kubernetes plan).
func TestKubernetesHandoff(t *testing.T) {
	b := &memBackend{}
	cfg := testConfig(b)
	kubeCfg(&cfg)
	d := start(t, cfg, 80, 24)
	toKubeReview(d)
	d.keys("enter")
	m := d.tm.FinalModel(t).(*Model)
	res := m.Result()
	if res.Outcome != Handoff {
		t.Fatalf("outcome %d, want Handoff", res.Outcome)
	}
	a := res.Answers
	if err := a.Validate(); err != nil {
		t.Fatalf("the handed-off answers do not validate: %v", err)
	}
	k := a.Kubernetes
	got := fmt.Sprintf("%s %s %s %s %s %d %s %s %s", a.Target, a.Proxy, k.Kubeconfig, k.Namespace, k.Release, k.Replicas.Web, k.Registry, k.TLS.Issuer, k.TLS.Secret)
	want := "kubernetes none /root/.kube/config calcom calcom 2 registry.example.com/calcom/web letsencrypt-prod calcom-tls"
	if got != want {
		t.Errorf("answers %q, want %q", got, want)
	}
	if res.Env.GitToken.Reveal() != "good-token" {
		t.Error("the handoff lost the git token")
	}
	if b.runs != 0 || b.planCalls.Load() != 0 {
		t.Errorf("the engine ran in process: %d runs, %d plans", b.runs, b.planCalls.Load())
	}
}
