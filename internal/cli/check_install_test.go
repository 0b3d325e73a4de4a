package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/docker/go-connections/nat"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/installer/contract"
	"github.com/calctl/calctl/installer/preflight"
	"github.com/calctl/calctl/internal/testenv"
)

// composeInstall runs a real `calctl install --non-interactive` of the
// stand-in monorepo with a bundled Postgres (what is real and what stands
// in: see TestInstallEndToEnd) and returns the install dir and project.
func composeInstall(t testing.TB, cli *client.Client, name string) (dir, project string) {
	dir, project, _ = composeInstallAnswers(t, cli, name)
	return dir, project
}

// composeInstallAnswers is composeInstall that also returns the answers file.
func composeInstallAnswers(t testing.TB, cli *client.Client, name string) (dir, project, answersFile string) {
	t.Helper()
	if _, err := preflight.DetectCompose(context.Background()); err != nil {
		testenv.Unavailable(t, "docker compose", err)
	}
	suffix := randHex(4)
	pgTag := "calctl-" + name + "-postgres-" + suffix + ":15"
	buildPostgresImage(t, cli, pgTag)
	repoURL := publishFixture(t)
	base := t.TempDir()
	dir = filepath.Join(base, "install")
	port := testenv.FreePort(t)
	project = "calctl" + name + suffix
	answers := bundledComposeAnswers(dir, repoURL, port, pgTag, project)
	ans := filepath.Join(base, "answers.yaml")
	os.WriteFile(ans, []byte(answers), 0o644)
	t.Cleanup(func() { composeDown(t, dir, project) })
	code, _, stderr := runCLI(t, nil, "install", "--non-interactive", "--answers", ans)
	if code != 0 {
		t.Fatalf("install: exit %d\n%s", code, stderr)
	}
	// The install ends with the checks (issue 13 item 6): summary and top
	// findings with their fix, in the text view.
	for _, want := range []string{"check: done", "checks: ", "fix: ", "full report: calctl check --dir " + dir} {
		if !strings.Contains(stderr, want) {
			t.Errorf("install output lacks %q:\n%s", want, stderr)
		}
	}
	return dir, project, ans
}

