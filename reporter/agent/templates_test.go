package agent_test

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calctl/calctl/internal/testenv"
	"github.com/calctl/calctl/templates"
	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"gopkg.in/yaml.v3"
)

var templateData = map[string]map[string]any{
	"agent/calctl-agent.service.tmpl":  {"CalctlBin": "/usr/local/bin/calctl", "ConfigPath": "/etc/calctl/agent.yaml", "StateDir": "/var/lib/calctl"},
	"agent/calctl-report.service.tmpl": {"CalctlBin": "/usr/local/bin/calctl", "ConfigPath": "/etc/calctl/agent.yaml", "StateDir": "/var/lib/calctl"},
	"agent/calctl-report.timer.tmpl":   {},
	"agent/compose-service.yml.tmpl":   {"Image": "calctl-agent:1.2.3", "ConfigPath": "./calctl/agent.yaml", "SecretsDir": "./calctl/secrets", "StateVolume": "calctl-state"},
	"agent/Dockerfile.agent":           {},
}

// TestAgentTemplates renders each packaging template against a golden file
// and checks it with the tool that consumes it: systemd-analyze for units,
// a YAML parser for the compose entry.
func TestAgentTemplates(t *testing.T) {
	for name, data := range templateData {
		t.Run(filepath.Base(name), func(t *testing.T) {
			out, err := templates.Render(name, data)
			if err != nil {
				t.Fatal(err)
			}
			testenv.Golden(t, filepath.Join("testdata", "templates", filepath.Base(name)+".golden"), out)
			if _, err := templates.Render(name, map[string]any{}); len(data) > 0 && err == nil {
				t.Fatal("rendered without its data")
			}
			switch {
			case strings.HasSuffix(name, ".yml.tmpl"):
				var svc map[string]map[string]any
				if err := yaml.Unmarshal(out, &svc); err != nil {
					t.Fatalf("compose entry is not YAML: %v", err)
				}
				if a := svc["calctl-agent"]; a["read_only"] != true || a["image"] != "calctl-agent:1.2.3" {
					t.Fatalf("compose entry: %v", a)
				}
			case strings.Contains(name, ".service") || strings.Contains(name, ".timer"):
				verifyUnit(t, name, out)
			}
		})
	}
}

func verifyUnit(t *testing.T, name string, out []byte) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("systemd-analyze not installed; unit syntax not verified")
		return
	}
	dir := t.TempDir()
	base := strings.TrimSuffix(filepath.Base(name), ".tmpl")
	// ExecStart must point at an executable for verify to pass.
	unit := strings.ReplaceAll(string(out), "/usr/local/bin/calctl", "/bin/true")
	os.WriteFile(filepath.Join(dir, base), []byte(unit), 0o644)
	if strings.HasSuffix(base, ".timer") {
		svc, _ := templates.Render("agent/calctl-report.service.tmpl", templateData["agent/calctl-report.service.tmpl"])
		os.WriteFile(filepath.Join(dir, "calctl-report.service"), []byte(strings.ReplaceAll(string(svc), "/usr/local/bin/calctl", "/bin/true")), 0o644)
	}
	cmd := exec.Command(sa, "verify", filepath.Join(dir, base))
	cmd.Env = append(os.Environ(), "SYSTEMD_LOG_LEVEL=warning")
	b, err := cmd.CombinedOutput()
	// Outside a booted systemd, verify also complains about the host's own
	// units; only lines about ours count.
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, base) && !strings.Contains(line, "Failed to load") {
			t.Errorf("systemd-analyze: %s", line)
		}
	}
	if err != nil {
		t.Logf("systemd-analyze exit %v (host units may be broken here):\n%s", err, b)
	}
}

// TestAgentImageFromScratch builds Dockerfile.agent as written with the
// real Docker engine (static calctl + the host's CA bundle) and runs the
// image: `calctl version` must work and `calctl agent` with a readable config
// must be refused, both from a scratch image.
func TestAgentImageFromScratch(t *testing.T) {
	testenv.Slow(t, "it builds calctl and an image")
	cli := testenv.RequireDocker(t)
	ctx := context.Background()
	bin := testenv.BuildStaticBinary(t, "github.com/calctl/calctl/cmd/calctl", t.TempDir(), "calctl")
	df, err := templates.Render("agent/Dockerfile.agent", nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(name string, data []byte, mode int64) {
		tw.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: int64(len(data))})
		tw.Write(data)
	}
	binData, _ := os.ReadFile(bin)
	caData, err := os.ReadFile("/etc/ssl/certs/ca-certificates.crt")
	if err != nil {
		testenv.Unavailable(t, "the host's CA bundle", err)
	}
	add("Dockerfile.agent", df, 0o644)
	add("calctl", binData, 0o755)
	add("ca-certificates.crt", caData, 0o644)
	tw.Close()
	tag := "calctl-agent-test:latest"
	resp, err := cli.ImageBuild(ctx, &buf, build.ImageBuildOptions{Tags: []string{tag}, Dockerfile: "Dockerfile.agent", Remove: true, ForceRemove: true})
	if err != nil {
		t.Fatal(err)
	}
	logs, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Contains(logs, []byte("Successfully tagged")) {
		t.Fatalf("build failed:\n%s", logs)
	}
	t.Cleanup(func() {
		_, _ = cli.ImageRemove(context.Background(), tag, image.RemoveOptions{Force: true, PruneChildren: true})
	})

	run := func(cmd ...string) (int64, string) {
		c, err := cli.ContainerCreate(ctx, &container.Config{Image: tag, Cmd: cmd}, nil, nil, nil, "")
		if err != nil {
			t.Fatal(err)
		}
		defer cli.ContainerRemove(context.Background(), c.ID, container.RemoveOptions{Force: true})
		if err := cli.ContainerStart(ctx, c.ID, container.StartOptions{}); err != nil {
			t.Fatal(err)
		}
		waitC, errC := cli.ContainerWait(ctx, c.ID, container.WaitConditionNotRunning)
		var code int64
		select {
		case w := <-waitC:
			code = w.StatusCode
		case err := <-errC:
			t.Fatal(err)
		}
		rc, _ := cli.ContainerLogs(ctx, c.ID, container.LogsOptions{ShowStdout: true, ShowStderr: true})
		var out bytes.Buffer
		io.Copy(&out, rc)
		rc.Close()
		return code, out.String()
	}
	if code, out := run("version"); code != 0 || !strings.Contains(out, "dev") {
		t.Fatalf("calctl version in the image: exit %d\n%s", code, out)
	}
	if code, out := run(); code != 1 || !strings.Contains(out, "/etc/calctl/agent.yaml") {
		t.Fatalf("agent without config: exit %d\n%s", code, out)
	}
}
