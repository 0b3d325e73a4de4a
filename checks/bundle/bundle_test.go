package bundle_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/checks/bundle"
	"github.com/calctl/calctl/checks/catalog"
	"github.com/calctl/calctl/checks/collect"
	"github.com/calctl/calctl/checks/doctor"
	"github.com/calctl/calctl/internal/secret"
	"github.com/calctl/calctl/internal/testenv"
)

// Planted secrets: none of these may appear in any byte of the bundle.
var planted = map[string]string{
	"nextauth":   "Pl4nted-NextAuth-S3cret-0a9b8c7d6e5f4g3h2i1j",
	"enckey":     "Pl4ntedEncKey0123456789abcdefABC",
	"dbpass":     "Pl4nted-Db-Pass-77x",
	"smtp":       "Pl4nted-Smtp-Pass-5150",
	"compose":    "Pl4nted-Compose-Pw-2024",
	"pm2":        "Pl4nted-Pm2-Secret-9999",
	"jwt":        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwbGFudGVkIn0.c2lnbmF0dXJlcGxhbnRlZA",
	"github":     "ghp_Pl4ntedGithubToken0123456789abcdefABCD",
	"aws":        "AKIAPLANTEDEXAMPLE12",
	"stripe":     "sk_live_Pl4ntedStripeKey0123456789",
	"base64":     "UGw0bnRlZEJhc2U2NEJsb2JUaGF0SXNMb25nRW5vdWdoVG9SZWRhY3Q=",
	"email":      "alice.patient",
	"logpass":    "Pl4nted-Log-Password",
	"bearer":     "Pl4ntedBearerToken123456",
	"urlpass":    "Pl4nted-Url-Pass",
	"replica":    "Pl4nted-Replica-Pw", // in a log only: the url-password rule, not a known value, removes it
	"processkey": "whsec_Pl4ntedWebhookSecret123",
}

