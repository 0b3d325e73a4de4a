package cli

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/calctl/calctl/installer/preflight"
	"github.com/calctl/calctl/internal/testenv"
	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
)

// What is real and what stands in, in TestInstallEndToEnd:
//   - real: the git smart-HTTP server and the clone (installer/gitsource),
//     the answers file, preflight against this machine, render/secrets/write,
//     `docker compose up -d --build` (v2 plugin, or docker-compose v1 here),
//     the Docker engine's build, healthchecks, the wait for healthy, the
//     migration check on a real Postgres and `exec` of the migrate command in
//     the web container, and the HTTP verify.
//   - stand-ins (no registry can be reached, so no node or postgres image):
//     the "web app" is a static Go binary (installer/testdata/e2e/web) built
//     FROM scratch by the fixture repository's own Dockerfile, selected with
//     the answer web.dockerfile (so calctl's generated Node Dockerfile is
//     covered by golden tests, not built here); the bundled database image is
//     assembled FROM scratch from this machine's PostgreSQL 15 files
//     (/usr/lib/postgresql/15, /usr/share/postgresql/15 and the shared
//     libraries ldd lists) with a small Go entrypoint
//     (installer/testdata/e2e/pgentry) doing what the official image's does;
//     `prisma migrate deploy` is replaced by `/web migrate` via migrate.command.

const fixtureDir = "../../installer/testdata/e2e"

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// tarRootfs writes files (image path -> local path) into a tar under rootfs/
// plus extra in-memory files, and a Dockerfile `COPY rootfs/ /` — one layer.
func buildRootfsImage(t testing.TB, cli *client.Client, tag string, files map[string]string, extra map[string]string, dockerfile string) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	addDirs := func(p string) {
		for d := filepath.Dir(p); d != "/" && d != "."; d = filepath.Dir(d) {
			if dirs[d] {
				break
			}
			dirs[d] = true
		}
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		addDirs(p)
	}
	for p := range extra {
		addDirs(p)
	}
	dl := make([]string, 0, len(dirs))
	for d := range dirs {
		dl = append(dl, d)
	}
	sort.Strings(dl)
	for _, d := range dl {
		tw.WriteHeader(&tar.Header{Name: "rootfs" + d + "/", Typeflag: tar.TypeDir, Mode: 0o755})
	}
	write := func(name string, b []byte, mode int64) {
		if err := tw.WriteHeader(&tar.Header{Name: "rootfs" + name, Mode: mode, Size: int64(len(b))}); err != nil {
			t.Fatal(err)
		}
		tw.Write(b)
	}
	for _, p := range paths {
		b, err := os.ReadFile(files[p])
		if err != nil {
			t.Fatal(err)
		}
		st, _ := os.Stat(files[p])
		write(p, b, int64(st.Mode().Perm()))
	}
	for p, content := range extra {
		write(p, []byte(content), 0o644)
	}
	df := "FROM scratch\nCOPY rootfs/ /\n" + dockerfile
	tw.WriteHeader(&tar.Header{Name: "Dockerfile", Mode: 0o644, Size: int64(len(df))})
	tw.Write([]byte(df))
	tw.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	resp, err := cli.ImageBuild(ctx, &buf, build.ImageBuildOptions{Tags: []string{tag}, Remove: true, ForceRemove: true})
	if err != nil {
		t.Fatalf("build %s: %v", tag, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if bytes.Contains(body, []byte(`"error"`)) {
		t.Fatalf("build %s: %s", tag, body)
	}
	t.Cleanup(func() {
		cli.ImageRemove(context.Background(), tag, image.RemoveOptions{Force: true, PruneChildren: true})
	})
}

var lddPath = regexp.MustCompile(`=> (/\S+) \(0x`)

// buildPostgresImage assembles a Postgres 15 image from this machine's files
// (extraBins: more tools of its bin directory, e.g. pg_dump for backups).
func buildPostgresImage(t testing.TB, cli *client.Client, tag string, extraBins ...string) {
	t.Helper()
	const pgLib, pgShare = "/usr/lib/postgresql/15", "/usr/share/postgresql/15"
	if _, err := os.Stat(pgLib + "/bin/postgres"); err != nil {
		testenv.Unavailable(t, "PostgreSQL 15 files", err)
	}
	files := map[string]string{}
	var elfs []string
	// psql: the init scripts calctl mounts in /docker-entrypoint-initdb.d use it
	for _, b := range append([]string{"initdb", "postgres", "pg_isready", "psql"}, extraBins...) {
		files[pgLib+"/bin/"+b] = pgLib + "/bin/" + b
		elfs = append(elfs, pgLib+"/bin/"+b)
	}
	// initdb runs `postgres -V` through popen, which needs /bin/sh
	files["/bin/sh"] = "/bin/dash"
	elfs = append(elfs, "/bin/dash")
	for _, root := range []string{pgLib + "/lib", pgShare} {
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				files[p] = p
				if strings.HasSuffix(p, ".so") {
					elfs = append(elfs, p)
				}
			}
			return nil
		})
	}
	for _, z := range []string{"/usr/share/zoneinfo/UTC", "/usr/share/zoneinfo/Etc/UTC"} {
		if _, err := os.Stat(z); err == nil {
			files[z] = z
		}
	}
	out, _ := exec.Command("ldd", elfs...).CombinedOutput()
	for _, m := range lddPath.FindAllStringSubmatch(string(out), -1) {
		files[m[1]] = m[1]
	}
	for _, l := range strings.Fields(string(out)) {
		if strings.HasPrefix(l, "/lib64/ld-linux") {
			files[l] = l
		}
	}
	dir := t.TempDir()
	files["/pgentry"] = testenv.BuildStaticBinary(t, filepath.Join(fixtureDir, "pgentry"), dir, "pgentry")
	// the official image's entrypoint is docker-entrypoint.sh on PATH
	// (/usr/local/bin), which calctl's database command execs by name
	files["/usr/local/bin/docker-entrypoint.sh"] = files["/pgentry"]
	buildRootfsImage(t, cli, tag, files, map[string]string{
		"/etc/passwd": "root:x:0:0::/root:/sbin/nologin\npostgres:x:999:999::/var/lib/postgresql:/sbin/nologin\n",
		"/etc/group":  "root:x:0:\npostgres:x:999:\n",
	}, "ENV PATH=/usr/local/bin:/usr/bin:/bin:/usr/lib/postgresql/15/bin LD_LIBRARY_PATH=/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu:/usr/lib/postgresql/15/lib PGDATA=/var/lib/postgresql/data TZ=UTC\n"+
		// PGDATA and the socket directory owned by postgres, as the official
		// image's Dockerfile makes them (so `user: postgres` works)
		"RUN [\"/pgentry\", \"-prepare-image\"]\nENTRYPOINT [\"docker-entrypoint.sh\"]\nCMD [\"postgres\"]\n")
}

