package kubeinstall

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/calctl/calctl/installer"
	"github.com/calctl/calctl/installer/contract"
	"github.com/calctl/calctl/installer/kubechart"
	"github.com/calctl/calctl/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.KubeMain(m)) }

const image = "registry.example.com/calcom/web@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func answers(t *testing.T, kubeconfig, ns string, extra ...string) (*contract.Answers, error) {
	t.Helper()
	a, err := contract.DecodeAnswers([]byte(`
target: kubernetes
public_url: https://cal.example.com
database: {mode: external, url_env: DATABASE_URL}
billing: {endpoint: https://billing.example.com, deployment_id: dep_1, live_since: 2026-01-01}
kubernetes:
  registry: registry.example.com/calcom/web
  tls: {issuer: letsencrypt}
`))
	if err != nil {
		t.Fatal(err)
	}
	a.InstallDir = t.TempDir()
	a.Source.Dir = a.InstallDir + "/src"
	a.Kubernetes.Kubeconfig, a.Kubernetes.Namespace = kubeconfig, ns
	for _, kv := range extra {
		k, v, _ := strings.Cut(kv, "=")
		if err := a.Set(k, v); err != nil {
			return nil, err
		}
	}
	return a, a.Finish()
}

func env() installer.EnvSecrets {
	return installer.EnvSecrets{DatabaseURL: "postgresql://calcom:pw@db.example.com:5432/calendso?sslmode=verify-full", BillingToken: "tok", SigningSecret: "sig"}
}

// steps runs the plan after clone and image (the image is given).
func steps(t *testing.T, a *contract.Answers, dryRun bool) (*installer.State, []contract.Event, error) {
	r := &run{image: image}
	s := &installer.State{Answers: a, Env: env(), DryRun: dryRun, Repo: installer.Repo{Commit: "abc", HasAPI: true, APIDir: "apps/api/v1"}}
	var evs []contract.Event
	e := &installer.Engine{Sink: func(ev contract.Event) { evs = append(evs, ev) }}
	err := e.Run(context.Background(), []installer.Step{secretsStep{r}, renderStep{r}, installer.WriteStep(), releaseStep{r}}, s)
	return s, evs, err
}

// TestInstallDryRunThenInstall: --dry-run writes nothing and has the
// server accept every object; the install applies the Secret and installs
// the release; a second install keeps the Secret and the manifest file
// byte for byte.
func TestInstallDryRunThenInstall(t *testing.T) {
	k := testenv.SharedKubeAPI(t)
	a, err := answers(t, k.Kubeconfig, "e2e-install", "migrate.skip=true")
	if err != nil {
		t.Fatal(err)
	}
	_, evs, err := steps(t, a, true)
	if err != nil {
		t.Fatalf("dry run: %v", err)
	}
	var objs []string
	for _, ev := range evs {
		if ev.Type == contract.EventChange && ev.Step == contract.StepRelease {
			objs = append(objs, ev.Path+" "+ev.Action)
		}
		if ev.Type == contract.EventChange && strings.HasPrefix(ev.Path, "secrets/") && strings.Contains(ev.Diff, "NEXTAUTH_SECRET: ") && !strings.Contains(ev.Diff, "NEXTAUTH_SECRET: ****") {
			t.Errorf("dry-run diff shows a secret value:\n%s", ev.Diff)
		}
	}
	if len(objs) < 10 || !strings.Contains(strings.Join(objs, "\n"), "Deployment/calcom-web created") {
		t.Fatalf("dry run reported %d objects: %v", len(objs), objs)
	}
	if _, err := os.Stat(a.InstallDir + "/chart"); err == nil {
		t.Fatal("dry run wrote the chart")
	}
	s, _, err := steps(t, a, false)
	if err != nil {
		t.Fatalf("install: %v", err)
	}
	manifest, err := os.ReadFile(s.Path(kubechart.SecretPath("calcom")))
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(s.Path(kubechart.SecretPath("calcom"))); st.Mode().Perm() != 0o600 {
		t.Fatalf("secret manifest mode %v", st.Mode().Perm())
	}
	values, _ := os.ReadFile(s.Path(kubechart.AppChartDir + "/values.yaml"))
	if strings.Contains(string(values), s.Secrets.NextAuthSecret.Reveal()) || strings.Contains(string(values), "pw@db") {
		t.Fatal("values.yaml holds a secret")
	}
	if _, _, err := steps(t, a, false); err != nil {
		t.Fatalf("second install (upgrade): %v", err)
	}
	again, _ := os.ReadFile(s.Path(kubechart.SecretPath("calcom")))
	if string(again) != string(manifest) {
		t.Fatal("a second install changed the Secret manifest")
	}
}

