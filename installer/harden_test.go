package installer

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/checks/catalog"
	"github.com/calctl/calctl/checks/collect"
	"github.com/calctl/calctl/installer/contract"
	"github.com/calctl/calctl/internal/buildinfo"
	"github.com/calctl/calctl/internal/dotenv"
	"github.com/calctl/calctl/internal/secret"
	"github.com/calctl/calctl/internal/testenv"
	"github.com/jackc/pgx/v5"
	"gopkg.in/yaml.v3"
)

// hardenCase is one combination of the answers that change the rendered
// services: target, database mode, API v1, the usage agent, the proxy, a
// web.dockerfile of the user's, and a one-role bundled database of an
// earlier install.
type hardenCase struct {
	tree, target, db, proxy    string
	api, agent, custom, legacy bool
}

func (c hardenCase) String() string {
	s := fmt.Sprintf("%s-%s-%s-%s", c.target, c.tree, c.db, c.proxy)
	for _, f := range []struct {
		on   bool
		name string
	}{{c.api, "api"}, {c.agent, "agent"}, {c.custom, "own-dockerfile"}, {c.legacy, "one-role-db"}} {
		if f.on {
			s += "-" + f.name
		}
	}
	return s
}

// hardenCases is every combination of the options that change services,
// on the three tree vintages (which decide cron and the API's directory).
func hardenCases() []hardenCase {
	var out []hardenCase
	for _, tree := range []string{"2022", "2023", "2025"} {
		for _, db := range []string{DBBundled, DBExternal, DBRDS} {
			for _, proxy := range []string{ProxyCaddy, ProxyNone} {
				for _, api := range []bool{false, true} {
					for _, agent := range []bool{false, true} {
						out = append(out, hardenCase{tree: tree, target: TargetCompose, db: db, proxy: proxy, api: api, agent: agent})
					}
				}
			}
		}
		out = append(out, hardenCase{tree: tree, target: TargetCompose, db: DBBundled, proxy: ProxyCaddy, api: true, agent: true, custom: true},
			hardenCase{tree: tree, target: TargetCompose, db: DBBundled, proxy: ProxyNone, api: true, legacy: true})
		for _, db := range []string{DBExternal, DBRDS} {
			for _, api := range []bool{false, true} {
				out = append(out, hardenCase{tree: tree, target: TargetPM2, db: db, proxy: ProxyCaddy, api: api, agent: api})
			}
		}
	}
	return out
}

// answers are what a careful operator gives (https, a CA file for a remote
// database, a strong password, SMTP on 587), so every finding left is the
// installer's to answer for.
func (c hardenCase) answers(dir string) (string, map[string]string) {
	var b strings.Builder
	fmt.Fprintf(&b, "install_dir: %s\nsource: {url: https://github.com/calcom/cal.com.git, ref: main}\ntarget: %s\npublic_url: https://cal.example.com\nproxy: %s\n", dir, c.target, c.proxy)
	env := map[string]string{"SMTP_PASSWORD": "TEST-smtp-password-0123456789"}
	switch c.db {
	case DBBundled:
		b.WriteString("database: {mode: bundled}\n")
	default:
		fmt.Fprintf(&b, "database: {mode: %s, ca_file: /etc/ssl/private/db-ca.pem}\n", c.db)
		env["DATABASE_URL"] = "postgresql://cal:TESTremote0123456789abcdef@db.example.com:5432/cal"
	}
	if c.api {
		b.WriteString("api: {license_key_env: CALCOM_LICENSE_KEY}\n")
		env["CALCOM_LICENSE_KEY"] = "TEST-license-key"
	} else {
		b.WriteString("api: {enabled: \"false\"}\n")
	}
	if c.agent {
		b.WriteString("billing: {endpoint: https://billing.example.com, deployment_id: dep_1, live_since: 2026-01-01}\n")
		env["CALCTL_BILLING_TOKEN"], env["CALCTL_SIGNING_SECRET"] = "TEST-billing-token", "TEST-signing-secret"
	}
	if c.custom {
		b.WriteString("web: {dockerfile: docker/Dockerfile}\n")
	}
	if c.target == TargetPM2 {
		b.WriteString("pm2: {node: /usr/local/bin/node}\n")
	}
	b.WriteString("email: {host: smtp.example.com, port: 587, user: cal, password_env: SMTP_PASSWORD, from: cal@example.com}\n")
	return b.String(), env
}