// publishFixture publishes a small monorepo whose web app is the static Go
// stand-in, with its own FROM scratch Dockerfile and HEALTHCHECK.
func publishFixture(t testing.TB) string {
	t.Helper()
	web := testenv.BuildStaticBinary(t, filepath.Join(fixtureDir, "web"), t.TempDir(), "web")
	b, err := os.ReadFile(web)
	if err != nil {
		t.Fatal(err)
	}
	srv := testenv.StartGitServer(t)
	r := testenv.NewWorkRepo(t)
	r.Write(map[string]string{
		"package.json":                  `{"name": "calcom-fixture", "private": true, "workspaces": ["apps/*", "packages/*"], "engines": {"node": ">=18.x"}}` + "\n",
		"apps/web/package.json":         `{"name": "@calcom/web", "private": true}` + "\n",
		"packages/prisma/schema.prisma": "datasource db {\n  provider  = \"postgresql\"\n  url       = env(\"DATABASE_URL\")\n  directUrl = env(\"DATABASE_DIRECT_URL\")\n}\n",
		"docker/Dockerfile":             "FROM scratch\nCOPY bin/web /web\nEXPOSE 3000\nHEALTHCHECK --interval=1s --timeout=2s --retries=60 CMD [\"/web\", \"-health\"]\nENTRYPOINT [\"/web\"]\n",
		"bin/web":                       string(b),
		"README.md":                     "calctl end-to-end fixture standing in for the Cal.com monorepo\n",
	})
	if err := os.Chmod(filepath.Join(r.Dir, "bin", "web"), 0o755); err != nil {
		t.Fatal(err)
	}
	r.Commit("fixture")
	return r.Publish(srv, "calcom/cal.com.git")
}