// TestValidAnswersNeverRejected draws random answers, half of them
// nonsense: whatever passes validation must render objects the real API
// server accepts (server-side apply, dryRun=All).
func TestValidAnswersNeverRejected(t *testing.T) {
	k := testenv.SharedKubeAPI(t)
	rng := rand.New(rand.NewPCG(17, 42))
	// pick draws from the valid values, and one time in eight from all of them
	pick := func(xs ...string) string {
		valid := xs
		for i, x := range xs {
			if x == "|" {
				valid = xs[:i]
				xs = append(append([]string{}, xs[:i]...), xs[i+1:]...)
				break
			}
		}
		if rng.IntN(8) == 0 {
			return xs[rng.IntN(len(xs))]
		}
		return valid[rng.IntN(len(valid))]
	}
	accepted, refused := 0, 0
	for i := 0; i < 24; i++ {
		extra := []string{
			"kubernetes.release=" + pick("cal", "c", "calcom-prod-eu-west-1-blue-xyz", strings.Repeat("a", 30), "|", "Cal", "1cal", "cal-", "cal.com"),
			"kubernetes.replicas.web=" + pick("1", "2", "7", "|", "0", "101"),
			"kubernetes.resources.web.requests.cpu=" + pick("100m", "1", "1.5", "2", "|", "3", "0", "1.5cores", "-1"),
			"kubernetes.resources.web.limits.memory=" + pick("2Gi", "1500M", "1G", "|", "512Mi", "2GB"),
			"kubernetes.ingress_class=" + pick("", "nginx", "traefik.internal", "|", "Nginx", "nginx_"),
			"kubernetes.storage_class=" + pick("", "gp3", "fast.ssd", "|", "Fast_SSD"),
			"kubernetes.database_cidrs=" + pick("10.0.0.0/8", "10.0.0.0/8,192.168.1.0/24", "|", "10.0.0.1/33", "db.example.com"),
			"kubernetes.autoscaling.web.max_replicas=" + pick("0", "10", "|", "1", "150"),
			"kubernetes.autoscaling.api.enabled=" + pick("true", "false", "|", "yes"),
			"kubernetes.tls.issuer_kind=" + pick("ClusterIssuer", "Issuer", "|", "clusterissuer"),
			"kubernetes.backup.enabled=" + pick("true", "false", "|"),
			"kubernetes.backup.schedule=" + pick("0 3 * * *", "*/30 * * * *", "|", "nightly"),
			"kubernetes.cron=" + pick("true", "false", "|", "sometimes"),
			"api.enabled=" + pick("true", "false", "auto", "|", "maybe"),
			"public_url=" + pick("https://cal.example.com", "https://cal.example.com:8443", "http://cal.internal.example", "|", "https://10.1.2.3", "https://localhost"),
		}
		ns := fmt.Sprintf("prop-%d", i)
		a, err := answers(t, k.Kubeconfig, ns, extra...)
		if err != nil {
			refused++
			continue
		}
		accepted++
		if _, _, err := steps(t, a, true); err != nil {
			t.Errorf("answers %v passed validation but the server refused: %v", extra, err)
		}
	}
	if accepted < 3 || refused < 3 {
		t.Fatalf("the draw is not mixed: %d accepted, %d refused", accepted, refused)
	}
	t.Logf("%d valid answer sets accepted by the server, %d refused by validation", accepted, refused)
}
