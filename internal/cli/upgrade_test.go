package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"

	"github.com/calctl/calctl/backup/history"
	"github.com/calctl/calctl/installer/preflight"
	"github.com/calctl/calctl/internal/testenv"
)

// publishUpgradeFixture publishes the stand-in monorepo with four
// branches: main (the installed version), v2 (a new version: its image
// carries CALCOM_FIXTURE_VERSION=2), broken (its image does not build) and
// badmigrate (after v2: version 3, whose migration fails halfway).
func publishUpgradeFixture(t testing.TB) string {
	t.Helper()
	web := testenv.BuildStaticBinary(t, filepath.Join(fixtureDir, "web"), t.TempDir(), "web")
	b, err := os.ReadFile(web)
	if err != nil {
		t.Fatal(err)
	}
	fm, err := os.ReadFile(testenv.BuildStaticBinary(t, filepath.Join("testdata", "failmigrate"), t.TempDir(), "failmigrate"))
	if err != nil {
		t.Fatal(err)
	}
	srv := testenv.StartGitServer(t)
	r := testenv.NewWorkRepo(t)
	dockerfile := "FROM scratch\nCOPY bin/web /web\nEXPOSE 3000\nHEALTHCHECK --interval=1s --timeout=2s --retries=60 CMD [\"/web\", \"-health\"]\nENTRYPOINT [\"/web\"]\n"
	r.Write(map[string]string{
		"package.json":                  `{"name": "calcom-fixture", "private": true, "workspaces": ["apps/*", "packages/*"], "engines": {"node": ">=18.x"}}` + "\n",
		"apps/web/package.json":         `{"name": "@calcom/web", "version": "1.0.0", "private": true}` + "\n",
		"packages/prisma/schema.prisma": "datasource db {\n  provider  = \"postgresql\"\n  url       = env(\"DATABASE_URL\")\n  directUrl = env(\"DATABASE_DIRECT_URL\")\n}\n",
		"docker/Dockerfile":             dockerfile,
		"bin/web":                       string(b),
	})
	os.Chmod(filepath.Join(r.Dir, "bin", "web"), 0o755)
	r.Commit("v1")
	testenv.Git(t, r.Dir, "checkout", "-q", "-b", "v2")
	r.Write(map[string]string{"apps/web/package.json": `{"name": "@calcom/web", "version": "2.0.0", "private": true}` + "\n",
		"docker/Dockerfile": strings.Replace(dockerfile, "EXPOSE 3000\n", "EXPOSE 3000\nENV CALCOM_FIXTURE_VERSION=2\n", 1)})
	r.Commit("v2")
	testenv.Git(t, r.Dir, "checkout", "-q", "-b", "broken", "main")
	r.Write(map[string]string{"docker/Dockerfile": strings.Replace(dockerfile, "COPY bin/web /web\n", "COPY bin/web /web\nCOPY bin/missing-in-this-version /missing\n", 1)})
	r.Commit("broken build")
	testenv.Git(t, r.Dir, "checkout", "-q", "-b", "badmigrate", "v2")
	r.Write(map[string]string{"bin/failmigrate": string(fm),
		"docker/Dockerfile": strings.Replace(strings.Replace(dockerfile, "COPY bin/web /web\n", "COPY bin/web /web-app\nCOPY bin/failmigrate /web\n", 1), "EXPOSE 3000\n", "EXPOSE 3000\nENV CALCOM_FIXTURE_VERSION=3\n", 1)})
	os.Chmod(filepath.Join(r.Dir, "bin", "failmigrate"), 0o755)
	r.Commit("v3 with a failing migration")
	testenv.Git(t, r.Dir, "checkout", "-q", "main")
	return r.Publish(srv, "calcom/cal.com.git")
}

// installHash hashes the install's own files (not the checkout's .git,
// the backups or calctl's history), to prove a failed upgrade changed
// nothing.
func installHash(t testing.TB, dir string) string {
	t.Helper()
	h := sha256.New()
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == filepath.Join("src", ".git") || rel == "backups" || rel == ".calctl" {
			return filepath.SkipDir
		}
		info, _ := d.Info()
		fmt.Fprintf(h, "%s %v\n", rel, info.Mode())
		if info.Mode().IsRegular() {
			b, _ := os.ReadFile(p)
			h.Write(b)
		}
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))
}

func webContainer(t testing.TB, cli *client.Client, dir string) container.Summary {
	t.Helper()
	f := filters.NewArgs(filters.Arg("label", "com.docker.compose.project.working_dir="+dir), filters.Arg("label", "com.docker.compose.service=web"))
	cs, err := cli.ContainerList(context.Background(), container.ListOptions{All: true, Filters: f})
	if err != nil || len(cs) != 1 {
		t.Fatalf("web container of %s: %v (%d)", dir, err, len(cs))
	}
	return cs[0]
}

