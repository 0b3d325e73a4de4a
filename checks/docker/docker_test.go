package docker_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	"github.com/docker/go-connections/nat"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/checks/backup"
	"github.com/calctl/calctl/checks/collect"
	"github.com/calctl/calctl/checks/docker"
	"github.com/calctl/calctl/internal/testenv"
)

var dkChecks = []checks.Check{docker.Privileged, docker.RootUser, docker.PublishedPorts, docker.PrismaStudio, docker.RestartPolicy,
	docker.Logging, docker.ReadonlyRootfs, docker.EnvSecrets, docker.ImagePinning, docker.Healthcheck, docker.Capabilities,
	docker.HostNamespaces, docker.Daemon, backup.PGDataVolume}

// startContainer creates (and starts, unless created-only) a container that
// is removed with its anonymous volumes when the test ends.
func startContainer(t *testing.T, cli *client.Client, name string, cfg *container.Config, host *container.HostConfig, start bool) {
	t.Helper()
	ctx := context.Background()
	resp, err := cli.ContainerCreate(ctx, cfg, host, nil, nil, name)
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = cli.ContainerRemove(context.Background(), resp.ID, container.RemoveOptions{Force: true, RemoveVolumes: true})
	})
	if start {
		if err := cli.ContainerStart(ctx, resp.ID, container.StartOptions{}); err != nil {
			t.Fatalf("start %s: %v", name, err)
		}
	}
}

