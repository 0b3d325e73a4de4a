package cli

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calctl/calctl/installer"
	"github.com/calctl/calctl/installer/contract"
	"github.com/calctl/calctl/installer/preflight"
	"github.com/calctl/calctl/internal/testenv"
	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
)

// What is real and what stands in, in TestInstallRealShapes:
//   - real: calctl end to end (clone over git smart HTTP, secrets, render,
//     write, compose up --build with the generated docker-compose.yml,
//     build/web.Dockerfile and .env exactly as written — no web.dockerfile
//     override —, the wait for healthy, the migration check, migrate, seed,
//     verify), the Docker engine and docker-compose, PostgreSQL 15, the
//     calctl image the cron service runs.
//   - stand-ins (no npm or image registry is reachable): the images node:16
//     and node:18 that the generated Dockerfile names, built here FROM
//     scratch from Debian's busybox-static and one static Go program
//     (installer/testdata/standin/toolchain) acting as node, yarn, npx,
//     corepack, next, turbo, prisma and ts-node and enforcing the contracts
//     of calcom-facts.md §9; the Cal.com trees themselves
//     (installer/testdata/trees: the 2022, 2023 and 2025 shapes); the
//     bundled database's image, assembled from this machine's PostgreSQL 15
//     files as TestInstallEndToEnd does.

const treesDir = "../../installer/testdata/trees"

// nodeStandins are the Node images the generated Dockerfiles name for the
// three trees, with the Node version each stand-in reports.
var nodeStandins = map[string]string{"node:16": "16.20.2", "node:18": "18.20.4"}

// buildNodeStandins tags the stand-in toolchain image under the exact names
// the generated Dockerfile uses. An image of that name that is not a
// stand-in (a real node image someone pulled) is never replaced: the test
// then fails, because it would not be testing the stand-in's contracts.
func buildNodeStandins(t *testing.T, cli *client.Client, suffix string) {
	t.Helper()
	toolchain := testenv.BuildStaticBinary(t, "../../installer/testdata/standin/toolchain", t.TempDir(), "standin")
	busybox := "/bin/busybox"
	if _, err := os.Stat(busybox); err != nil {
		testenv.Unavailable(t, "Debian's busybox-static (/bin/busybox)", err)
	}
	for tag, version := range nodeStandins {
		if ins, err := cli.ImageInspect(context.Background(), tag); err == nil {
			if ins.Config == nil || ins.Config.Labels["calctl.standin"] == "" {
				t.Fatalf("image %s exists and is not calctl's stand-in; remove it or run on a machine without it", tag)
			}
		}
		buildRootfsImage(t, cli, tag, map[string]string{"/bin/busybox": busybox, "/usr/local/bin/standin": toolchain}, nil,
			`RUN ["/bin/busybox", "sh", "-c", "/bin/busybox --install -s /bin && for t in node yarn npx corepack; do ln -s standin /usr/local/bin/$t; done && mkdir -p /tmp /usr/local/share && chmod 1777 /tmp"]`+"\n"+
				"ENV PATH=/usr/local/bin:/usr/bin:/bin STANDIN_NODE_VERSION="+version+"\n"+
				"LABEL calctl.standin="+suffix+"\n"+
				`CMD ["node", "--version"]`+"\n")
	}
}

// buildCalctlImage builds the image the cron service runs from this calctl.
func buildCalctlImage(t *testing.T, cli *client.Client, tag string) {
	t.Helper()
	bin := testenv.BuildStaticBinary(t, "../../cmd/calctl", t.TempDir(), "calctl")
	buildRootfsImage(t, cli, tag, map[string]string{"/calctl": bin}, map[string]string{"/tmp/.keep": ""}, `ENTRYPOINT ["/calctl"]`+"\n")
}

// publishTree publishes a fixture tree as a git repository.
func publishTree(t *testing.T, srv *testenv.GitServer, vintage string) string {
	t.Helper()
	files := map[string]string{}
	root := filepath.Join(treesDir, vintage)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		files[filepath.ToSlash(rel)] = string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	r := testenv.NewWorkRepo(t)
	r.Write(files)
	r.Commit("Cal.com " + vintage + " shape")
	return r.Publish(srv, "calcom/cal-"+vintage+".git")
}