func writeInstall(t *testing.T, dbURL string) string {
	t.Helper()
	dir := t.TempDir()
	env := strings.Join([]string{
		"NEXTAUTH_SECRET=" + planted["nextauth"],
		"CALENDSO_ENCRYPTION_KEY=" + planted["enckey"],
		"DATABASE_URL=" + dbURL,
		"DATABASE_DIRECT_URL=" + dbURL,
		"EMAIL_SERVER_PASSWORD=" + planted["smtp"],
		"STRIPE_WEBHOOK_SECRET=" + planted["processkey"],
		"EMAIL_FROM=notifications@example.com",
		"NEXT_PUBLIC_WEBAPP_URL=http://localhost:3000",
	}, "\n") + "\n"
	compose := `services:
  database:
    image: postgres:16.4
    environment:
      POSTGRES_PASSWORD: ` + planted["compose"] + `
  calcom:
    image: calcom/cal.com:v5.0.0
    environment:
      - DATABASE_URL=postgresql://cal:` + planted["urlpass"] + `@database:5432/calendso
      - NEXTAUTH_SECRET=${NEXTAUTH_SECRET}
`
	pm2 := `module.exports = { apps: [{ name: "calcom", env: { NEXTAUTH_SECRET: "` + planted["pm2"] + `", NODE_ENV: "production" } }] };` + "\n"
	for n, c := range map[string]string{".env": env, "docker-compose.yml": compose, "ecosystem.config.js": pm2} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(c), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestBundleRedactsEverySecretAndReplaysLive(t *testing.T) {
	ctx := context.Background()
	p := testenv.StartPostgres(t, testenv.PostgresOptions{})
	p.Exec(t, "", `CREATE ROLE cal LOGIN PASSWORD '`+planted["dbpass"]+`'`)
	p.CreateDatabase(t, "calendso", "cal")
	dbURL := p.URL("cal", planted["dbpass"], "calendso", "sslmode=disable")
	dir := writeInstall(t, dbURL)

	// A container whose log prints secrets.
	cli := testenv.RequireDocker(t)
	bin := testenv.BuildStaticBinary(t, "../docker/testdata/sleeper", t.TempDir(), "sleeper")
	logf := filepath.Join(t.TempDir(), "log.txt")
	logText := strings.Join([]string{
		"boot: connecting to postgresql://cal:" + planted["urlpass"] + "@database:5432/calendso",
		"replica at postgres://rep:" + planted["replica"] + "@replica:5432/calendso",
		"auth: issued token " + planted["jwt"],
		"deploy key " + planted["github"] + " and " + planted["aws"],
		"billing " + planted["stripe"] + " webhook " + planted["processkey"],
		"blob " + planted["base64"],
		"booking confirmed for " + planted["email"] + "@example.org",
		`login failed password="` + planted["logpass"] + `"`,
		"Authorization: Bearer " + planted["bearer"],
		"db password echo " + planted["dbpass"] + " and nextauth " + planted["nextauth"],
	}, "\n") + "\n"
	os.WriteFile(logf, []byte(logText), 0o644)
	tag := "calctl-bundle-test:" + time.Now().Format("150405")
	testenv.BuildScratchImage(t, cli, tag, map[string]string{"/sleeper": bin, "/log.txt": logf}, `ENTRYPOINT ["/sleeper"]`)
	label := "calctl.bundle=" + time.Now().Format("150405.000")
	resp, err := cli.ContainerCreate(ctx, &container.Config{Image: tag, Labels: map[string]string{"calctl.bundle": strings.TrimPrefix(label, "calctl.bundle=")},
		Env: []string{"POSTGRES_PASSWORD=" + planted["compose"], "SOME_SETTING=" + planted["logpass"]}}, &container.HostConfig{}, nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.ContainerRemove(context.Background(), resp.ID, container.RemoveOptions{Force: true}) })
	if err := cli.ContainerStart(ctx, resp.ID, container.StartOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // let it print

	o := collect.Options{Dir: dir, DatabaseURL: secret.Secret(dbURL), Docker: true, DockerClient: cli, ContainerLabel: label, Timeout: 10 * time.Second}
	facts, err := collect.Collect(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []checks.Source{checks.SourceFiles, checks.SourcePG, checks.SourceDocker} {
		if !facts.Source(s).Collected {
			t.Fatalf("%s not collected: %+v", s, facts.Source(s))
		}
	}
	live := checks.Run(facts, catalog.All(), checks.Selection{}, nil)
	out := filepath.Join(t.TempDir(), "support.tar.gz")
	_, err = bundle.Write(ctx, out, bundle.Inputs{Facts: facts, Report: live, Options: o, LogTail: 100,
		Doctor: &doctor.Report{Versions: map[string]string{"calctl": "test"}, Connectivity: []doctor.Probe{{Name: "database", Detail: "db " + dbURL}}}})
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(out)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("bundle mode %v, want 0600", st.Mode().Perm())
	}

	raw, _ := os.ReadFile(out)
	var streams [][]byte
	streams = append(streams, raw)
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	tarBytes, _ := io.ReadAll(zr)
	streams = append(streams, tarBytes)
	for name, s := range planted {
		for i, b := range streams {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("planted %s secret found in bundle stream %d", name, i)
			}
		}
	}

	c, err := bundle.Read(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"manifest.json", "facts.json", "results.json", "doctor.txt", "versions.json", "containers.json", "config/env", "config/docker-compose.yml", "config/ecosystem.config.js"} {
		if _, ok := c.Files[want]; !ok {
			t.Errorf("bundle lacks %s (has %v)", want, keys(c.Files))
		}
	}
	var logName string
	for n := range c.Files {
		if strings.HasPrefix(n, "logs/") {
			logName = n
		}
	}
	if logName == "" || !strings.Contains(string(c.Files[logName]), "booking confirmed for ***@example.org") {
		t.Errorf("container log missing or e-mail not masked: %q", c.Files[logName])
	}
	listed := map[string]bool{"manifest.json": true}
	for _, f := range c.Manifest.Files {
		listed[f.Name] = true
	}
	for n := range c.Files {
		if !listed[n] {
			t.Errorf("%s is not listed in manifest.json", n)
		}
	}
	rules := map[string]bool{}
	for _, r := range c.Manifest.Redactions {
		rules[r.Rule] = true
		if r.File == "" || r.Rule == "" {
			t.Errorf("redaction without file or rule: %+v", r)
		}
	}
	for _, r := range []string{"secret-key", "known-secret", "url-password", "jwt", "github-token", "aws-access-key", "stripe-key", "email", "secret-assignment", "bearer"} {
		if !rules[r] {
			t.Errorf("no redaction by rule %s recorded (have %v)", r, rules)
		}
	}
	if !strings.Contains(string(c.Files["config/env"]), "NEXTAUTH_SECRET=[REDACTED]") || !strings.Contains(string(c.Files["config/env"]), "EMAIL_FROM=") {
		t.Errorf("config/env = %s", c.Files["config/env"])
	}

	// The same checks over the bundle give the same results as the live run.
	bf, err := c.Facts()
	if err != nil {
		t.Fatal(err)
	}
	replay := checks.Run(bf, catalog.All(), checks.Selection{}, nil)
	a, _ := json.Marshal(live.Results)
	b, _ := json.Marshal(replay.Results)
	if !bytes.Equal(a, b) {
		t.Errorf("from-bundle results differ from the live run:\nlive   %s\nbundle %s", a, b)
	}
}

