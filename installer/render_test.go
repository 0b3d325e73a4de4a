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
	// the bundled database's superuser (db.env only)
	SuperuserPassword: "TESTsuperuser0123456789abcdef0123456789abcdef",
	CronAPIKey:        "TESTcronapikey0123456789abcdef0123456789abcdef",
	CronSecret:        "TESTcronsecret0123456789abcdef0123456789abcdef",
	DBTLS:             loadDBTLSFixture(),
}

type renderCase struct {
	name    string
	answers string
	env     map[string]string
	// tree is the fixture tree (testdata/trees/<tree>) the install renders for
	tree string
}

// repo inspects the case's fixture tree as the clone step does.
func (c renderCase) repo(t testing.TB) Repo {
	t.Helper()
	r, err := InspectRepo(filepath.Join("testdata", "trees", c.tree))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// secrets are fixedSecrets plus the license key the case's answers name.
func (c renderCase) secrets(env EnvSecrets) Secrets {
	s := fixedSecrets
	s.LicenseKey = env.LicenseKey
	return s
}

// renderCases cover the three vintages of issue 9 (2022, 2023, 2025), both
// targets, every database mode and both proxies.
var renderCases = []renderCase{
	{
		name: "compose-2022-bundled",
		answers: `
install_dir: /opt/calcom
source: {url: https://github.com/calcom/cal.com.git, ref: v1.9.0, submodules: flatten}
target: compose
public_url: https://cal.example.com
database: {mode: bundled}
proxy: caddy
api: {license_key_env: CALCOM_LICENSE_KEY}
email: {host: smtp.example.com, port: 587, user: cal, password_env: SMTP_PASSWORD, from: cal@example.com, from_name: "Acme Clinic"}
billing: {endpoint: https://billing.example.com, deployment_id: dep_123, live_since: 2026-01-01}
`,
		env:  map[string]string{"SMTP_PASSWORD": "TEST-smtp-pa$$word #1", "CALCTL_BILLING_TOKEN": "TEST-billing-token", "CALCTL_SIGNING_SECRET": "TEST-signing-secret", "CALCOM_LICENSE_KEY": "TEST-license-key"},
		tree: "2022",
	},
	{
		name: "compose-2023-rds",
		answers: `
install_dir: /srv/cal
target: compose
public_url: https://cal.example.org
database: {mode: rds, ca_file: /etc/calcom/rds-global-bundle.pem}
proxy: none
`,
		env:  map[string]string{"DATABASE_URL": "postgresql://calcom:TEST-rds-p%24ss@cal.abc123.eu-west-1.rds.amazonaws.com:5432/calcom"},
		tree: "2023",
	},
	{
		name: "compose-2025-external",
		answers: `
install_dir: /opt/calcom
target: compose
public_url: http://cal.internal.example:3000
database: {mode: external, ca_file: /etc/ssl/private-ca.pem}
proxy: none
api: {license_key_env: CALCOM_LICENSE_KEY}
images: {calctl: "registry.example.com/calctl/calctl:v1.2.3"}
`,
		env:  map[string]string{"DATABASE_URL": "postgresql://cal:TEST-ext-password@db.internal.example:5432/cal?sslmode=verify-full&connection_limit=10", "CALCOM_LICENSE_KEY": "TEST-license-key"},
		tree: "2025",
	},
	{
		name: "pm2-2025-external",
		answers: `
install_dir: /opt/calcom
target: pm2
public_url: https://cal.example.net
database: {mode: external, url_env: CAL_DB_URL}
proxy: caddy
api: {license_key_env: CALCOM_LICENSE_KEY}
pm2: {node: /usr/local/bin/node, instances: 2, max_memory_restart: 2G}
billing: {endpoint: https://billing.example.com, deployment_id: dep_456, live_since: 2026-02-01}
`,
		env:  map[string]string{"CAL_DB_URL": "postgresql://cal:TEST-ext-password@db.internal.example.net:5432/cal?sslmode=require", "CALCTL_BILLING_TOKEN": "TEST-billing-token", "CALCTL_SIGNING_SECRET": "TEST-signing-secret", "CALCOM_LICENSE_KEY": "TEST-license-key"},
		tree: "2025",
	},
}

func loadCase(t testing.TB, c renderCase) (*Answers, EnvSecrets) {
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
			r, err := RenderFiles(a, env, c.repo(t), c.secrets(env), Existing{})
			if err != nil {
				t.Fatal(err)
			}
			files := r.Files
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
					for _, v := range []string{fixedSecrets.NextAuthSecret.Reveal(), fixedSecrets.EncryptionKey.Reveal(), fixedSecrets.DatabasePassword.Reveal(), fixedSecrets.CronAPIKey.Reveal(), fixedSecrets.CronSecret.Reveal(), fixedSecrets.DBTLS.Key.Reveal(), "TEST-smtp-pa", "TEST-billing-token", "TEST-rds-p", "TEST-ext-password", "TEST-license-key"} {
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
		"compose-2022-bundled":  "agent,api,cron,database,proxy,web",
		"compose-2023-rds":      "cron,web",
		"compose-2025-external": "api,cron,web",
	}[name]
	if got != want {
		t.Errorf("services = %s, want %s", got, want)
	}
}

func renderCase0(t *testing.T, c renderCase) (*Answers, EnvSecrets, *Rendered) {
	t.Helper()
	a, env := loadCase(t, c)
	r, err := RenderFiles(a, env, c.repo(t), c.secrets(env), Existing{})
	if err != nil {
		t.Fatal(err)
	}
	return a, env, r
}

func fileOf(t testing.TB, r *Rendered, p string) []byte {
	t.Helper()
	for _, f := range r.Files {
		if f.Path == p {
			return f.Data
		}
	}
	t.Fatalf("%s was not rendered", p)
	return nil
}

// TestRenderedComposeRules feeds broken variants of a rendered compose file
// to LoadCompose and expects each rule to catch its break.
func TestRenderedComposeRules(t *testing.T) {
	a, _, r := renderCase0(t, renderCases[0])
	compose := string(fileOf(t, r, "docker-compose.yml"))
	tests := []struct{ name, from, to, want string }{
		{"latest postgres", "postgres:16-alpine", "postgres:latest", "not pinned"},
		{"published db", "      - db.env\n", "      - db.env\n    ports:\n      - \"5432:5432\"\n", "publishes a port"},
		{"web on all interfaces", "127.0.0.1:3000:3000", "3000:3000", "want 127.0.0.1"},
		{"restart always", "restart: unless-stopped", "restart: always", "unless-stopped"},
		{"bad yaml", "services:", "services: [", "does not load"},
		{"secret build arg value", "      args:\n        - DATABASE_URL\n", "      args:\n        DATABASE_URL: postgresql://u:p@database/x\n", "build arg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			broken := strings.Replace(compose, tt.from, tt.to, 1)
			if broken == compose {
				t.Fatalf("replacement %q not found in\n%s", tt.from, compose)
			}
			_, err := LoadCompose(context.Background(), a.InstallDir, "calcom", []byte(broken))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestPM2EcosystemLoadsInNode renders the pm2 case into a temp install_dir
// and loads ecosystem.config.js with the machine's real node: the env is
// read from .env by calcom-env.js, each app gets its own app's next (API v1
// pins another next than the web app in the 2025 tree), the Node pin is
// honoured as cluster mode allows.
func TestPM2EcosystemLoadsInNode(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Unavailable(t, "node", err) // node is part of the pm2 target's own requirements
	}
	c := renderCases[3]
	a, env := loadCase(t, c)
	a.InstallDir = t.TempDir()
	a.Source.Dir = filepath.Join(a.InstallDir, "src")
	a.PM2.LogDir = filepath.Join(a.InstallDir, "logs")
	r, err := RenderFiles(a, env, c.repo(t), c.secrets(env), Existing{})
	if err != nil {
		t.Fatal(err)
	}
	writeRendered(t, a.InstallDir, r.Files)
	// node_modules as Yarn lays them out: the web app's next hoisted to the
	// root, API v1's other version nested in its own workspace
	for _, d := range []string{"node_modules/next", "apps/api/v1/node_modules/next"} {
		p := filepath.Join(a.Source.Dir, d, "dist/bin/next")
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte("// next\n"), 0o644)
		os.WriteFile(filepath.Join(a.Source.Dir, d, "package.json"), []byte(`{"name":"next"}`), 0o644)
	}
	os.MkdirAll(filepath.Join(a.Source.Dir, "apps/web"), 0o755)
	script := `const c = require('./ecosystem.config.js');
const [w, api] = c.apps;
if (c.apps.length !== 2) throw new Error('want web and api apps');
if (w.env.NEXTAUTH_SECRET !== process.argv[1]) throw new Error('env not read from .env');
if (w.env.DATABASE_URL !== process.argv[2]) throw new Error('DATABASE_URL changed: ' + w.env.DATABASE_URL);
if (w.env.NEXT_PUBLIC_WEBAPP_URL !== 'https://cal.example.net') throw new Error('public url');
if (w.exec_mode !== 'cluster' || w.instances !== 2 || w.max_memory_restart !== '2G') throw new Error('pm2 options');
if ('interpreter' in w) throw new Error('cluster mode ignores interpreter; it must not pretend');
if (api.interpreter !== '/usr/local/bin/node' || api.exec_mode !== 'fork') throw new Error('fork mode must pin the interpreter');
if (!w.args.includes('127.0.0.1')) throw new Error('listen');
console.log(w.script + '\n' + api.script);`
	want, _ := DatabaseURLsFor(a, env, c.repo(t), fixedSecrets)
	cmd := exec.Command(node, "-e", script, fixedSecrets.NextAuthSecret.Reveal(), want.App)
	cmd.Dir = a.InstallDir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 2 || lines[0] != filepath.Join(a.Source.Dir, "node_modules/next/dist/bin/next") || lines[1] != filepath.Join(a.Source.Dir, "apps/api/v1/node_modules/next/dist/bin/next") {
		t.Errorf("apps do not start their own next:\n%s", out)
	}
}

func writeRendered(t testing.TB, dir string, files []File) {
	t.Helper()
	for _, f := range files {
		p := filepath.Join(dir, f.Path)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, f.Data, f.Mode); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDatabaseURLForms: each URL in the form of the driver that reads it
// (calcom-facts.md §9), the password's bytes untouched.
func TestDatabaseURLForms(t *testing.T) {
	const raw = "postgresql://u:p%24ss@h.rds.amazonaws.com/cal"
	tests := []struct {
		mode, target, ca string
		adapter          bool
		in               string
		app, direct      string
	}{
		{DBRDS, TargetCompose, "/etc/rds.pem", false, raw,
			raw + "?sslmode=require&sslcert=/etc/calcom/db-ca.pem&sslaccept=strict", raw + "?sslmode=require&sslcert=/etc/calcom/db-ca.pem&sslaccept=strict"},
		{DBRDS, TargetPM2, "/etc/rds.pem", true, raw,
			raw + "?sslmode=verify-full&sslrootcert=/etc/rds.pem", raw + "?sslmode=require&sslcert=/etc/rds.pem&sslaccept=strict"},
		{DBExternal, TargetPM2, "", false, "postgresql://u:p@db/cal?sslmode=require",
			"postgresql://u:p@db/cal?sslmode=require", "postgresql://u:p@db/cal?sslmode=require"},
		{DBExternal, TargetPM2, "", false, "postgresql://u:p@db/cal?sslmode=verify-full",
			"postgresql://u:p@db/cal?sslmode=require&sslaccept=strict", "postgresql://u:p@db/cal?sslmode=require&sslaccept=strict"},
	}
	for _, tt := range tests {
		a := &Answers{Target: tt.target, Database: Database{Mode: tt.mode, CAFile: tt.ca, URLEnv: "X"}}
		got, err := DatabaseURLsFor(a, EnvSecrets{DatabaseURL: secret.Secret(tt.in)}, Repo{AdapterPG: tt.adapter}, Secrets{})
		if err != nil || got.App != tt.app || got.Direct != tt.direct {
			t.Errorf("%s %s adapter=%v:\n app    %s\n direct %s (%v)\nwant\n app    %s\n direct %s", tt.mode, tt.target, tt.adapter, got.App, got.Direct, err, tt.app, tt.direct)
		}
		for _, u := range []string{got.App, got.Direct, got.Calctl, got.Host} {
			if strings.Contains(tt.in, "%24") && !strings.Contains(u, "p%24ss") {
				t.Errorf("%%24 was decoded: %s", u)
			}
		}
	}
}

// BenchmarkRenderFiles measures rendering every file of the 2022 compose case.
func BenchmarkRenderFiles(b *testing.B) {
	c := renderCases[0]
	a, env := loadCase(b, c)
	repo := c.repo(b)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := RenderFiles(a, env, repo, c.secrets(env), Existing{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadCompose measures loading a rendered compose file with compose-go.
func BenchmarkLoadCompose(b *testing.B) {
	c := renderCases[0]
	a, env := loadCase(b, c)
	r, err := RenderFiles(a, env, c.repo(b), c.secrets(env), Existing{})
	if err != nil {
		b.Fatal(err)
	}
	data := fileOf(b, r, "docker-compose.yml")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := LoadCompose(context.Background(), a.InstallDir, "calcom", data); err != nil {
			b.Fatal(err)
		}
	}
}