func httpGet(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// execIn runs argv in the running container of a compose service.
func execIn(t *testing.T, cli *client.Client, project, service string, argv []string) (int, string) {
	t.Helper()
	ctx := context.Background()
	cs, err := cli.ContainerList(ctx, container.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.Labels["com.docker.compose.project"] != project || c.Labels["com.docker.compose.service"] != service {
			continue
		}
		ex, err := cli.ContainerExecCreate(ctx, c.ID, container.ExecOptions{Cmd: argv, AttachStdout: true, AttachStderr: true})
		if err != nil {
			t.Fatal(err)
		}
		att, err := cli.ContainerExecAttach(ctx, ex.ID, container.ExecAttachOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		stdcopy.StdCopy(&out, &out, att.Reader)
		att.Close()
		ins, err := cli.ContainerExecInspect(ctx, ex.ID)
		if err != nil {
			t.Fatal(err)
		}
		return ins.ExitCode, out.String()
	}
	t.Fatalf("no running %s container in %s", service, project)
	return 0, ""
}

func TestInstallRealShapes(t *testing.T) {
	cli := testenv.RequireDocker(t)
	if _, err := preflight.DetectCompose(context.Background()); err != nil {
		testenv.Unavailable(t, "docker compose", err)
	}
	suffix := randHex(4)
	pgTag := "calctl-shapes-postgres-" + suffix + ":15"
	calctlTag := "calctl-shapes-calctl-" + suffix + ":test"
	// every stand-in once for the whole test; the vintages share them
	buildPostgresImage(t, cli, pgTag)
	buildNodeStandins(t, cli, suffix)
	buildCalctlImage(t, cli, calctlTag)
	srv := testenv.StartGitServer(t)

	t.Run("stand-ins enforce the contracts", func(t *testing.T) {
		t.Parallel()
		standinContracts(t, cli, suffix)
	})
	for _, vintage := range []string{"2022", "2023", "2025"} {
		repoURL := publishTree(t, srv, vintage)
		t.Run(vintage, func(t *testing.T) {
			t.Parallel()
			base := t.TempDir()
			install := filepath.Join(base, "install")
			port, apiPort := testenv.FreePort(t), testenv.FreePort(t)
			project := "calctlshapes" + vintage + suffix
			answers := fmt.Sprintf(`install_dir: %s
source: {url: %s, ref: main, submodules: skip}
target: compose
public_url: http://127.0.0.1:%d
database: {mode: bundled, version: 15}
proxy: none
web: {port: %d}
api: {port: %d}
images: {postgres: "%s", calctl: "%s"}
start: {timeout: 5m, project: %s}
`, install, repoURL, port, port, apiPort, pgTag, calctlTag, project)
			withKey := answers + "api: {port: " + fmt.Sprint(apiPort) + ", license_key_env: CALCOM_LICENSE_KEY}\n"
			withKey = strings.Replace(withKey, fmt.Sprintf("api: {port: %d}\n", apiPort), "", 1)
			ans := filepath.Join(base, "answers.yaml")
			ansKey := filepath.Join(base, "answers-key.yaml")
			os.WriteFile(ans, []byte(answers), 0o644)
			os.WriteFile(ansKey, []byte(withKey), 0o644)
			if os.Getenv("CALCTL_E2E_KEEP") == "" {
				t.Cleanup(func() { composeDown(t, install, project) })
			}
			keyEnv := map[string]string{"CALCOM_LICENSE_KEY": "test-license-" + suffix}

			// 1. without a license key: the web app builds and runs, the API is
			//    not started and the plan says why
			start := time.Now()
			code, _, stderr := runCLI(t, nil, "install", "--non-interactive", "--answers", ans)
			t.Logf("%s: install took %s", vintage, time.Since(start).Round(time.Second))
			if code != 0 {
				t.Fatalf("install: exit %d\n%s", code, stderr)
			}
			for _, want := range []string{"start: done", "migrate: done", "verify: done", "API v1", "is not started"} {
				if !strings.Contains(stderr, want) {
					t.Errorf("install output lacks %q:\n%s", want, stderr)
				}
			}
			compose, _ := os.ReadFile(filepath.Join(install, "docker-compose.yml"))
			if bytes.Contains(compose, []byte("\n  api:\n")) {
				t.Errorf("the API service is rendered without a license key")
			}
			if _, err := os.Stat(filepath.Join(install, "build/web.Dockerfile")); err != nil {
				t.Errorf("no generated Dockerfile: %v", err)
			}
			status, body := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/", port))
			if status != 200 || !strings.Contains(body, "calcom-standin web ok: 2 migrations, 3 apps, seeded 1 times") {
				t.Errorf("web answered %d %q", status, body)
			}
			if status, _ := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/", apiPort)); status != 0 {
				t.Errorf("something answers on the API port without a key: %d", status)
			}
			assertHardened(t, cli, project, install, "calendso", "calcom")
			// the cron runner calls the tree's scheduled routes with the key .env holds
			code, out := execIn(t, cli, project, "cron", []string{"/calctl", "cron", "--config", "/etc/calctl/cron.yaml", "--once"})
			if code != 0 {
				t.Errorf("calctl cron --once in the cron service: exit %d\n%s", code, out)
			}
			_, calls := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/standin/cron-calls", port))
			var m map[string]int
			json.Unmarshal([]byte(calls), &m)
			if m["bookingReminder"] < 1 {
				t.Errorf("cron routes called: %s", calls)
			}

			// 2. with the key: API v1 is built and answers
			code, _, stderr = runCLI(t, keyEnv, "install", "--non-interactive", "--answers", ansKey)
			if code != 0 {
				t.Fatalf("install with a license key: exit %d\n%s", code, stderr)
			}
			status, body = httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/", apiPort))
			if status != 200 || !strings.Contains(body, "calcom-standin api ok") {
				t.Errorf("API answered %d %q", status, body)
			}
			assertHardened(t, cli, project, install, "calendso", "calcom")
			if !strings.Contains(stderr, "seed: skipped") {
				t.Errorf("the app store was seeded again at the same commit:\n%s", stderr)
			}
			_, body = httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/", port))
			if !strings.Contains(body, "seeded 1 times") {
				t.Errorf("web after the second run: %q", body)
			}
			envBefore, _ := os.ReadFile(filepath.Join(install, ".env"))
			if !bytes.Contains(envBefore, []byte("CALCOM_LICENSE_KEY=test-license-"+suffix)) {
				t.Errorf(".env lacks the license key")
			}

			// 3. a second run with the same answers changes nothing
			code, _, stderr = runCLI(t, keyEnv, "install", "--non-interactive", "--answers", ansKey)
			if code != 0 {
				t.Fatalf("re-run: exit %d\n%s", code, stderr)
			}
			if !strings.Contains(stderr, "files are up to date") {
				t.Errorf("re-run rewrote files:\n%s", stderr)
			}
			envAfter, _ := os.ReadFile(filepath.Join(install, ".env"))
			if !bytes.Equal(envBefore, envAfter) {
				t.Errorf("re-run changed .env")
			}
			if status, body := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/", port)); status != 200 {
				t.Errorf("web after re-run: %d %q", status, body)
			}
			_ = installer.BuildPlaceholder
		})
	}
}