// outOfPower says why a result that is not PASS is not the installer's to
// fix, or "" when it is. The same reasons are the "out of the installer's
// power" rows of docs/checks.md.
func outOfPower(c hardenCase, r checks.Result) string {
	switch r.ID {
	case "DK-006":
		return "log shipping off the host is the site's choice (a shipper or a remote driver); needs the live engine"
	case "DK-013", "DK-015", "DK-016":
		return "the Docker daemon's own configuration (daemon.json), not the compose file"
	case "DK-014":
		return "the host's auditd rules"
	case "DK-008":
		return "Cal.com reads its secrets only from the environment (no _FILE variables), and Compose file secrets are bind mounts that keep the host file's owner and 0600 mode, unreadable by the non-root users the services run as; the values come from 0600 env files, never the compose file"
	case "DK-002":
		switch {
		case r.Resource == "compose:agent":
			return "the agent's outbox volume is root-owned (the calctl image's VOLUME, and unsent snapshots of existing installs): it runs as root with no capability"
		case r.Resource == "compose:proxy":
			return "the caddy image has no other user and existing installs' certificate volumes are root-owned: root with only NET_BIND_SERVICE"
		case c.custom && (r.Resource == "compose:web" || r.Resource == "compose:api"):
			return "web.dockerfile is the operator's image: its user is its own"
		}
	case "DK-007":
		if c.custom && (r.Resource == "compose:web" || r.Resource == "compose:api") {
			return "web.dockerfile is the operator's image: what it writes is unknown"
		}
	case "DK-010":
		if c.custom && r.Resource == "compose:web" {
			return "web.dockerfile is the operator's image: its own HEALTHCHECK applies (the live check sees it)"
		}
	case "CF-010":
		if c.target != TargetPM2 && r.Status == checks.Skip {
			return "no pm2 on a compose install"
		}
	}
	if strings.HasPrefix(r.ID, "DK-") && c.target == TargetPM2 && r.Status == checks.Skip {
		return "no containers on a pm2 install"
	}
	return ""
}