func composeDown(t testing.TB, dir, project string) {
	c, err := preflight.DetectCompose(context.Background())
	if err != nil {
		return
	}
	args := append(append([]string{}, c.Command[1:]...), "-p", project, "-f", filepath.Join(dir, "docker-compose.yml"), "down", "-v", "--rmi", "local", "--remove-orphans")
	if out, err := exec.Command(c.Command[0], args...).CombinedOutput(); err != nil {
		t.Logf("compose down: %v\n%s", err, out)
	}
	// the web image has an explicit name, which `--rmi local` keeps
	if cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation()); err == nil {
		cli.ImageRemove(context.Background(), project+"-web:local", image.RemoveOptions{Force: true, PruneChildren: true})
		cli.Close()
	}
}

func TestInstallEndToEnd(t *testing.T) {
	cli := testenv.RequireDocker(t)
	if _, err := preflight.DetectCompose(context.Background()); err != nil {
		testenv.Unavailable(t, "docker compose", err)
	}
	suffix := randHex(4)
	pgTag := "calctl-e2e-postgres-" + suffix + ":15"
	buildPostgresImage(t, cli, pgTag)
	repoURL := publishFixture(t)

	base := t.TempDir()
	install := filepath.Join(base, "install")
	port := testenv.FreePort(t)
	project := "calctle2e" + suffix
	answers := bundledComposeAnswers(install, repoURL, port, pgTag, project)
	ans := filepath.Join(base, "answers.yaml")
	os.WriteFile(ans, []byte(answers), 0o644)
	if os.Getenv("CALCTL_E2E_KEEP") == "" {
		t.Cleanup(func() { composeDown(t, install, project) })
	}

	// --dry-run first: prints the plan and diffs, creates nothing.
	code, _, stderr := runCLI(t, nil, "install", "--non-interactive", "--answers", ans, "--dry-run")
	if code != 0 {
		t.Fatalf("dry run: exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(install); err == nil {
		t.Fatalf("dry run created %s", install)
	}

	start := time.Now()
	code, _, stderr = runCLI(t, nil, "install", "--non-interactive", "--answers", ans)
	t.Logf("install took %s", time.Since(start).Round(time.Millisecond))
	if testing.Verbose() {
		t.Logf("install output:\n%s", stderr)
	}
	if code != 0 {
		t.Fatalf("install: exit %d\n%s", code, stderr)
	}
	for _, want := range []string{"clone: done", "start: done", "migrate: done", "verify: done", "Cal.com is up: http://127.0.0.1:"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("install output lacks %q:\n%s", want, stderr)
		}
	}
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "1 migrations") {
		t.Errorf("app answered %d %q", resp.StatusCode, body)
	}
	envBefore, _ := os.ReadFile(filepath.Join(install, ".env"))
	dbBefore, _ := os.ReadFile(filepath.Join(install, "db.env"))

	// Re-run: idempotent. Nothing rewritten, secrets byte for byte.
	code, _, stderr = runCLI(t, nil, "install", "--non-interactive", "--answers", ans)
	if code != 0 {
		t.Fatalf("re-run: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "files are up to date") {
		t.Errorf("re-run rewrote files:\n%s", stderr)
	}
	envAfter, _ := os.ReadFile(filepath.Join(install, ".env"))
	dbAfter, _ := os.ReadFile(filepath.Join(install, "db.env"))
	if !bytes.Equal(envBefore, envAfter) || !bytes.Equal(dbBefore, dbAfter) {
		t.Errorf("re-run changed secrets")
	}
	if m, _ := filepath.Glob(filepath.Join(install, "*.bak-*")); len(m) != 0 {
		t.Errorf("re-run made backups %v", m)
	}

	// --dry-run over the running install with a changed answer: shows the
	// diff (secrets masked) and leaves the tree byte for byte as it was.
	before := testenv.TreeHash(t, install)
	code, _, stderr = runCLI(t, nil, "install", "--non-interactive", "--answers", ans, "--dry-run", "--set", "database.name=other")
	if code != 0 {
		t.Fatalf("dry run: exit %d\n%s", code, stderr)
	}
	if after := testenv.TreeHash(t, install); after != before {
		t.Errorf("dry run changed the install tree")
	}
	if !strings.Contains(stderr, "+ POSTGRES_DB=other") {
		t.Errorf("dry-run diff lacks the change:\n%s", stderr)
	}
	for _, l := range strings.Split(string(dbBefore)+string(envBefore), "\n") {
		k, v, _ := strings.Cut(l, "=")
		if (strings.Contains(k, "PASSWORD") || strings.Contains(k, "SECRET") || strings.Contains(k, "KEY") || strings.Contains(k, "DATABASE")) && len(v) > 8 && strings.Contains(stderr, v) {
			t.Errorf("dry-run output leaks %s", k)
		}
	}
}