// renderFor renders the compose install of a fixture tree (fixed secrets)
// and returns the files by path.
func renderFor(t *testing.T, vintage, extra string, env map[string]string) map[string]string {
	t.Helper()
	a, err := contract.DecodeAnswers([]byte("install_dir: /opt/calcom\ntarget: compose\npublic_url: http://127.0.0.1:3999\nweb: {port: 3999}\n" + extra))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Finish(); err != nil {
		t.Fatal(err)
	}
	e, err := a.ResolveEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	repo, err := installer.InspectRepo(filepath.Join(treesDir, vintage))
	if err != nil {
		t.Fatal(err)
	}
	tls, err := installer.NewDatabaseTLS(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	sec := installer.Secrets{NextAuthSecret: "n", EncryptionKey: "k", DatabasePassword: "p", CronAPIKey: "c", CronSecret: "s", LicenseKey: e.LicenseKey, DBTLS: tls}
	r, err := installer.RenderFiles(a, e, repo, sec, installer.Existing{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range r.Files {
		out[f.Path] = string(f.Data)
	}
	return out
}

// buildContext builds the image of a tree with the given Dockerfile, as
// compose would (context: install_dir with src/ and .dockerignore), and
// returns the build output and whether it succeeded.
func buildContext(t *testing.T, cli *client.Client, vintage, dockerfile, tag string, args map[string]*string, files map[string]string) (string, bool) {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "src"), os.DirFS(filepath.Join(treesDir, vintage))); err != nil {
		t.Fatal(err)
	}
	for p, data := range files { // rendered files the Dockerfile copies (db/tls/ca.pem)
		os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755)
		os.WriteFile(filepath.Join(dir, p), []byte(data), 0o644)
	}
	os.MkdirAll(filepath.Join(dir, "build"), 0o755)
	os.WriteFile(filepath.Join(dir, "build", "web.Dockerfile"), []byte(dockerfile), 0o644)
	tarball, err := archiveDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	resp, err := cli.ImageBuild(ctx, tarball, build.ImageBuildOptions{Tags: []string{tag}, Dockerfile: "build/web.Dockerfile", Remove: true, ForceRemove: true, BuildArgs: args})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	t.Cleanup(func() {
		cli.ImageRemove(context.Background(), tag, image.RemoveOptions{Force: true, PruneChildren: true})
	})
	var lines []string
	ok := true
	for _, l := range strings.Split(string(body), "\n") {
		var m struct{ Stream, Error string }
		if json.Unmarshal([]byte(l), &m) == nil {
			lines = append(lines, m.Stream+m.Error)
			if m.Error != "" {
				ok = false
			}
		}
	}
	return strings.Join(lines, ""), ok
}

