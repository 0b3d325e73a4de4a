package installer

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calctl/calctl/installer/contract"
	"github.com/calctl/calctl/internal/secret"
	"github.com/calctl/calctl/internal/testenv"
	"github.com/calctl/calctl/reporter/agentconfig"
)

// fixedSecrets stand in for generated ones so golden files are stable.
var fixedSecrets = Secrets{
	NextAuthSecret:   "TEST-nextauth-secret-base64-44-chars-aaaaaa=",
	EncryptionKey:    "TEST-encryption-key-32-chars-xyz",
	DatabasePassword: "TESTdbpassword0123456789abcdef0123456789abcdef",
}

type renderCase struct {
	name    string
	answers string
	env     map[string]string
	repo    Repo
}

var renderCases = []renderCase{
	{
		name: "compose-bundled",
		answers: `
install_dir: /opt/calcom
source: {url: https://github.com/calcom/cal.com.git, ref: v2.5.0, submodules: flatten}
target: compose
public_url: https://cal.example.com
database: {mode: bundled}
proxy: caddy
email: {host: smtp.example.com, port: 587, user: cal, password_env: SMTP_PASSWORD, from: cal@example.com}
billing: {endpoint: https://billing.example.com, deployment_id: dep_123, live_since: 2026-01-01}
`,
		env:  map[string]string{"SMTP_PASSWORD": "TEST-smtp-password", "CALCTL_BILLING_TOKEN": "TEST-billing-token", "CALCTL_SIGNING_SECRET": "TEST-signing-secret"},
		repo: Repo{Dir: "/opt/calcom/src", NodeEngine: ">=15.x <17", NodeMajor: 16, HasAPI: true, APIDir: "apps/api"},
	},
	{
		name: "compose-rds",
		answers: `
install_dir: /srv/cal
target: compose
public_url: https://cal.example.org
database: {mode: rds, ca_file: /etc/calcom/rds-global-bundle.pem}
proxy: none
`,
		env:  map[string]string{"DATABASE_URL": "postgresql://calcom:TEST-rds-password@cal.abc123.eu-west-1.rds.amazonaws.com:5432/calcom"},
		repo: Repo{Dir: "/srv/cal/src", NodeEngine: ">=18.x", NodeMajor: 18},
	},
	{
		name: "pm2-external",
		answers: `
install_dir: /opt/calcom
target: pm2
public_url: https://cal.example.net
database: {mode: external, url_env: CAL_DB_URL}
proxy: caddy
pm2: {node: /usr/local/bin/node, instances: 2, max_memory_restart: 2G}
billing: {endpoint: https://billing.example.com, deployment_id: dep_456, live_since: 2026-02-01}
`,
		env:  map[string]string{"CAL_DB_URL": "postgresql://cal:TEST-ext-password@db.internal.example.net:5432/cal?sslmode=require", "CALCTL_BILLING_TOKEN": "TEST-billing-token", "CALCTL_SIGNING_SECRET": "TEST-signing-secret"},
		repo: Repo{Dir: "/opt/calcom/src", NodeMajor: 18, HasAPI: true, APIDir: "apps/api/v1"},
	},
}

