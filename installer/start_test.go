package installer

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calctl/calctl/installer/preflight"
	"github.com/calctl/calctl/internal/testenv"
)

// TestStartNamesFailingContainer starts, on the real Docker engine, a
// service whose program exits at once (the web stand-in without its
// secrets) and expects the start step to name the container, its state and
// its last log lines.
func TestStartNamesFailingContainer(t *testing.T) {
	cli := testenv.RequireDocker(t)
	if _, err := preflight.DetectCompose(context.Background()); err != nil {
		testenv.Unavailable(t, "docker compose", err)
	}
	bin := testenv.BuildStaticBinary(t, "./testdata/e2e/web", t.TempDir(), "web")
	project := "calctlstart" + strings.ToLower(strings.ReplaceAll(time.Now().Format("150405.000"), ".", ""))
	tag := project + "-crash:1"
	testenv.BuildScratchImage(t, cli, tag, map[string]string{"/web": bin}, `ENTRYPOINT ["/web"]`)
	dir := t.TempDir()
	compose := "services:\n  web:\n    image: " + tag + "\n    restart: unless-stopped\n"
	if err := os.WriteFile(filepath.Join(dir, "docker-compose.yml"), []byte(compose), 0o644); err != nil {
		t.Fatal(err)
	}
	a := &Answers{InstallDir: dir, Target: TargetCompose, Start: Start{Project: project, Timeout: "1m"}}
	var evs []Event
	s := &State{Answers: a, Getenv: os.Getenv}
	t.Cleanup(func() {
		c, _ := preflight.DetectCompose(context.Background())
		args := append(append([]string{}, c.Command[1:]...), "-p", project, "-f", filepath.Join(dir, "docker-compose.yml"), "down", "-v")
		_ = runQuiet(c.Command[0], args...)
	})
	err := (&Engine{Sink: func(e Event) { evs = append(evs, e) }}).Run(context.Background(), []Step{startStep{}}, s)
	if err == nil {
		t.Fatal("start succeeded with a crashing container")
	}
	msg := err.Error()
	for _, want := range []string{"container " + project, "CALENDSO_ENCRYPTION_KEY must be 32 characters", "last log lines"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if RemedyOf(err) == "" {
		t.Error("no remedy")
	}
}

func runQuiet(name string, args ...string) error {
	return exec.Command(name, args...).Run()
}

// TestStartPM2WithoutPM2 checks the pm2 path on a host without pm2 (pm2
// cannot be installed here): it must stop with the exact commands to run.
func TestStartPM2WithoutPM2(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	a := &Answers{InstallDir: "/opt/calcom", Target: TargetPM2}
	err := startStep{}.Run(context.Background(), &State{Answers: a})
	if err == nil || !strings.Contains(RemedyOf(err), "pm2 start ecosystem.config.js && pm2 save") || !strings.Contains(RemedyOf(err), "install-commands.sh") {
		t.Fatalf("err = %v, remedy %q", err, RemedyOf(err))
	}
}