func archiveDir(dir string) (io.Reader, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		h, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		h.Name = filepath.ToSlash(rel)
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if d.Type().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			tw.Write(b)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &buf, tw.Close()
}

// runIn runs cmd in a new container of img and returns its exit code and output.
func runImage(t *testing.T, cli *client.Client, img, workdir string, env []string, cmd ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := cli.ContainerCreate(ctx, &container.Config{Image: img, Cmd: cmd, Env: env, WorkingDir: workdir}, nil, nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	defer cli.ContainerRemove(context.Background(), c.ID, container.RemoveOptions{Force: true})
	if err := cli.ContainerStart(ctx, c.ID, container.StartOptions{}); err != nil {
		t.Fatal(err)
	}
	waitC, errC := cli.ContainerWait(ctx, c.ID, container.WaitConditionNotRunning)
	code := -1
	select {
	case w := <-waitC:
		code = int(w.StatusCode)
	case err := <-errC:
		t.Fatal(err)
	}
	rc, err := cli.ContainerLogs(ctx, c.ID, container.LogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var out bytes.Buffer
	stdcopy.StdCopy(&out, &out, rc)
	return code, out.String()
}

// standinContracts proves the stand-ins fail the way the real toolchain and
// app do when a contract of calcom-facts.md §9 is broken: each case takes
// the generated Dockerfile of a tree, breaks one thing calctl does, and
// expects the build or the app to refuse.
func standinContracts(t *testing.T, cli *client.Client, suffix string) {
	lic := map[string]string{"CALCOM_LICENSE_KEY": "k"}
	r2022 := renderFor(t, "2022", "", nil)
	df2022 := r2022["build/web.Dockerfile"]
	ca := map[string]string{installer.DBCAFile: r2022[installer.DBCAFile]}
	df2023 := renderFor(t, "2023", "", nil)["build/web.Dockerfile"]
	df2025 := renderFor(t, "2025", "api: {license_key_env: CALCOM_LICENSE_KEY}\n", lic)["build/web.Dockerfile"]
	drop := func(df, line string) string {
		out := strings.Replace(df, line, "", 1)
		if out == df {
			t.Fatalf("%q is not in the generated Dockerfile:\n%s", line, df)
		}
		return out
	}
	unreachable := "postgresql://calcom:p@database:5432/calendso?sslmode=require&sslcert=/opt/calcom/db/tls/ca.pem&sslaccept=strict"
	builds := []struct {
		name, vintage, dockerfile, want string
		args                            map[string]*string
		files                           map[string]string
	}{
		{"yarn@4 without corepack", "2025", drop(df2025, "RUN corepack enable\n"), "Corepack must currently be enabled", nil, nil},
		{"build without the two secrets", "2023", strings.Replace(df2023, "RUN NEXTAUTH_SECRET="+installer.BuildPlaceholder+" \\\n    CALENDSO_ENCRYPTION_KEY="+installer.BuildPlaceholder+" \\\n    ", "RUN ", 1), "Please set", nil, nil},
		{"2022 build without its database", "2022", df2022, "P1001", map[string]*string{"DATABASE_URL": &unreachable}, ca},
		// the bundled database's URL verifies with the CA at its install
		// path: without the COPY the build's engine cannot open it
		{"2022 build without the database CA", "2022", drop(df2022, `COPY ["db/tls/ca.pem", "/opt/calcom/db/tls/ca.pem"]`+"\n"), "P1011", map[string]*string{"DATABASE_URL": &unreachable}, ca},
		{"2022 tree on Node 18", "2022", strings.ReplaceAll(df2022, "FROM node:16", "FROM node:18"), `The engine "node" is incompatible`, nil, ca},
	}
	for i, b := range builds {
		out, ok := buildContext(t, cli, b.vintage, b.dockerfile, fmt.Sprintf("calctl-shapes-contract%d-%s:x", i, suffix), b.args, b.files)
		if ok || !strings.Contains(out, b.want) {
			t.Errorf("%s: build succeeded=%v, want a failure with %q:\n%s", b.name, ok, b.want, out)
		}
	}
	// an image without API v1's own build, with the web app's build baked
	// for another URL: next start refuses the API, another app's next is
	// refused, the web app answers 500
	tag := "calctl-shapes-contract-run-" + suffix + ":x"
	noAPIBuild := drop(df2025, "RUN NEXTAUTH_SECRET="+installer.BuildPlaceholder+" \\\n    CALENDSO_ENCRYPTION_KEY="+installer.BuildPlaceholder+" \\\n    DATABASE_URL=postgresql://build:build@127.0.0.1:5432/build \\\n    DATABASE_DIRECT_URL=postgresql://build:build@127.0.0.1:5432/build \\\n    yarn workspace @calcom/api build\n")
	if out, ok := buildContext(t, cli, "2025", noAPIBuild, tag, nil, nil); !ok {
		t.Fatalf("build: %s", out)
	}
	if code, out := runImage(t, cli, tag, "/calcom/apps/api/v1", nil, "yarn", "next", "start", "-p", "3998"); code == 0 || !strings.Contains(out, "Could not find a production build") {
		t.Errorf("API v1 without its build: exit %d %s", code, out)
	}
	if code, out := runImage(t, cli, tag, "/calcom/apps/api/v1", nil, "/calcom/node_modules/.bin/next", "start"); code == 0 || !strings.Contains(out, "each app must start with its own next") {
		t.Errorf("API v1 with the web app's next: exit %d %s", code, out)
	}
	probe := `yarn next start -p 3997 & sleep 2; wget -q -O- http://127.0.0.1:3997/ 2>&1; echo; wget -S -O /dev/null http://127.0.0.1:3997/ 2>&1 | grep HTTP/`
	for _, c := range []struct {
		name string
		env  []string
		want string
	}{
		{"a 31-character key", []string{"CALENDSO_ENCRYPTION_KEY=" + strings.Repeat("k", 31), "NEXTAUTH_SECRET=s", "NEXT_PUBLIC_WEBAPP_URL=http://127.0.0.1:3999"}, "Invalid key length"},
		{"another URL than the build's", []string{"CALENDSO_ENCRYPTION_KEY=" + strings.Repeat("k", 32), "NEXTAUTH_SECRET=s", "NEXT_PUBLIC_WEBAPP_URL=https://elsewhere.example.com"}, "the build inlined NEXT_PUBLIC_WEBAPP_URL"},
	} {
		_, out := runImage(t, cli, tag, "/calcom/apps/web", c.env, "sh", "-c", probe)
		if !strings.Contains(out, c.want) || !strings.Contains(out, "500") {
			t.Errorf("web app with %s: %s", c.name, out)
		}
	}
}