func getApp(t testing.TB, port int) (int, string) {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestUpgradeEndToEnd: a real compose install (stand-in images) upgraded
// to a ref whose image does not build — the old version keeps serving and
// nothing changed — then to a good ref: the new image runs, the secrets
// are byte-identical, the data is kept; then to a release whose migration
// fails halfway: the previous image is back and the database equal to
// before (--rollback-db). The history records every attempt.
func TestUpgradeEndToEnd(t *testing.T) {
	testenv.Slow(t, "a compose install, a backup drill and two upgrades")
	cli := testenv.RequireDocker(t)
	if _, err := preflight.DetectCompose(context.Background()); err != nil {
		testenv.Unavailable(t, "docker compose", err)
	}
	ctx := context.Background()
	suffix := randHex(4)
	pgTag := "calctl-upgrade-postgres-" + suffix + ":15"
	buildPostgresImage(t, cli, pgTag, "pg_dump", "pg_restore")
	repoURL := publishUpgradeFixture(t)
	base := t.TempDir()
	project := "calctlup" + suffix
	dir, port := installFixture(t, base, "inst", repoURL, pgTag, project)
	ans := filepath.Join(base, "inst.yaml")
	t.Cleanup(func() {
		cli.ImageRemove(context.Background(), project+"-web:calctl-rollback", imageRemoveOptions())
	})
	dbURL := bundledURL(t, cli, dir)
	pgSeed(t, dbURL, 10, 500)
	data := tableSums(t, ctx, dbURL)
	envBefore, _ := os.ReadFile(filepath.Join(dir, ".env"))
	dbEnvBefore, _ := os.ReadFile(filepath.Join(dir, "db.env"))
	key := filepath.Join(base, "key.txt")
	_, rec, _ := runCLI(t, nil, "backup", "keygen", "--out", key)
	env := map[string]string{"CALCTL_BACKUP_RECIPIENT": strings.TrimSpace(rec)}

	// refused without a key, unless --no-backup
	before := installHash(t, dir)
	webBefore := webContainer(t, cli, dir)
	code, _, stderr := runCLI(t, nil, "upgrade", "--dir", dir, "--answers", ans, "--ref", "v2")
	if code == 0 || !strings.Contains(stderr, "verified backup first") {
		t.Errorf("upgrade without a key: exit %d\n%s", code, stderr)
	}
	// --dry-run: the plan, nothing changed
	code, _, stderr = runCLI(t, env, "upgrade", "--dir", dir, "--answers", ans, "--ref", "v2", "--dry-run", "--no-backup")
	if code != 0 || !strings.Contains(stderr, "NO BACKUP") {
		t.Errorf("dry run: exit %d\n%s", code, stderr)
	}
	if installHash(t, dir) != before {
		t.Errorf("the dry run changed the install")
	}

	// a ref whose image does not build
	code, _, stderr = runCLI(t, env, "upgrade", "--dir", dir, "--answers", ans, "--ref", "broken")
	t.Logf("broken upgrade:\n%s", stderr)
	if code == 0 || !strings.Contains(stderr, "failed at start") || !strings.Contains(stderr, "rolled back") {
		t.Fatalf("upgrade to a broken ref: exit %d", code)
	}
	if after := installHash(t, dir); after != before {
		t.Errorf("the failed upgrade changed the install's files or checkout")
	}
	if w := webContainer(t, cli, dir); w.ID != webBefore.ID || w.State != "running" {
		t.Errorf("the old web container does not serve any more: %s %s", w.ID, w.State)
	}
	if st, body := getApp(t, port); st != 200 {
		t.Errorf("after the failed upgrade the app answers %d %q", st, body)
	}

	// a good ref
	code, _, stderr = runCLI(t, env, "upgrade", "--dir", dir, "--answers", ans, "--ref", "v2")
	if code != 0 {
		t.Fatalf("upgrade to v2: exit %d\n%s", code, stderr)
	}
	if e := containerEnv(t, cli, dir, "web"); e["CALCOM_FIXTURE_VERSION"] != "2" {
		t.Errorf("the web container does not run v2's image")
	}
	envAfter, _ := os.ReadFile(filepath.Join(dir, ".env"))
	dbEnvAfter, _ := os.ReadFile(filepath.Join(dir, "db.env"))
	if !bytes.Equal(envBefore, envAfter) || !bytes.Equal(dbEnvBefore, dbEnvAfter) {
		t.Errorf("the upgrade changed the secrets")
	}
	if st, body := getApp(t, port); st != 200 {
		t.Errorf("after the upgrade the app answers %d %q", st, body)
	}
	got := tableSums(t, ctx, bundledURL(t, cli, dir))
	for tb, sum := range data {
		if tb != "_prisma_migrations" && got[tb] != sum {
			t.Errorf("table %s changed: %s -> %s", tb, sum, got[tb])
		}
	}

	// a release whose migration fails halfway, after the switch: the
	// previous image comes back and --rollback-db restores the database
	dataV2 := tableSums(t, ctx, bundledURL(t, cli, dir))
	code, _, stderr = runCLI(t, env, "upgrade", "--dir", dir, "--answers", ans, "--ref", "badmigrate", "--rollback-db")
	t.Logf("failing migration:\n%s", stderr)
	if code == 0 || !strings.Contains(stderr, "failed at migrate") || !strings.Contains(stderr, "database restored") {
		t.Errorf("upgrade with a failing migration: exit %d", code)
	}
	if e := containerEnv(t, cli, dir, "web"); e["CALCOM_FIXTURE_VERSION"] != "2" {
		t.Errorf("the previous image (v2) is not back: version %q", e["CALCOM_FIXTURE_VERSION"])
	}
	if got := tableSums(t, ctx, bundledURL(t, cli, dir)); fmt.Sprint(got) != fmt.Sprint(dataV2) {
		t.Errorf("the database is not as before the failed migration:\nwant %v\ngot  %v", dataV2, got)
	}
	if st, body := getApp(t, port); st != 200 {
		t.Errorf("after the rollback the app answers %d %q", st, body)
	}

	ev, _ := history.Read(dir)
	var ups []string
	for _, e := range ev {
		if e.Kind == history.KindUpgrade {
			ups = append(ups, e.Result+" "+e.To)
		}
	}
	if len(ups) != 4 || !strings.HasPrefix(ups[1], "failed broken") || !strings.HasPrefix(ups[2], "ok v2") || !strings.HasPrefix(ups[3], "failed badmigrate") {
		t.Errorf("upgrade history %q", ups)
	}
	if _, ok := history.Last(ev, history.KindVerify, history.ResultOK); !ok {
		t.Errorf("no restore drill recorded before the upgrades")
	}
}