func TestDockerChecksAgainstRealContainers(t *testing.T) {
	cli := testenv.RequireDocker(t)
	bin := testenv.BuildStaticBinary(t, "./testdata/sleeper", t.TempDir(), "sleeper")
	suffix := fmt.Sprint(time.Now().UnixNano())
	label := "calctl.test=" + suffix
	clean, baked := "calctl-dk-clean:"+suffix[len(suffix)-6:], "calctl-dk-baked:"+suffix[len(suffix)-6:]
	testenv.BuildScratchImage(t, cli, clean, map[string]string{"/sleeper": bin}, `ENTRYPOINT ["/sleeper"]`, "EXPOSE 5432")
	testenv.BuildScratchImage(t, cli, baked, map[string]string{"/sleeper": bin}, `ENTRYPOINT ["/sleeper"]`, "ENV API_TOKEN=baked-in-token-8c1f2a")
	port := testenv.FreePort(t)

	bad := "calctl-dk-bad-" + suffix
	startContainer(t, cli, bad, &container.Config{Image: baked, Labels: map[string]string{"calctl.test": suffix},
		Env:          []string{"POSTGRES_PASSWORD=planted-pg-password-77", "PGDATA=/var/lib/postgresql/data"},
		ExposedPorts: nat.PortSet{"5432/tcp": {}}},
		&container.HostConfig{PortBindings: nat.PortMap{"5432/tcp": {{HostIP: "0.0.0.0", HostPort: fmt.Sprint(port)}}},
			LogConfig: container.LogConfig{Type: "none"}}, true) // the daemon here defaults json-file to max-size 10m

	good := "calctl-dk-clean-" + suffix
	startContainer(t, cli, good, &container.Config{Image: clean, User: "1000:1000", Labels: map[string]string{"calctl.test": suffix},
		Env:         []string{"POSTGRES_PASSWORD_FILE=/run/secrets/pg", "NODE_ENV=production"},
		Healthcheck: &container.HealthConfig{Test: []string{"CMD", "/sleeper", "-health"}, Interval: time.Second}},
		&container.HostConfig{RestartPolicy: container.RestartPolicy{Name: "unless-stopped"}, CapDrop: []string{"ALL"},
			SecurityOpt: []string{"no-new-privileges:true"}, ReadonlyRootfs: true,
			LogConfig: container.LogConfig{Type: "json-file", Config: map[string]string{"max-size": "10m", "max-file": "3"}},
			Mounts:    []mount.Mount{{Type: mount.TypeVolume, Target: "/var/lib/postgresql/data"}}}, true)

	// Privileged containers cannot start inside this sandbox's engine
	// ("unable to apply caps"), so this one is created, not started: its
	// HostConfig is what DK-001 reads either way.
	priv := "calctl-dk-priv-" + suffix
	startContainer(t, cli, priv, &container.Config{Image: clean, User: "1000", Labels: map[string]string{"calctl.test": suffix}},
		&container.HostConfig{Privileged: true, PortBindings: nat.PortMap{"6379/tcp": {{HostIP: "", HostPort: fmt.Sprint(testenv.FreePort(t))}}},
			Binds: []string{"/var/run/docker.sock:/var/run/docker.sock"}, PidMode: "host", CapAdd: []string{"SYS_ADMIN"}}, false)

	studio := "calctl-dk-studio-" + suffix
	startContainer(t, cli, studio, &container.Config{Image: clean, Cmd: []string{"npx", "prisma", "studio"}, User: "1000",
		Labels: map[string]string{"calctl.test": suffix}}, &container.HostConfig{}, false)

	f, err := collect.Collect(context.Background(), collect.Options{Docker: true, DockerClient: cli, ContainerLabel: label,
		Only: []checks.Source{checks.SourceDocker}})
	if err != nil {
		t.Fatal(err)
	}
	if st := f.Source(checks.SourceDocker); !st.Collected {
		t.Fatalf("docker not collected: %+v", st)
	}
	if n := len(f.Docker.Containers); n != 4 {
		t.Fatalf("collected %d containers, want 4", n)
	}
	rep := checks.Run(f, dkChecks, checks.Selection{}, nil)
	got := map[string]map[string]string{} // resource -> id -> status
	for _, r := range rep.Results {
		if got[r.Resource] == nil {
			got[r.Resource] = map[string]string{}
		}
		got[r.Resource][r.ID] = string(r.Status)
		t.Logf("%s %-5s %-28s %s", r.ID, r.Status, r.Resource, r.Message)
	}
	want := map[string]map[string]string{
		bad: {"DK-001": "PASS", "DK-002": "WARN", "DK-003": "FAIL", "DK-005": "WARN", "DK-006": "FAIL", "DK-007": "PASS",
			"DK-008": "FAIL", "DK-009": "PASS", "DK-010": "WARN", "DK-011": "WARN", "DK-012": "PASS", "BK-001": "FAIL"},
		good: {"DK-001": "PASS", "DK-002": "PASS", "DK-003": "PASS", "DK-005": "PASS", "DK-006": "WARN", "DK-007": "PASS",
			"DK-008": "PASS", "DK-009": "PASS", "DK-010": "PASS", "DK-011": "PASS", "DK-012": "PASS", "BK-001": "PASS"},
		studio:          {"DK-004": "WARN", "DK-001": "PASS"},
		priv:            {"DK-001": "FAIL", "DK-003": "FAIL", "DK-002": "PASS", "DK-012": "FAIL", "DK-011": "FAIL"},
		"docker-daemon": {"DK-013": "PASS|WARN"},
	}
	for res, ids := range want {
		for id, w := range ids {
			if g := got[res][id]; !strings.Contains("|"+w+"|", "|"+g+"|") {
				t.Errorf("%s on %s = %q, want %s", id, res, g, w)
			}
		}
	}
	// Evidence and facts never hold the planted secret values.
	for _, c := range f.Docker.Containers {
		if fmt.Sprint(c) != "" && (strings.Contains(fmt.Sprintf("%+v", c), "planted-pg-password-77") || strings.Contains(fmt.Sprintf("%+v", c), "baked-in-token")) {
			t.Errorf("container facts hold a secret value: %s", c.Name)
		}
	}
	_ = filepath.Base
}