func loadCase(t *testing.T, c renderCase) (*Answers, EnvSecrets) {
	t.Helper()
	a, err := contract.DecodeAnswers([]byte(c.answers))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Finish(); err != nil {
		t.Fatal(err)
	}
	env, err := a.ResolveEnv(func(k string) string { return c.env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return a, env
}

func TestRenderGolden(t *testing.T) {
	for _, c := range renderCases {
		t.Run(c.name, func(t *testing.T) {
			a, env := loadCase(t, c)
			files, err := RenderFiles(a, env, c.repo, fixedSecrets)
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join("testdata", "golden", c.name)
			if testenv.Updating() {
				os.RemoveAll(dir)
			}
			seen := map[string]bool{}
			for _, f := range files {
				seen[f.Path] = true
				testenv.Golden(t, filepath.Join(dir, f.Path), f.Data)
				if f.Secret && f.Mode.Perm() != 0o600 || strings.HasPrefix(f.Path, "agent/agent.") && f.Mode.Perm() != 0o600 {
					t.Errorf("%s: mode %v, secret files must be 0600", f.Path, f.Mode)
				}
				if !f.Secret && !strings.HasSuffix(f.Path, "agent.yaml") {
					for _, v := range []string{fixedSecrets.NextAuthSecret.Reveal(), fixedSecrets.EncryptionKey.Reveal(), fixedSecrets.DatabasePassword.Reveal(), "TEST-smtp-password", "TEST-billing-token", "TEST-rds-password", "TEST-ext-password"} {
						if bytes.Contains(f.Data, []byte(v)) {
							t.Errorf("%s is not a secret file but holds a secret", f.Path)
						}
					}
				}
				if f.Path == "agent/agent.yaml" {
					if _, err := agentconfig.Parse(f.Data); err != nil {
						t.Errorf("rendered agent.yaml is refused by the agent: %v", err)
					}
				}
				if f.Path == "docker-compose.yml" {
					p, err := LoadCompose(context.Background(), a.InstallDir, "calcom", f.Data)
					if err != nil {
						t.Fatalf("compose-go: %v", err)
					}
					checkComposeShape(t, c.name, p.ServiceNames())
				}
			}
			if !testenv.Updating() {
				entries, _ := filepath.Glob(filepath.Join(dir, "*"))
				more, _ := filepath.Glob(filepath.Join(dir, "*", "*"))
				for _, e := range append(entries, more...) {
					if st, _ := os.Stat(e); st.IsDir() {
						continue
					}
					rel, _ := filepath.Rel(dir, e)
					if !seen[filepath.ToSlash(rel)] {
						t.Errorf("golden %s is no longer rendered (go test -update)", rel)
					}
				}
			}
		})
	}
}

func checkComposeShape(t *testing.T, name string, services []string) {
	t.Helper()
	got := strings.Join(services, ",")
	want := map[string]string{
		"compose-bundled": "agent,api,database,proxy,web",
		"compose-rds":     "web",
	}[name]
	if got != want {
		t.Errorf("services = %s, want %s", got, want)
	}
}

// TestRenderedComposeRules feeds broken variants of a rendered compose file
// to LoadCompose and expects each rule to catch its break.
func TestRenderedComposeRules(t *testing.T) {
	a, env := loadCase(t, renderCases[0])
	files, err := RenderFiles(a, env, renderCases[0].repo, fixedSecrets)
	if err != nil {
		t.Fatal(err)
	}
	var compose string
	for _, f := range files {
		if f.Path == "docker-compose.yml" {
			compose = string(f.Data)
		}
	}
	tests := []struct{ name, from, to, want string }{
		{"latest postgres", "postgres:16-alpine", "postgres:latest", "not pinned"},
		{"published db", "      - db.env\n", "      - db.env\n    ports:\n      - \"5432:5432\"\n", "publishes a port"},
		{"web on all interfaces", `"127.0.0.1:3000:3000"`, `"3000:3000"`, "want 127.0.0.1"},
		{"restart always", "restart: unless-stopped", "restart: always", "unless-stopped"},
		{"bad yaml", "services:", "services: [", "does not load"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			broken := strings.Replace(compose, tt.from, tt.to, 1)
			if broken == compose {
				t.Fatalf("replacement %q not found", tt.from)
			}
			_, err := LoadCompose(context.Background(), a.InstallDir, "calcom", []byte(broken))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestPM2EcosystemLoadsInNode renders the pm2 case into a temp install_dir
// and loads ecosystem.config.js with the machine's real node.
func TestPM2EcosystemLoadsInNode(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Unavailable(t, "node", err) // node is part of the pm2 target's own requirements
	}
	c := renderCases[2]
	a, env := loadCase(t, c)
	a.InstallDir = t.TempDir()
	a.Source.Dir = filepath.Join(a.InstallDir, "src")
	a.PM2.LogDir = filepath.Join(a.InstallDir, "logs")
	files, err := RenderFiles(a, env, c.repo, fixedSecrets)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		p := filepath.Join(a.InstallDir, f.Path)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, f.Data, f.Mode); err != nil {
			t.Fatal(err)
		}
	}
	script := `const c = require('./ecosystem.config.js');
const w = c.apps[0];
if (c.apps.length !== 2) throw new Error('want web and api apps');
if (w.env.NEXTAUTH_SECRET !== process.argv[1]) throw new Error('env not read from .env');
if (w.env.NEXT_PUBLIC_WEBAPP_URL !== 'https://cal.example.net') throw new Error('public url');
if (w.exec_mode !== 'cluster' || w.instances !== 2 || w.max_memory_restart !== '2G') throw new Error('pm2 options');
if (w.interpreter !== '/usr/local/bin/node' || !w.args.includes('127.0.0.1')) throw new Error('interpreter/listen');
console.log(c.apps.map(a => a.name + ' ' + a.cwd).join('\n'));`
	cmd := exec.Command(node, "-e", script, fixedSecrets.NextAuthSecret.Reveal())
	cmd.Dir = a.InstallDir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "calcom-api "+filepath.Join(a.Source.Dir, "apps/api/v1")) {
		t.Errorf("node printed %s", out)
	}
}

func TestDatabaseURLTLS(t *testing.T) {
	tests := []struct {
		mode, target, ca, in, want string
	}{
		{DBRDS, TargetCompose, "/etc/rds.pem", "postgresql://u:p@h.rds.amazonaws.com/cal", "postgresql://u:p@h.rds.amazonaws.com/cal?sslmode=verify-full&sslrootcert=/etc/calcom/db-ca.pem"},
		{DBRDS, TargetPM2, "/etc/rds.pem", "postgresql://u:p@h.rds.amazonaws.com/cal", "postgresql://u:p@h.rds.amazonaws.com/cal?sslmode=verify-full&sslrootcert=/etc/rds.pem"},
		{DBExternal, TargetPM2, "", "postgresql://u:p@db/cal?sslmode=require", "postgresql://u:p@db/cal?sslmode=require"},
		{DBExternal, TargetPM2, "/ca.pem", "postgresql://u:p@db/cal", "postgresql://u:p@db/cal?sslmode=verify-full&sslrootcert=/ca.pem"},
	}
	for _, tt := range tests {
		a := &Answers{Target: tt.target, Database: Database{Mode: tt.mode, CAFile: tt.ca, URLEnv: "X"}}
		got, err := DatabaseURL(a, EnvSecrets{DatabaseURL: secret.Secret(tt.in)}, Secrets{})
		if err != nil || got != tt.want {
			t.Errorf("DatabaseURL(%s %s) = %q, %v; want %q", tt.mode, tt.target, got, err, tt.want)
		}
	}
}

// BenchmarkRenderFiles measures rendering every file of the compose/bundled
// case (templates parsed on each call, as Render does).
func BenchmarkRenderFiles(b *testing.B) {
	c := renderCases[0]
	a, err := contract.DecodeAnswers([]byte(c.answers))
	if err != nil {
		b.Fatal(err)
	}
	if err := a.Finish(); err != nil {
		b.Fatal(err)
	}
	env, _ := a.ResolveEnv(func(k string) string { return c.env[k] })
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := RenderFiles(a, env, c.repo, fixedSecrets); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadCompose measures loading a rendered compose file with compose-go.
func BenchmarkLoadCompose(b *testing.B) {
	c := renderCases[0]
	a, _ := contract.DecodeAnswers([]byte(c.answers))
	a.Finish()
	env, _ := a.ResolveEnv(func(k string) string { return c.env[k] })
	files, err := RenderFiles(a, env, c.repo, fixedSecrets)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := LoadCompose(context.Background(), a.InstallDir, "calcom", files[0].Data); err != nil {
			b.Fatal(err)
		}
	}
}