func keys(m map[string][]byte) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func TestRedactorRules(t *testing.T) {
	r := bundle.NewRedactor([]string{"known-value-123", "secret", "short"})
	tests := []struct{ in, want string }{
		{"x known-value-123 y", "x [REDACTED:known-secret] y"},
		{"postgres://u:pw@h/db", "postgres://u:REDACTED@h/db"},
		{"mail bob@example.com now", "mail ***@example.com now"},
		{"token=abcd1234", "token=[REDACTED:secret-assignment]"},
		{"AKIAIOSFODNN7EXAMPLE", "[REDACTED:aws-access-key]"},
		{"plain log line", "plain log line"},
	}
	for _, tt := range tests {
		if got := strings.TrimSuffix(r.Text("f", tt.in), "\n"); got != tt.want {
			t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := r.Structured("f", `{"secret": true, "has_password": true, "v": "secret"}`); got != `{"secret": true, "has_password": true, "v": "secret"}`+"\n" {
		t.Errorf("Structured changed calctl's own JSON: %s", got)
	}
	env, err1 := r.Config("c.env", "env", "A=1\nDB_PASSWORD=hunter2\n")
	yml, err2 := r.Config("c.yml", "compose", "services:\n  db:\n    environment:\n      POSTGRES_PASSWORD: x-secret\n  web:\n    environment:\n      - API_KEY=kkkk\n")
	js, err3 := r.Config("c.js", "pm2", "module.exports = {\n  name: \"calcom\",\n  JWT_SECRET: 'abc',\n}")
	if err1 != nil || err2 != nil || err3 != nil {
		t.Fatal(err1, err2, err3)
	}
	cfg := env + yml + js
	for _, leak := range []string{"hunter2", "x-secret", "=kkkk", "'abc'"} {
		if strings.Contains(cfg, leak) {
			t.Errorf("Config kept %q:\n%s", leak, cfg)
		}
	}
	if !strings.Contains(cfg, "A=1") || !strings.Contains(cfg, `name: "calcom"`) {
		t.Errorf("Config removed non-secrets:\n%s", cfg)
	}
	if _, err := r.Config("bad.yml", "compose", "services: [\n"); err == nil {
		t.Error("an unparseable compose file was accepted")
	}
	for _, red := range r.Log() {
		if strings.Contains(red.Key+red.Rule+red.File, "hunter2") {
			t.Errorf("redaction log holds a value: %+v", red)
		}
	}
}

// minimalBundle writes a small valid bundle for the fuzz seed corpus.
func minimalBundle(tb testing.TB) []byte {
	f := &checks.Facts{SchemaVersion: checks.FactsSchemaVersion, CollectedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	rep := checks.Run(f, catalog.All()[:2], checks.Selection{}, nil)
	out := filepath.Join(tb.TempDir(), "b.tar.gz")
	if _, err := bundle.Write(context.Background(), out, bundle.Inputs{Facts: f, Report: rep}); err != nil {
		tb.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestReadRejectsBadBundles(t *testing.T) {
	var tarGz = func(files map[string]string) []byte {
		var buf bytes.Buffer
		gz := gzip.NewWriter(&buf)
		tw := tar.NewWriter(gz)
		for n, c := range files {
			tw.WriteHeader(&tar.Header{Name: n, Mode: 0o600, Size: int64(len(c)), Typeflag: tar.TypeReg})
			tw.Write([]byte(c))
		}
		tw.Close()
		gz.Close()
		return buf.Bytes()
	}
	for name, tt := range map[string]struct {
		data []byte
		want string
	}{
		"not gzip":    {[]byte("hello"), "not a gzip"},
		"no manifest": {tarGz(map[string]string{"facts.json": "{}"}), "no manifest.json"},
		"escape":      {tarGz(map[string]string{"../etc/passwd": "x"}), "escapes"},
		"version":     {tarGz(map[string]string{"manifest.json": `{"version":99}`}), "not supported"},
	} {
		_, err := bundle.ReadFrom(bytes.NewReader(tt.data))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", name, err, tt.want)
		}
	}
	c, err := bundle.ReadFrom(bytes.NewReader(minimalBundle(t)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Facts(); err != nil {
		t.Fatal(err)
	}
}

func FuzzReadBundle(f *testing.F) {
	f.Add(minimalBundle(f))
	f.Add([]byte{0x1f, 0x8b, 0x08, 0x00})
	f.Add([]byte("not a bundle"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := bundle.ReadFrom(bytes.NewReader(data))
		if err != nil {
			return
		}
		if _, ok := c.Files["manifest.json"]; !ok {
			t.Fatal("accepted a bundle without manifest.json")
		}
		_, _ = c.Facts()
	})
}
