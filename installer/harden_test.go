package installer

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/checks/catalog"
	"github.com/calctl/calctl/checks/collect"
	"github.com/calctl/calctl/installer/contract"
	"github.com/calctl/calctl/internal/buildinfo"
	"github.com/calctl/calctl/internal/dotenv"
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