// TestRenderedInstallPassesItsChecks renders every combination of the
// options that change services and runs the real DK and CF checks of the
// catalog on the files, collected as `calctl check --dir` collects them
// without an engine (checks/collect: the compose file through compose-go,
// .env, db.env, the pm2 ecosystem file): no FAIL or WARN among the checks
// the installer controls; the others are listed with their reason.
func TestRenderedInstallPassesItsChecks(t *testing.T) {
	// a release build pins its calctl image (contract.DefaultCalctlImage)
	defer func(v string) { buildinfo.Version = v }(buildinfo.Version)
	buildinfo.Version = "1.2.3"
	var list []checks.Check
	for _, ch := range catalog.All() {
		if strings.HasPrefix(ch.ID(), "DK-") || strings.HasPrefix(ch.ID(), "CF-") {
			list = append(list, ch)
		}
	}
	exempt := map[string]string{}
	served := map[string]bool{}
	for _, c := range hardenCases() {
		t.Run(c.String(), func(t *testing.T) {
			dir := t.TempDir()
			y, envs := c.answers(dir)
			a, err := contract.DecodeAnswers([]byte(y))
			if err != nil {
				t.Fatal(err)
			}
			if err := a.Finish(); err != nil {
				t.Fatal(err)
			}
			env, err := a.ResolveEnv(func(k string) string { return envs[k] })
			if err != nil {
				t.Fatal(err)
			}
			tree := filepath.Join("testdata", "trees", c.tree)
			repo, err := InspectRepo(tree)
			if err != nil {
				t.Fatal(err)
			}
			sec := fixedSecrets
			sec.LicenseKey = env.LicenseKey
			var ex Existing
			if c.legacy {
				ex.DBEnv, _ = dotenv.Parse([]byte("POSTGRES_USER=calcom\nPOSTGRES_PASSWORD=" + sec.DatabasePassword.Reveal() + "\nPOSTGRES_DB=calendso\n"))
			}
			r, err := RenderFiles(a, env, repo, sec, ex)
			if err != nil {
				t.Fatal(err)
			}
			writeRendered(t, dir, r.Files)
			// the clone the collector reads the Prisma driver from (src/)
			pj, err := os.ReadFile(filepath.Join(tree, "packages/prisma/package.json"))
			if err != nil {
				t.Fatal(err)
			}
			writeRendered(t, dir, []File{{Path: "src/packages/prisma/package.json", Data: pj, Mode: 0o644}})
			f, err := collect.Collect(context.Background(), collect.Options{Dir: dir, Only: []checks.Source{checks.SourceFiles}})
			if err != nil {
				t.Fatal(err)
			}
			rep := checks.Run(f, list, checks.Selection{}, nil)
			if len(rep.Results) == 0 {
				t.Fatal("no results")
			}
			for _, res := range rep.Results {
				if res.Status == checks.Pass {
					continue
				}
				if why := outOfPower(c, res); why != "" {
					exempt[res.ID+" "+strings.TrimPrefix(res.Resource, "compose:")] = why
					continue
				}
				t.Errorf("%s %s on %s: %s (%s)", res.ID, res.Status, res.Resource, res.Message, res.Remediation)
			}
			if c.db == DBBundled {
				// one real cluster per distinct database configuration
				h := sha256.New()
				for _, p := range []string{"docker-compose.yml", "db.env", DBHBAFile, DBIdentFile} {
					if p == "docker-compose.yml" {
						h.Write([]byte(strings.Join(databaseCommand(t, fileOf(t, r, p)), "\x00")))
						continue
					}
					h.Write(fileOf(t, r, p))
				}
				if sum := fmt.Sprintf("%x", h.Sum(nil)); !served[sum] {
					served[sum] = true
					assertBundledDatabaseServes(t, r.Files)
				}
			}
			if c.target == TargetCompose {
				compose := string(fileOf(t, r, "docker-compose.yml"))
				for _, want := range []string{"no-new-privileges:true", "max-size: 10m"} {
					if !strings.Contains(compose, want) {
						t.Errorf("docker-compose.yml lacks %q", want)
					}
				}
			}
		})
	}
	keys := make([]string, 0, len(exempt))
	for k := range exempt {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("out of the installer's power: %s: %s", k, exempt[k])
	}
}