func TestDockerDaemonDown(t *testing.T) {
	cli, err := client.NewClientWithOpts(client.WithHost("unix:///nonexistent/docker.sock"), client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	for _, optional := range []bool{false, true} {
		f, err := collect.Collect(context.Background(), collect.Options{Docker: true, DockerClient: cli, DockerOptional: optional,
			Only: []checks.Source{checks.SourceDocker}, Timeout: 3 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		want := checks.Error
		if optional {
			want = checks.Skip
		}
		for _, r := range checks.Run(f, dkChecks[:13], checks.Selection{}, nil).Results {
			if r.Status != want || !strings.Contains(r.Message, "does not answer") {
				t.Errorf("optional=%v %s = %s %q, want %s with the cause", optional, r.ID, r.Status, r.Message, want)
			}
		}
	}
}

// Wrong answers from the audit, each on a real container (issue 13 item 3).
func TestDockerWrongAnswersFixed(t *testing.T) {
	cli := testenv.RequireDocker(t)
	bin := testenv.BuildStaticBinary(t, "./testdata/sleeper", t.TempDir(), "sleeper")
	suffix := fmt.Sprint(time.Now().UnixNano())[10:]
	label := "calctl.test.wrong=" + suffix
	labels := map[string]string{"calctl.test.wrong": suffix}
	// The official images carry the release-signing key's fingerprint.
	img := "calctl-dk-gpg:" + suffix
	testenv.BuildScratchImage(t, cli, img, map[string]string{"/sleeper": bin}, `ENTRYPOINT ["/sleeper"]`,
		"ENV GPG_KEY=B42F6819007F00F88E364FD4036A9C25BF357DD4")
	rotated := container.LogConfig{Type: "json-file", Config: map[string]string{"max-size": "10m", "max-file": "3"}}

	gpg := "calctl-dk-gpg-" + suffix
	startContainer(t, cli, gpg, &container.Config{Image: img, Labels: labels}, &container.HostConfig{LogConfig: rotated}, true)
	mounts := "calctl-dk-mounts-" + suffix
	startContainer(t, cli, mounts, &container.Config{Image: img, Labels: labels},
		&container.HostConfig{LogConfig: rotated, Binds: []string{"/var/run:/host-run:ro", "/usr:/host-usr"}}, true)

	judge := func() map[string]map[string]checks.Result {
		f, err := collect.Collect(context.Background(), collect.Options{Docker: true, DockerClient: cli, ContainerLabel: label,
			Only: []checks.Source{checks.SourceDocker}})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]map[string]checks.Result{}
		for _, r := range checks.Run(f, dkChecks, checks.Selection{}, nil).Results {
			if got[r.Resource] == nil {
				got[r.Resource] = map[string]checks.Result{}
			}
			got[r.Resource][r.ID] = r
		}
		return got
	}
	got := judge()
	if r := got[gpg]["DK-008"]; r.Status != checks.Pass {
		t.Errorf("DK-008 on GPG_KEY = %s %q, want PASS (a public fingerprint is no secret)", r.Status, r.Message)
	}
	if r := got[gpg]["DK-006"]; r.Status != checks.Warn || !strings.Contains(r.Message, "no log shipper") {
		t.Errorf("DK-006 json-file, no shipper = %s %q, want WARN", r.Status, r.Message)
	}
	r := got[mounts]["DK-012"]
	if r.Status != checks.Fail || !strings.Contains(r.Message, "/var/run, which holds the Docker socket") || !strings.Contains(r.Message, "/usr read-write") {
		t.Errorf("DK-012 with /var/run and a rw /usr = %s %q, want FAIL naming both", r.Status, r.Message)
	}

	// A log shipper on the engine (the image name says what it is).
	shipImg := "calctl-test/fluent-bit:" + suffix
	testenv.BuildScratchImage(t, cli, shipImg, map[string]string{"/sleeper": bin}, `ENTRYPOINT ["/sleeper"]`)
	startContainer(t, cli, "calctl-dk-shipper-"+suffix, &container.Config{Image: shipImg}, &container.HostConfig{}, true)
	if r := judge()[gpg]["DK-006"]; r.Status != checks.Pass || !strings.Contains(r.Message, "fluent-bit") {
		t.Errorf("DK-006 with a shipper = %s %q, want PASS naming it", r.Status, r.Message)
	}
}

// The checks added for limits, confinement, rotation and the daemon's
// network posture, on real containers and the machine's engine.
func TestDockerNewChecksAgainstRealContainers(t *testing.T) {
	cli := testenv.RequireDocker(t)
	bin := testenv.BuildStaticBinary(t, "./testdata/sleeper", t.TempDir(), "sleeper")
	suffix := fmt.Sprint(time.Now().UnixNano())[10:]
	label := "calctl.test.new=" + suffix
	labels := map[string]string{"calctl.test.new": suffix}
	img := "calctl-dk-new:" + suffix
	testenv.BuildScratchImage(t, cli, img, map[string]string{"/sleeper": bin}, `ENTRYPOINT ["/sleeper"]`)
	pids := int64(100)
	limited := "calctl-dk-limited-" + suffix
	startContainer(t, cli, limited, &container.Config{Image: img, Labels: labels}, &container.HostConfig{
		Resources:   container.Resources{Memory: 256 << 20, NanoCPUs: 500_000_000, PidsLimit: &pids},
		LogConfig:   container.LogConfig{Type: "json-file", Config: map[string]string{"max-size": "10m", "max-file": "3"}},
		SecurityOpt: []string{"apparmor=unconfined"}}, true)
	bare := "calctl-dk-bare-" + suffix
	startContainer(t, cli, bare, &container.Config{Image: img, Labels: labels}, &container.HostConfig{}, true)

	f, err := collect.Collect(context.Background(), collect.Options{Docker: true, DockerClient: cli, ContainerLabel: label,
		Only: []checks.Source{checks.SourceDocker}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]checks.Result{}
	for _, r := range checks.Run(f, []checks.Check{docker.ICC, docker.UserlandProxy, docker.MACProfile, docker.MemoryLimit,
		docker.CPULimit, docker.PidsLimit, docker.LogRotation}, checks.Selection{}, nil).Results {
		got[r.ID+" "+r.Resource] = r
	}
	want := map[string]checks.Status{
		"DK-018 " + limited: checks.Pass, "DK-019 " + limited: checks.Pass, "DK-020 " + limited: checks.Pass, "DK-021 " + limited: checks.Pass,
		"DK-017 " + limited: checks.Fail,
		"DK-018 " + bare:    checks.Warn, "DK-019 " + bare: checks.Warn, "DK-020 " + bare: checks.Warn,
	}
	for k, w := range want {
		if got[k].Status != w {
			t.Errorf("%s = %s %q, want %s", k, got[k].Status, got[k].Message, w)
		}
	}
	if r := got["DK-018 "+limited]; r.Evidence["memory"] != "256 MiB" {
		t.Errorf("DK-018 evidence %v", r.Evidence)
	}
	// DK-015 reports what the engine's default bridge really says.
	nw, err := cli.NetworkInspect(context.Background(), "bridge", network.InspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	icc := nw.Options["com.docker.network.bridge.enable_icc"] != "false"
	wantICC := map[bool]checks.Status{true: checks.Warn, false: checks.Pass}[icc]
	if r := got["DK-015 docker-daemon"]; r.Status != wantICC || r.Evidence["enable_icc"] != fmt.Sprint(icc) {
		t.Errorf("DK-015 = %s %v; the bridge says enable_icc=%v", r.Status, r.Evidence, icc)
	}
	if r := got["DK-016 docker-daemon"]; r.Status != checks.Warn && r.Status != checks.Pass {
		t.Errorf("DK-016 = %s %q on a local daemon", r.Status, r.Message)
	}
}
