package cli

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/checks/catalog"
	"github.com/calctl/calctl/checks/collect"
	"github.com/calctl/calctl/installer"
	"github.com/calctl/calctl/installer/contract"
	"github.com/calctl/calctl/installer/preflight"
	"github.com/calctl/calctl/internal/dotenv"
	"github.com/calctl/calctl/internal/testenv"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"gopkg.in/yaml.v3"
)

// assertHardened checks a running compose install made by calctl (issue 13
// item 5) against the real engine: every container of the project runs
// with no-new-privileges, no capability but those calctl adds, limits and
// rotated json-file logs; the generated app's containers and the database
// run as non-root users on read-only root filesystems; the bundled
// database's app role is not a superuser, owns the database and created
// the tables; and the live DK checks find nothing the installer controls.
func assertHardened(t *testing.T, cli *client.Client, project, installDir, dbName, appRole string) {
	t.Helper()
	ctx := context.Background()
	cs, err := cli.ContainerList(ctx, container.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, c := range cs {
		if c.Labels["com.docker.compose.project"] != project {
			continue
		}
		seen++
		svc := c.Labels["com.docker.compose.service"]
		ins, err := cli.ContainerInspect(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		h := ins.HostConfig
		if !contains(h.SecurityOpt, "no-new-privileges:true") || !contains(h.CapDrop, "ALL") {
			t.Errorf("%s: security_opt %v cap_drop %v", svc, h.SecurityOpt, h.CapDrop)
		}
		if len(h.CapAdd) > 0 {
			t.Errorf("%s adds capabilities %v", svc, h.CapAdd)
		}
		if h.Memory <= 0 || h.NanoCPUs <= 0 || h.PidsLimit == nil || *h.PidsLimit <= 0 {
			t.Errorf("%s: limits memory %d cpus %d pids %v", svc, h.Memory, h.NanoCPUs, h.PidsLimit)
		}
		if h.LogConfig.Type != "json-file" || h.LogConfig.Config["max-size"] == "" || h.LogConfig.Config["max-file"] == "" {
			t.Errorf("%s: logging %+v", svc, h.LogConfig)
		}
		want := map[string]string{"web": "1000:1000", "api": "1000:1000", "cron": "65532:65532", "database": "postgres"}[svc]
		if want != "" && (ins.Config.User != want || !h.ReadonlyRootfs) {
			t.Errorf("%s: user %q read-only %v, want %q on a read-only root", svc, ins.Config.User, h.ReadonlyRootfs, want)
		}
		if (svc == "web" || svc == "database") && (ins.State.Health == nil || ins.State.Health.Status != "healthy") {
			t.Errorf("%s is not healthy: %+v", svc, ins.State.Health)
		}
	}
	if seen == 0 {
		t.Fatalf("no container of project %s", project)
	}

	// PG-006: the app role DATABASE_URL names is no superuser, owns the
	// database, and the app's migrations (run with DATABASE_URL) made the
	// tables it owns.
	q := "SELECT r.rolsuper, r.rolcreaterole, r.rolcreatedb, d.datdba::regrole, (SELECT tableowner FROM pg_tables WHERE tablename = '_prisma_migrations') " +
		"FROM pg_roles r, pg_database d WHERE r.rolname = '" + appRole + "' AND d.datname = '" + dbName + "'"
	code, out := execIn(t, cli, project, "database", []string{"psql", "-U", "postgres", "-d", dbName, "-tA", "-c", q})
	if got, want := strings.TrimSpace(out), "f|f|f|"+appRole+"|"+appRole; code != 0 || got != want {
		t.Errorf("app role: exit %d %q, want %q", code, got, want)
	}
	code, out = execIn(t, cli, project, "database", []string{"psql", "-U", "postgres", "-d", dbName, "-tA", "-c",
		"SELECT rolname FROM pg_roles WHERE rolsuper AND rolcanlogin ORDER BY 1"})
	if got := strings.TrimSpace(out); code != 0 || got != "postgres" {
		t.Errorf("login superusers: exit %d %q, want only postgres", code, got)
	}

	// the live DK checks, scoped to this project: nothing the installer
	// controls is left (docs/checks.md "What the rendered install
	// satisfies"); and PG-005..PG-008 on the bundled database, reached
	// through Docker as `calctl check --dir` does, with DATABASE_URL's role
	f, err := collect.Collect(ctx, collect.Options{Dir: installDir, Docker: true, DockerClient: cli,
		ContainerLabel: "com.docker.compose.project=" + project,
		Only:           []checks.Source{checks.SourceDocker, checks.SourceFiles, checks.SourcePG}, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	var list []checks.Check
	for _, ch := range catalog.All() {
		if id := ch.ID(); strings.HasPrefix(id, "DK-") || bundledPGChecks[id] {
			list = append(list, ch)
		}
	}
	pg := map[string]bool{}
	for _, r := range checks.Run(f, list, checks.Selection{}, nil).Results {
		if strings.HasPrefix(r.ID, "PG-") {
			pg[r.ID] = true
		}
		switch {
		case r.Status == checks.Pass:
		case r.ID == "DK-006" || r.ID == "DK-008" || (r.ID >= "DK-013" && r.ID <= "DK-017"):
			// out of the installer's power: log shipping, env secrets, the
			// daemon's and the host's configuration
		default:
			t.Errorf("live %s %s on %s: %s", r.ID, r.Status, r.Resource, r.Message)
		}
	}
	if len(pg) != len(bundledPGChecks) {
		t.Errorf("PG results %v, want all of %v", pg, bundledPGChecks)
	}
	assertPlaintextRefused(t, cli, project, installDir)
}

// bundledPGChecks are the PG checks the bundled database passes (docs/checks.md
// "What the rendered install satisfies"): TLS on with a floor and
// forward-secret suites, TLS enforced and no weak pg_hba line (PG-001..PG-004,
// installer/dbtls.go), and PG-005..PG-008.
var bundledPGChecks = map[string]bool{"PG-001": true, "PG-002": true, "PG-003": true, "PG-004": true,
	"PG-005": true, "PG-006": true, "PG-007": true, "PG-008": true}

// assertPlaintextRefused logs in as the app role (DATABASE_URL's user and
// password) from another container on the install's compose network — a
// throwaway one of the database's image, whose psql is libpq — without TLS
// (refused: "no encryption") and with it (accepted).
func assertPlaintextRefused(t *testing.T, cli *client.Client, project, installDir string) {
	t.Helper()
	env, err := dotenv.Read(filepath.Join(installDir, ".env"))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := env.Lookup("DATABASE_URL")
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	img := ""
	cs, _ := cli.ContainerList(context.Background(), container.ListOptions{})
	for _, c := range cs {
		if c.Labels["com.docker.compose.project"] == project && c.Labels["com.docker.compose.service"] == "database" {
			img = c.Image
		}
	}
	if img == "" {
		t.Fatalf("no database container in %s", project)
	}
	login := func(sslmode string) (string, error) {
		q := url.URL{Scheme: "postgresql", User: u.User, Host: u.Host, Path: u.Path, RawQuery: "sslmode=" + sslmode + "&connect_timeout=10"}
		out, err := exec.Command("docker", "run", "--rm", "--name", "calctl-pgtls-login-"+randHex(4), "--network", project+"_default",
			"--user", "postgres", "--read-only", img, "psql", q.String(), "-tAc", "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	out, err := login("disable")
	if err == nil || !strings.Contains(out, "no encryption") {
		t.Errorf("a plaintext login from another container was not refused by pg_hba: %v %q", err, out)
	}
	if out, err := login("require"); err != nil || out != "t" {
		t.Errorf("a TLS login from another container: %v %q, want ssl t", err, out)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestHardenedDatabaseKeepsAnEarlierVolume: an install made before the
// hardening has a database volume the image's root entrypoint initialised
// (one role, database.user the superuser). Rendering again over its db.env
// keeps that layout, and the hardened service (user postgres, read-only
// root, no capability) starts on the same volume and the app's role still
// logs in with its password.
func TestHardenedDatabaseKeepsAnEarlierVolume(t *testing.T) {
	cli := testenv.RequireDocker(t)
	dc, err := preflight.DetectCompose(context.Background())
	if err != nil {
		testenv.Unavailable(t, "docker compose", err)
	}
	suffix := randHex(4)
	pgTag := "calctl-harden-postgres-" + suffix + ":15"
	buildPostgresImage(t, cli, pgTag)
	dir := t.TempDir()
	project := "calctlharden" + suffix
	a, err := contract.DecodeAnswers([]byte(fmt.Sprintf("install_dir: %s\ntarget: compose\npublic_url: http://127.0.0.1:3999\nweb: {port: 3999}\ndatabase: {mode: bundled, version: 15}\nimages: {postgres: %q}\nstart: {project: %s}\n", dir, pgTag, project)))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Finish(); err != nil {
		t.Fatal(err)
	}
	const pw = "0123456789abcdef0123456789abcdef0123456789abcdef"
	old, _ := dotenv.Parse([]byte("POSTGRES_USER=calcom\nPOSTGRES_PASSWORD=" + pw + "\nPOSTGRES_DB=calendso\n"))
	tls, err := installer.NewDatabaseTLS(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	sec := installer.Secrets{NextAuthSecret: "n", EncryptionKey: "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk", DatabasePassword: pw, CronAPIKey: "c", CronSecret: "s", DBTLS: tls}
	r, err := installer.RenderFiles(a, installer.EnvSecrets{}, installer.Repo{}, sec, installer.Existing{DBEnv: old})
	if err != nil {
		t.Fatal(err)
	}
	var hardened []byte
	for _, f := range r.Files {
		if f.Path == "docker-compose.yml" {
			hardened = f.Data
		}
		// every file as the write step writes it (the database mounts
		// its pg_hba.conf, pg_ident.conf and certificate)
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, f.Path)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f.Path), f.Data, f.Mode); err != nil {
			t.Fatal(err)
		}
		if f.Path == installer.AppRoleScript {
			t.Fatalf("the one-role install got the app role script")
		}
	}
	// the database service as calctl rendered it before the hardening
	var doc map[string]any
	if err := yaml.Unmarshal(hardened, &doc); err != nil {
		t.Fatal(err)
	}
	db := doc["services"].(map[string]any)["database"].(map[string]any)
	for _, k := range []string{"user", "read_only", "tmpfs", "cap_drop", "security_opt", "mem_limit", "cpus", "pids_limit", "logging", "command"} {
		delete(db, k)
	}
	before, _ := yaml.Marshal(doc)
	compose := filepath.Join(dir, "docker-compose.yml")
	inspect := func() container.InspectResponse {
		t.Helper()
		cs, _ := cli.ContainerList(context.Background(), container.ListOptions{})
		for _, c := range cs {
			if c.Labels["com.docker.compose.project"] == project && c.Labels["com.docker.compose.service"] == "database" {
				ins, err := cli.ContainerInspect(context.Background(), c.ID)
				if err != nil {
					t.Fatal(err)
				}
				return ins
			}
		}
		t.Fatalf("no database container in %s", project)
		return container.InspectResponse{}
	}
	up := func(file []byte) {
		t.Helper()
		if err := os.WriteFile(compose, file, 0o644); err != nil {
			t.Fatal(err)
		}
		args := append(append([]string{}, dc.Command[1:]...), "-p", project, "-f", compose, "up", "-d", "database")
		if out, err := exec.Command(dc.Command[0], args...).CombinedOutput(); err != nil {
			t.Fatalf("compose up: %v\n%s", err, out)
		}
		deadline := time.Now().Add(2 * time.Minute)
		for {
			cs, _ := cli.ContainerList(context.Background(), container.ListOptions{})
			for _, c := range cs {
				if c.Labels["com.docker.compose.project"] == project && c.Labels["com.docker.compose.service"] == "database" && strings.Contains(c.Status, "(healthy)") {
					return
				}
			}
			if time.Now().After(deadline) {
				logs, _ := exec.Command("docker", "logs", inspect().ID).CombinedOutput()
				t.Fatalf("database not healthy:\n%s", logs)
			}
			time.Sleep(time.Second)
		}
	}
	t.Cleanup(func() { composeDown(t, dir, project) })
	up(before)
	if ins := inspect(); ins.Config.User != "" || ins.HostConfig.ReadonlyRootfs {
		t.Fatalf("the earlier service is not the root one: user %q", ins.Config.User)
	}
	up(hardened)
	if ins := inspect(); ins.Config.User != "postgres" || !ins.HostConfig.ReadonlyRootfs || !contains(ins.HostConfig.CapDrop, "ALL") {
		t.Errorf("the database was not recreated hardened: user %q read-only %v cap_drop %v", ins.Config.User, ins.HostConfig.ReadonlyRootfs, ins.HostConfig.CapDrop)
	}
	// the app's role, over TCP with its password, as DATABASE_URL does
	code, out := execIn(t, cli, project, "database", []string{"psql", "postgresql://calcom:" + pw + "@127.0.0.1:5432/calendso", "-tAc", "SELECT current_user"})
	if code != 0 || strings.TrimSpace(out) != "calcom" {
		t.Errorf("the app role cannot log in after the upgrade: exit %d %s", code, out)
	}
	// the earlier volume gets TLS and calctl's pg_hba too (command-line
	// settings, not init-time ones): PG-001..PG-004 pass, reached as
	// `calctl check --dir` reaches it, and plaintext is refused
	f, err := collect.Collect(context.Background(), collect.Options{Dir: dir, Docker: true, DockerClient: cli,
		ContainerLabel: "com.docker.compose.project=" + project,
		Only:           []checks.Source{checks.SourceDocker, checks.SourceFiles, checks.SourcePG}, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, r := range checks.Run(f, catalog.All(), checks.Selection{Only: []string{"PG-00[1-4]"}}, nil).Results {
		seen++
		if r.Status != checks.Pass {
			t.Errorf("earlier volume: %s %s: %s", r.ID, r.Status, r.Message)
		}
	}
	if seen != 4 {
		t.Errorf("%d results, want PG-001..PG-004", seen)
	}
	assertPlaintextRefused(t, cli, project, dir)
}