// assertBundledDatabaseServes starts a real PostgreSQL 15 cluster (the
// machine's binaries, internal/testenv) with what the render gives the
// bundled database: the `-c` settings of the database service's command in
// docker-compose.yml as written, the rendered pg_hba.conf, pg_ident.conf
// and certificate, and the key as the command's wrapper writes it (one
// base64 line between PEM markers). A client then logs in over TLS,
// verifying against the rendered CA (verify-ca to 127.0.0.1, verify-full
// for the name "database"); a plaintext attempt is refused; and the PG
// checks that judge TLS and pg_hba, PG-001..PG-004, PASS on what the
// collector reads. The compose install itself is checked live by
// TestInstallRealShapes (internal/cli).
func assertBundledDatabaseServes(t *testing.T, files []File) {
	t.Helper()
	byPath := map[string][]byte{}
	for _, f := range files {
		byPath[f.Path] = f.Data
	}
	cmd := databaseCommand(t, byPath["docker-compose.yml"])
	dbenv, err := dotenv.Parse(byPath["db.env"])
	if err != nil {
		t.Fatal(err)
	}
	key, _ := dbenv.Lookup(DBTLSKeyVar)
	// the read-only mounts: files the server's user can read, in a
	// directory of their own (hba_file and ident_file are not relative to
	// the data directory)
	conf, err := os.MkdirTemp("", "calctl-pgtls-conf-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(conf) })
	if err := os.Chmod(conf, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]string{"pg_hba.conf": DBHBAFile, "pg_ident.conf": DBIdentFile} {
		if err := os.WriteFile(filepath.Join(conf, name), byPath[p], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	local := map[string]string{ // the container's paths: ssl files relative to the data directory
		dbCertInContainer: "calctl-server.crt", dbKeyInContainer: "calctl-server.key",
		dbHBAInContainer: filepath.Join(conf, "pg_hba.conf"), dbIdentInContainer: filepath.Join(conf, "pg_ident.conf"),
	}
	opts := testenv.PostgresOptions{AuthMethod: "scram-sha-256", SuperPassword: "TESTsuper0123456789abcdef", Files: map[string][]byte{
		"calctl-server.crt": byPath[DBCertFile],
		// as the command's wrapper writes it (0600, the server's user)
		"calctl-server.key": []byte("-----BEGIN PRIVATE KEY-----\n" + key + "\n-----END PRIVATE KEY-----\n"),
	}}
	settings, start := 0, len(cmd)
	for i, a := range cmd {
		if a == "postgres" {
			start = i + 1 // the server's arguments; before them, sh -c and its script
			break
		}
	}
	for i := start; i+1 < len(cmd); i++ {
		if cmd[i] != "-c" {
			continue
		}
		k, v, _ := strings.Cut(cmd[i+1], "=")
		if l, ok := local[v]; ok {
			v = l
		}
		opts.Conf = append(opts.Conf, fmt.Sprintf("%s = '%s'", k, strings.ReplaceAll(v, "'", "''")))
		settings++
	}
	if settings < 10 || !strings.Contains(strings.Join(cmd, " "), "exec docker-entrypoint.sh") {
		t.Fatalf("the database command is not what dbtls.go makes: %q", cmd)
	}
	pg := testenv.StartPostgres(t, opts)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, byPath[DBCAFile], 0o644); err != nil {
		t.Fatal(err)
	}
	super := fmt.Sprintf("postgresql://postgres:%s@127.0.0.1:%d/postgres?sslmode=verify-ca&sslrootcert=%s", opts.SuperPassword, pg.Port, ca)
	// the certificate's name, as the services verify it (verify-full)
	cfg, err := pgx.ParseConfig(strings.Replace(strings.Replace(super, "127.0.0.1", DBServerName, 1), "verify-ca", "verify-full", 1))
	if err != nil {
		t.Fatal(err)
	}
	cfg.LookupFunc = func(context.Context, string) ([]string, error) { return []string{"127.0.0.1"}, nil }
	conn, err := pgx.ConnectConfig(context.Background(), cfg)
	if err != nil {
		t.Fatalf("verify-full for %q against the rendered CA: %v\n%s", DBServerName, err, pg.Log())
	}
	conn.Close(context.Background())
	plain, err := pgx.Connect(context.Background(), strings.Replace(super, "sslmode=verify-ca", "sslmode=disable", 1))
	if err == nil {
		plain.Close(context.Background())
		t.Errorf("a plaintext login was accepted")
	} else if !strings.Contains(err.Error(), "no encryption") {
		t.Errorf("a plaintext login failed otherwise than by pg_hba: %v", err)
	}
	f, err := collect.Collect(context.Background(), collect.Options{DatabaseURL: secret.Secret(super), Only: []checks.Source{checks.SourcePG}, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range checks.Run(f, catalog.All(), checks.Selection{Only: []string{"PG-00[1-4]"}}, nil).Results {
		n++
		if r.Status != checks.Pass {
			t.Errorf("%s %s: %s %v", r.ID, r.Status, r.Message, r.Evidence)
		}
	}
	if n != 4 {
		t.Errorf("%d results, want PG-001..PG-004", n)
	}
}

// databaseCommand is the database service's command in a rendered
// docker-compose.yml, as Compose passes it ($$ is one $).
func databaseCommand(t *testing.T, compose []byte) []string {
	t.Helper()
	var doc struct {
		Services map[string]struct {
			Command []string `yaml:"command"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(compose, &doc); err != nil {
		t.Fatal(err)
	}
	cmd := doc.Services["database"].Command
	for i := range cmd {
		cmd[i] = strings.ReplaceAll(cmd[i], "$$", "$")
	}
	return cmd
}