// TestCheckAimsAtComposeInstall: on a real compose install with a bundled
// Postgres (not published on the host), `check --dir` judges the install's
// own containers (not another project's on the same engine) and reaches the
// database through Docker with db.env's credentials, so every PG check runs
// for real; `doctor` says so too, and says when a directory holds no install.
func TestCheckAimsAtComposeInstall(t *testing.T) {
	cli := testenv.RequireDocker(t)
	dir, project, ans := composeInstallAnswers(t, cli, "chk")

	// The check step in -o json: the plan names it, its event carries the
	// summary as data, and --fail-on decides the exit code.
	code, out, stderr := runCLI(t, nil, "install", "--non-interactive", "--answers", ans, "-o", "json", "--fail-on", "critical")
	var sum *contract.CheckSummary
	planned := false
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var e contract.Event
		if json.Unmarshal([]byte(l), &e) != nil {
			continue
		}
		if e.Type == contract.EventPlan && slices.Contains(e.Steps, contract.StepCheck) {
			planned = true
		}
		if e.Check != nil {
			sum = e.Check
		}
	}
	if !planned || sum == nil || sum.Pass == 0 || len(sum.Top) == 0 || sum.Top[0].Fix == "" || sum.FailOn != "critical" {
		t.Fatalf("check step in -o json: planned=%v summary=%+v\n%s", planned, sum, stderr)
	}
	if want := map[bool]int{true: ExitFindings, false: ExitOK}[sum.AtOrAbove > 0]; code != want {
		t.Errorf("install --fail-on critical: exit %d with %d findings at or above, want %d", code, sum.AtOrAbove, want)
	}
	if sum.Fail > 0 {
		code, _, stderr = runCLI(t, nil, "install", "--non-interactive", "--answers", ans, "--fail-on", "low")
		if code != ExitFindings || !strings.Contains(stderr, "the hardening checks found") {
			t.Errorf("install --fail-on low with %d FAIL: exit %d\n%s", sum.Fail, code, stderr)
		}
	}

	// Another project's container on the same engine: privileged, with a
	// database port on all interfaces. It is not the install's.
	other := "calctl-chk-other-" + randHex(4)
	img := "calctl-chk-other:" + randHex(4)
	bin := testenv.BuildStaticBinary(t, "../../checks/docker/testdata/sleeper", t.TempDir(), "sleeper")
	testenv.BuildScratchImage(t, cli, img, map[string]string{"/sleeper": bin}, `ENTRYPOINT ["/sleeper"]`)
	resp, err := cli.ContainerCreate(context.Background(), &container.Config{Image: img,
		Labels: map[string]string{"com.docker.compose.project": "someoneelse", "com.docker.compose.service": "database",
			"com.docker.compose.project.working_dir": "/srv/someoneelse"}, ExposedPorts: nat.PortSet{"5432/tcp": {}}},
		&container.HostConfig{Privileged: true, PortBindings: nat.PortMap{"5432/tcp": {{HostIP: "0.0.0.0", HostPort: fmt.Sprint(testenv.FreePort(t))}}}},
		nil, nil, other)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cli.ContainerRemove(context.Background(), resp.ID, container.RemoveOptions{Force: true})
	})

	code, out, stderr = runCLI(t, nil, "check", "--dir", dir, "-o", "json", "--host=false", "--timeout", "60s")
	var rep checks.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("exit %d, not JSON: %v\n%s", code, err, stderr)
	}
	if code != ExitFindings && code != ExitOK {
		t.Errorf("check exit %d, want 0 or 3 (every collector worked):\n%s", code, stderr)
	}
	containers := map[string]bool{}
	for _, r := range rep.Results {
		if r.Status == checks.Error {
			t.Errorf("%s %s is ERROR: %s", r.ID, r.Resource, r.Message)
		}
		if r.Resource == other {
			t.Errorf("%s judged another project's container %s", r.ID, other)
		}
		if r.Group == "DK" && r.Resource != "docker-daemon" && r.Resource != "host" && r.Resource != "auditd" && r.Resource != "containers" {
			containers[r.Resource] = true
			if !strings.HasPrefix(r.Resource, project) {
				t.Errorf("%s judged %s, which is not in project %s", r.ID, r.Resource, project)
			}
		}
		if r.Group == "PG" && r.Status == checks.Skip && strings.Contains(r.Message, "needs") {
			t.Errorf("%s SKIP for want of a privilege on the bundled Postgres: %s (db.env's superuser reads everything)", r.ID, r.Message)
		}
	}
	if len(containers) < 2 {
		t.Errorf("DK checks saw %v, want the install's database and web containers", containers)
	}
	for _, r := range rep.Results {
		if r.ID == "PG-004" && (r.Status == checks.Pass || r.Status == checks.Warn || r.Status == checks.Fail) {
			goto pgOK
		}
	}
	t.Errorf("PG-004 (pg_hba, superuser only) did not run on the bundled Postgres")
pgOK:

	// --all-containers widens the scope to the whole engine.
	_, out, _ = runCLI(t, nil, "check", "--dir", dir, "-o", "json", "--host=false", "--only", "DK-001", "--all-containers", "--timeout", "60s")
	if !strings.Contains(out, `"resource": "`+other+`"`) {
		t.Errorf("--all-containers did not judge %s:\n%s", other, out)
	}

	code, text, stderr := runCLI(t, nil, "doctor", "--dir", dir, "--host=false")
	if code != 0 || !strings.Contains(text, "[ok ] database") || !strings.Contains(text, "via docker network") {
		t.Errorf("doctor: exit %d\n%s\n%s", code, text, stderr)
	}
	empty := t.TempDir()
	for _, cmd := range []string{"doctor", "check"} {
		code, _, stderr = runCLI(t, nil, cmd, "--dir", empty)
		if code == 0 || !strings.Contains(stderr, "no Cal.com install in "+empty) {
			t.Errorf("%s on an empty dir: exit %d %q", cmd, code, stderr)
		}
	}
}

// BenchmarkCheckComposeInstall is a full live `calctl check --dir` on a
// real compose install (bundled Postgres reached through Docker, the
// project's containers, the public URL, the host): every collector, all
// checks, the table. The goal is under a second per run on the 2-core
// build machine (docs/checks.md, Performance).
func BenchmarkCheckComposeInstall(b *testing.B) {
	cli := testenv.RequireDocker(b)
	dir, _ := composeInstall(b, cli, "bench")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if code, _, stderr := runCLI(b, nil, "check", "--dir", dir, "--allow-errors"); code != ExitOK && code != ExitFindings {
			b.Fatalf("check: exit %d\n%s", code, stderr)
		}
	}
}