// TestInstallBadEnvironment: each bad input gives a clear error with a fix
// and leaves no install_dir behind.
func TestInstallBadEnvironment(t *testing.T) {
	testenv.RequireDocker(t)
	base := t.TempDir()
	held, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	heldPort := held.Addr().(*net.TCPAddr).Port
	plain := testenv.StartPostgres(t, testenv.PostgresOptions{AuthMethod: "scram-sha-256", SuperPassword: "pw-e2e-secret"})
	ca := "/etc/ssl/certs/ca-certificates.crt" // any real CA bundle: the server never gets to show a certificate
	if _, err := os.Stat(ca); err != nil {
		testenv.Unavailable(t, "the machine's CA bundle", err)
	}
	file := filepath.Join(base, "a-file")
	os.WriteFile(file, []byte("x"), 0o644)

	yaml := func(dir, extra string) string {
		return fmt.Sprintf("install_dir: %s\nsource: {url: http://127.0.0.1:1/none.git}\npublic_url: http://127.0.0.1:%d\nweb: {port: %d}\n%s", dir, heldPort+1, testenv.FreePort(t), extra)
	}
	tests := []struct {
		name, yaml, want string
		env              map[string]string
	}{
		{"docker unreachable", yaml(filepath.Join(base, "inst-1"), ""), "does not answer",
			map[string]string{"DOCKER_HOST": "unix://" + filepath.Join(base, "closed.sock")}},
		{"postgres refuses TLS", yaml(filepath.Join(base, "inst-2"), "target: pm2\ndatabase: {mode: rds, ca_file: "+ca+"}\n"), "refused TLS",
			map[string]string{"DATABASE_URL": plain.URL("postgres", "pw-e2e-secret", "postgres", "sslmode=verify-full")}},
		{"port in use", strings.Replace(yaml(filepath.Join(base, "inst-3"), ""), "web: {port: ", fmt.Sprintf("web: {port: %d}\n#", heldPort), 1), fmt.Sprintf("port %d (web) is in use", heldPort), nil},
		{"unwritable install_dir", yaml(filepath.Join(file, "install"), ""), "not a directory", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ans := filepath.Join(base, strings.ReplaceAll(tt.name, " ", "-")+".yaml")
			os.WriteFile(ans, []byte(tt.yaml), 0o644)
			code, stdout, stderr := runCLI(t, tt.env, "install", "--non-interactive", "--answers", ans, "--ignore-preflight", "memory,disk")
			if code != ExitFailure || !strings.Contains(stderr, tt.want) || !strings.Contains(stderr, "fix:") || !strings.Contains(stderr, "nothing was changed") {
				t.Errorf("exit %d; stderr:\n%s", code, stderr)
			}
			if strings.Contains(stdout+stderr, "pw-e2e-secret") {
				t.Errorf("output leaks the database password")
			}
		})
	}
	left, _ := filepath.Glob(filepath.Join(base, "inst-*"))
	if len(left) != 0 {
		t.Errorf("failed installs left %v", left)
	}
}

// bundledComposeAnswers is the answers file of the e2e installs: a compose
// install with the bundled database on the stand-in Postgres image pgTag,
// the fixture repository's web.dockerfile answer (the operator's own
// Dockerfile; TestInstallRealShapes builds the generated one) and its
// migrate command, on port, as compose project.
func bundledComposeAnswers(dir, repoURL string, port int, pgTag, project string) string {
	return fmt.Sprintf(`install_dir: %s
source: {url: %s, ref: main, submodules: skip}
target: compose
public_url: http://127.0.0.1:%d
database: {mode: bundled, version: 15}
proxy: none
web: {port: %d, dockerfile: docker/Dockerfile}
images: {postgres: "%s"}
migrate: {command: [/web, migrate]}
start: {timeout: 3m, project: %s}
`, dir, repoURL, port, port, pgTag, project)
}
