package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"

	"github.com/calctl/calctl/backup/history"
	"github.com/calctl/calctl/installer"
	"github.com/calctl/calctl/installer/preflight"
	"github.com/calctl/calctl/internal/dotenv"
	"github.com/calctl/calctl/internal/testenv"
)

// bundledURL is a URL for the bundled database of a compose install,
// reached on its container's bridge address (it publishes no port).
func bundledURL(t testing.TB, cli *client.Client, dir string) string {
	t.Helper()
	ctx := context.Background()
	f := filters.NewArgs(filters.Arg("label", "com.docker.compose.project.working_dir="+dir), filters.Arg("label", "com.docker.compose.service=database"))
	cs, err := cli.ContainerList(ctx, container.ListOptions{Filters: f})
	if err != nil || len(cs) != 1 {
		t.Fatalf("database container of %s: %v %d", dir, err, len(cs))
	}
	insp, err := cli.ContainerInspect(ctx, cs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	ip := ""
	for _, n := range insp.NetworkSettings.Networks {
		ip = n.IPAddress
	}
	// The app role of .env, not db.env's superuser: Cal.com's tables are
	// created by `prisma migrate deploy` as the app role (the role
	// DATABASE_URL names), so rows seeded here must belong to it too, or
	// the app and calctl backup (which use that role) could not read them.
	u, err := url.Parse(envFile(t, filepath.Join(dir, ".env"))["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	// The server takes TCP only over TLS (installer/dbtls.go): verified
	// against the install's CA, by chain, since an address is dialled.
	u.Host = fmt.Sprintf("%s:5432", ip)
	u.RawQuery = url.Values{"sslmode": {"verify-ca"}, "sslrootcert": {filepath.Join(dir, installer.DBCAFile)}}.Encode()
	return u.String()
}

func envFile(t testing.TB, path string) map[string]string {
	t.Helper()
	f, err := dotenv.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	return f.Map()
}

// containerEnv is the environment a service's running container got.
func containerEnv(t testing.TB, cli *client.Client, dir, service string) map[string]string {
	t.Helper()
	ctx := context.Background()
	f := filters.NewArgs(filters.Arg("label", "com.docker.compose.project.working_dir="+dir), filters.Arg("label", "com.docker.compose.service="+service))
	cs, err := cli.ContainerList(ctx, container.ListOptions{Filters: f})
	if err != nil || len(cs) != 1 {
		t.Fatalf("%s container of %s: %v %d", service, dir, err, len(cs))
	}
	insp, err := cli.ContainerInspect(ctx, cs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, kv := range insp.Config.Env {
		k, v, _ := strings.Cut(kv, "=")
		out[k] = v
	}
	return out
}

func installFixture(t testing.TB, base, name, repoURL, pgTag, project string) (dir string, port int) {
	t.Helper()
	dir = filepath.Join(base, name)
	port = testenv.FreePort(t)
	answers := bundledComposeAnswers(dir, repoURL, port, pgTag, project)
	ans := filepath.Join(base, name+".yaml")
	if err := os.WriteFile(ans, []byte(answers), 0o644); err != nil {
		t.Fatal(err)
	}
	if os.Getenv("CALCTL_E2E_KEEP") == "" {
		t.Cleanup(func() { composeDown(t, dir, project) })
	}
	start := time.Now()
	code, _, stderr := runCLI(t, nil, "install", "--non-interactive", "--answers", ans, "--ignore-preflight", "memory,disk")
	t.Logf("install %s took %s", name, time.Since(start).Round(time.Millisecond))
	if code != 0 {
		t.Fatalf("install %s: exit %d\n%s", name, code, stderr)
	}
	return dir, port
}

// TestBackupRestoreEndToEnd: two real compose installs with a bundled
// database (the stand-in images of TestInstallEndToEnd, the Postgres one
// with pg_dump and pg_restore added, as the official image has them).
// Rows are written to the first; it is backed up (pg_dump inside its
// database container), the backup is verified in a scratch container of
// the same image, and restored into the second install: every table's
// count and checksum are equal, the secrets are the first install's, and
// the second install's app comes back up with them.
func TestBackupRestoreEndToEnd(t *testing.T) {
	testenv.Slow(t, "two compose installs, a backup, a verify container and a restore")
	cli := testenv.RequireDocker(t)
	if _, err := preflight.DetectCompose(context.Background()); err != nil {
		testenv.Unavailable(t, "docker compose", err)
	}
	ctx := context.Background()
	suffix := randHex(4)
	pgTag := "calctl-backup-postgres-" + suffix + ":15"
	buildPostgresImage(t, cli, pgTag, "pg_dump", "pg_restore")
	repoURL := publishFixture(t)
	base := t.TempDir()
	src, _ := installFixture(t, base, "src", repoURL, pgTag, "calctlbksrc"+suffix)
	dst, dstPort := installFixture(t, base, "dst", repoURL, pgTag, "calctlbkdst"+suffix)

	srcURL := bundledURL(t, cli, src)
	pgSeed(t, srcURL, 40, 2000)
	want := tableSums(t, ctx, srcURL)

	key := filepath.Join(base, "key.txt")
	code, rec, stderr := runCLI(t, nil, "backup", "keygen", "--out", key)
	if code != 0 {
		t.Fatalf("keygen: %s", stderr)
	}
	env := map[string]string{"CALCTL_BACKUP_RECIPIENT": strings.TrimSpace(rec), "CALCTL_BACKUP_IDENTITY": key}
	start := time.Now()
	code, stdout, stderr := runCLI(t, env, "backup", "--dir", src)
	t.Logf("backup took %s: %s", time.Since(start).Round(time.Millisecond), stderr)
	if code != 0 {
		t.Fatalf("backup: exit %d\n%s", code, stderr)
	}
	file := strings.TrimSpace(stdout)
	if filepath.Dir(file) != filepath.Join(src, "backups") {
		t.Errorf("backup went to %s", file)
	}

	start = time.Now()
	code, stdout, stderr = runCLI(t, env, "backup", "verify", file, "--scratch", "container")
	t.Logf("verify took %s: %s%s", time.Since(start).Round(time.Millisecond), stdout, stderr)
	if code != 0 {
		t.Fatalf("verify: exit %d\n%s", code, stderr)
	}
	left, _ := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", "calctl.scratch"))})
	if len(left) != 0 {
		t.Errorf("verify left %d scratch container(s)", len(left))
	}

	start = time.Now()
	code, _, stderr = runCLI(t, env, "restore", file, "--dir", dst, "--yes")
	t.Logf("restore took %s:\n%s", time.Since(start).Round(time.Millisecond), stderr)
	if code != 0 {
		t.Fatalf("restore: exit %d\n%s", code, stderr)
	}
	if got := tableSums(t, ctx, bundledURL(t, cli, dst)); fmt.Sprint(got) != fmt.Sprint(want) || len(want) < 3 {
		t.Errorf("restored content differs:\nwant %v\ngot  %v", want, got)
	}
	se, de := envOf(t, src), envOf(t, dst)
	web := containerEnv(t, cli, dst, "web")
	for _, k := range []string{"NEXTAUTH_SECRET", "CALENDSO_ENCRYPTION_KEY"} {
		if se[k] == "" || se[k] != de[k] || web[k] != se[k] {
			t.Errorf("%s: the restored install or its running app does not have the backup's value", k)
		}
		if strings.Contains(stderr, se[k]) {
			t.Errorf("restore output leaks %s", k)
		}
	}
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", dstPort))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("restored app answered %d %q", resp.StatusCode, body)
	}
	for dir, kind := range map[string]string{src: "verify", dst: "restore"} {
		ev, _ := history.Read(dir)
		if e, ok := history.Last(ev, kind, "ok"); !ok || e.File != file {
			t.Errorf("%s history lacks the %s: %+v", dir, kind, ev)
		}
	}
}
