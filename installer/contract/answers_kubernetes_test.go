package contract

import (
	"errors"
	"strings"
	"testing"
)

const goodKubeAnswers = `
install_dir: /opt/calcom
target: kubernetes
public_url: https://cal.example.com
database: {mode: rds, url_env: DATABASE_URL, ca_file: /etc/calcom/rds.pem}
kubernetes:
  namespace: calcom
  release: cal
  registry: registry.example.com/calcom/web
  pull_secret: regcred
  replicas: {web: 3}
  autoscaling: {web: {max_replicas: 9}}
  tls: {issuer: letsencrypt}
  resources: {web: {limits: {memory: 3Gi}}}
  database_cidrs: [10.20.0.0/16]
  backup: {enabled: true}
`

func TestKubernetesAnswersDefaults(t *testing.T) {
	a, err := DecodeAnswers([]byte(goodKubeAnswers))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Finish(); err != nil {
		t.Fatal(err)
	}
	k := a.Kubernetes
	if k.Autoscaling.Web.MinReplicas != 3 || k.Autoscaling.Web.MaxReplicas != 9 || k.Autoscaling.Web.Enabled != "true" || k.Autoscaling.API.Enabled != "false" {
		t.Errorf("autoscaling defaults: %+v", k.Autoscaling)
	}
	if k.APIHost != "api.cal.example.com" || k.TLS.Secret != "cal-tls" || k.TLS.IssuerKind != "ClusterIssuer" || k.IngressNamespace != "ingress-nginx" {
		t.Errorf("ingress defaults: %+v", k)
	}
	if k.Resources.Web.Limits.Memory != "3Gi" || k.Resources.Web.Requests.Memory != "1Gi" || k.Backup.Keep != 7 || k.Timeout != "10m" {
		t.Errorf("resource/backup defaults: %+v %+v", k.Resources.Web, k.Backup)
	}
}

func TestKubernetesAnswersRefused(t *testing.T) {
	for _, tc := range []struct {
		name, from, to, path string
	}{
		{"no registry", "  registry: registry.example.com/calcom/web\n", "", "kubernetes.registry"},
		{"registry with tag", "registry.example.com/calcom/web", "registry.example.com/calcom/web:latest", "kubernetes.registry"},
		{"upper-case namespace", "namespace: calcom", "namespace: CalCom", "kubernetes.namespace"},
		{"system namespace", "namespace: calcom", "namespace: kube-system", "kubernetes.namespace"},
		{"release starts with digit", "release: cal", "release: 1cal", "kubernetes.release"},
		{"release too long", "release: cal", "release: " + strings.Repeat("c", MaxReleaseLen+1), "kubernetes.release"},
		{"request above limit", "limits: {memory: 3Gi}", "limits: {memory: 512Mi}", "kubernetes.resources.web.requests.memory"},
		{"bad quantity", "limits: {memory: 3Gi}", "limits: {memory: 3GB}", "kubernetes.resources.web.limits.memory"},
		{"min above max", "max_replicas: 9", "max_replicas: 2", "kubernetes.autoscaling.web"},
		{"no certificate source", "tls: {issuer: letsencrypt}", "tls: {issuer: \"\"}", "kubernetes.tls"},
		{"bad cidr", "10.20.0.0/16", "10.20.0.0/33", "kubernetes.database_cidrs[0]"},
		{"bad pull secret", "pull_secret: regcred", "pull_secret: Reg_Cred", "kubernetes.pull_secret"},
		{"ip public url", "public_url: https://cal.example.com", "public_url: https://10.0.0.5", "kubernetes.(public_url)"},
		{"proxy caddy", "target: kubernetes", "target: kubernetes\nproxy: caddy", "proxy"},
		{"bad backup schedule", "backup: {enabled: true}", "backup: {enabled: true, schedule: \"every night\"}", "kubernetes.backup.schedule"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(goodKubeAnswers, tc.from, tc.to, 1)
			if src == goodKubeAnswers {
				t.Fatalf("replacement %q not found", tc.from)
			}
			a, err := DecodeAnswers([]byte(src))
			if err == nil {
				err = a.Finish()
			}
			var ae *AnswersError
			if !errors.As(err, &ae) {
				t.Fatalf("want AnswersError, got %v", err)
			}
			for _, p := range ae.Problems {
				if p.Path == tc.path {
					return
				}
			}
			t.Errorf("no problem at %s: %v", tc.path, err)
		})
	}
}

// TestKubernetesHPAMaxDefault: the default HPA maximum (3 × the replicas)
// stays within the rules' 100, so many replicas are not refused for a value
// the user never gave (the wizard's replicas field met it).
func TestKubernetesHPAMaxDefault(t *testing.T) {
	for _, tc := range []struct{ web, max int }{{2, 6}, {33, 99}, {40, 100}, {100, 100}} {
		a := &Answers{InstallDir: "/opt/calcom", Target: TargetKubernetes, Proxy: ProxyNone, PublicURL: "http://cal.example.com"}
		a.Kubernetes.Registry = "registry.example.com/calcom/web"
		a.Kubernetes.Replicas.Web = tc.web
		a.ApplyDefaults()
		if got := a.Kubernetes.Autoscaling.Web.MaxReplicas; got != tc.max {
			t.Errorf("web %d: max_replicas %d, want %d", tc.web, got, tc.max)
		}
		if err := a.Validate(); err != nil {
			t.Errorf("web %d: %v", tc.web, err)
		}
	}
}
