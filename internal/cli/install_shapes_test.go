package cli

import (
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
	"github.com/calctl/calctl/installer/preflight"
	"github.com/calctl/calctl/internal/testenv"
	"github.com/docker/docker/api/types/container"
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
