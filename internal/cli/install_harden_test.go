package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/checks/catalog"
	"github.com/calctl/calctl/checks/collect"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
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
	// satisfies"); and PG-005/PG-006/PG-007 on the bundled database, reached
	// through Docker as `calctl check --dir` does, with DATABASE_URL's role
	f, err := collect.Collect(ctx, collect.Options{Dir: installDir, Docker: true, DockerClient: cli,
		ContainerLabel: "com.docker.compose.project=" + project,
		Only:           []checks.Source{checks.SourceDocker, checks.SourceFiles, checks.SourcePG}, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	var list []checks.Check
	for _, ch := range catalog.All() {
		if id := ch.ID(); strings.HasPrefix(id, "DK-") || id == "PG-005" || id == "PG-006" || id == "PG-007" {
			list = append(list, ch)
		}
	}
	pg := 0
	for _, r := range checks.Run(f, list, checks.Selection{}, nil).Results {
		if strings.HasPrefix(r.ID, "PG-") {
			pg++
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
	if pg < 3 {
		t.Errorf("%d PG results, want PG-005, PG-006 and PG-007", pg)
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
