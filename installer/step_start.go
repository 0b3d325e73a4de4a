package installer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
	"time"

	"github.com/calctl/calctl/installer/preflight"
	"github.com/calctl/calctl/internal/dotenv"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
)

// startStep starts the stack: compose `up -d --build`, then waits through
// the Docker API until every container is running and healthy. pm2 hosts
// get the build and pm2 commands run (when pm2 is installed) or printed.
type startStep struct{}

func (startStep) Name() string { return "start" }

func (startStep) Skip(s *State) (bool, string) {
	if s.DryRun {
		return true, "dry run"
	}
	return false, ""
}

func (startStep) Run(ctx context.Context, s *State) error {
	if s.Answers.Target == TargetPM2 {
		return startPM2(ctx, s)
	}
	if s.Compose == nil {
		c, err := preflight.DetectCompose(ctx)
		if err != nil {
			return WithRemedy(err, "install the Docker Compose plugin (apt-get install docker-compose-plugin)")
		}
		s.Compose = c
	}
	timeout, _ := time.ParseDuration(s.Answers.Start.Timeout)
	var extraEnv []string
	if s.Repo.BuildMigrates && s.Answers.Web.Dockerfile == "" {
		// The build migrates (2022 trees): the database must run before the
		// build, which joins its network. The classic builder is what allows
		// a build on a compose network: upstream's documented command is
		// `DOCKER_BUILDKIT=0 docker compose build` (docker@566bf10:README.md).
		extraEnv = []string{"DOCKER_BUILDKIT=0", "COMPOSE_DOCKER_CLI_BUILD=0"}
		if s.Answers.Database.Mode == DBBundled {
			if err := s.compose(ctx, extraEnv, "up", "-d", "database"); err != nil {
				return err
			}
			cli, _, err := s.dockerClient()
			if err != nil {
				return err
			}
			if err := waitHealthy(ctx, s, cli, []string{"database"}, timeout, nil); err != nil {
				return err
			}
		}
		// the build runs `prisma migrate deploy`: stop on a failed migration first
		if err := checkMigrations(ctx, s); err != nil {
			return err
		}
	}
	if err := s.compose(ctx, extraEnv, "up", "-d", "--build", "--remove-orphans"); err != nil {
		return err
	}
	cli, _, err := s.dockerClient()
	if err != nil {
		return err
	}
	services, err := composeServices(ctx, s)
	if err != nil {
		return err
	}
	// The app's healthcheck answers only once its database is migrated,
	// which the migrate step does next (calcom/docker's start.sh also
	// migrates before `yarn start`): web and api need to be running here;
	// the verify step waits for them to turn healthy.
	return waitHealthy(ctx, s, cli, services, timeout, map[string]bool{"web": true, "api": true})
}

// compose runs one compose command of the project, its output as progress.
func (s *State) compose(ctx context.Context, extraEnv []string, sub ...string) error {
	args := append(append([]string{}, s.Compose.Command[1:]...), "-p", s.Answers.Start.Project, "-f", s.Path("docker-compose.yml"))
	args = append(args, sub...)
	s.Logf("info", "running: %s %s", s.Compose.Command[0], strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, s.Compose.Command[0], args...)
	cmd.Dir = s.Answers.InstallDir
	cmd.Env = append(os.Environ(), extraEnv...)
	if h := s.getenv("DOCKER_HOST"); h != "" {
		cmd.Env = append(cmd.Env, "DOCKER_HOST="+h)
	}
	tail := &tailBuffer{max: 30}
	w := &lineEmitter{s: s, tail: tail}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Run(); err != nil {
		w.flush()
		if cerr := failedContainer(ctx, s); cerr != nil {
			return WithRemedy(fmt.Errorf("%s %s failed: %w", strings.Join(s.Compose.Command, " "), sub[0], cerr), "%s", RemedyOf(cerr))
		}
		return WithRemedy(fmt.Errorf("%s %s failed: %w; last output:\n%s", strings.Join(s.Compose.Command, " "), sub[0], err, tail.String()),
			"read the output above; for a build failure run `%s -f %s build web` to see it whole", strings.Join(s.Compose.Command, " "), s.Path("docker-compose.yml"))
	}
	w.flush()
	return nil
}

// failedContainer returns the failure of the first project container that
// exited or is unhealthy, with its logs, or nil.
func failedContainer(ctx context.Context, s *State) error {
	cli, _, err := s.dockerClient()
	if err != nil {
		return nil
	}
	cs, err := projectContainers(ctx, cli, s.Answers.Start.Project)
	if err != nil {
		return nil
	}
	for _, c := range cs {
		ins, err := cli.ContainerInspect(ctx, c.ID)
		if err != nil {
			continue
		}
		st := ins.State
		state := st.Status
		if st.Health != nil {
			state += "/" + st.Health.Status
		}
		if ins.RestartCount > 0 {
			state += fmt.Sprintf(", restarted %d times", ins.RestartCount)
		}
		if st.Status == "exited" || st.Status == "dead" || st.Status == "restarting" || ins.RestartCount > 0 || (st.Health != nil && st.Health.Status == container.Unhealthy) {
			return containerFailure(ctx, cli, c, state, st.ExitCode)
		}
	}
	return nil
}

func (s *State) getenv(k string) string {
	if s.Getenv == nil {
		return ""
	}
	return s.Getenv(k)
}

func composeServices(ctx context.Context, s *State) ([]string, error) {
	b, err := os.ReadFile(s.Path("docker-compose.yml"))
	if err != nil {
		return nil, err
	}
	p, err := LoadCompose(ctx, s.Answers.InstallDir, s.Answers.Start.Project, b)
	if err != nil {
		return nil, err
	}
	names := p.ServiceNames()
	sort.Strings(names)
	return names, nil
}

// waitHealthy polls the project's containers until each service has a
// running container that is healthy (or has no healthcheck; for services in
// starting, one whose healthcheck has not passed yet is enough). On
// failure or timeout it names the container, its state and its last 30 log
// lines.
func waitHealthy(ctx context.Context, s *State, cli *client.Client, services []string, timeout time.Duration, starting map[string]bool) error {
	deadline := time.Now().Add(timeout)
	last := map[string]string{}
	for {
		cs, err := projectContainers(ctx, cli, s.Answers.Start.Project)
		if err != nil {
			return WithRemedy(fmt.Errorf("list containers: %w", err), "check that the Docker engine is running")
		}
		byService := map[string]container.Summary{}
		for _, c := range cs {
			byService[serviceOf(c)] = c
		}
		ready := 0
		var waiting []string
		var notReady []container.Summary
		for _, svc := range services {
			c, ok := byService[svc]
			if !ok {
				waiting = append(waiting, svc+" (no container)")
				continue
			}
			ins, err := cli.ContainerInspect(ctx, c.ID)
			if err != nil {
				return fmt.Errorf("inspect %s: %w", containerName(c), err)
			}
			st := ins.State
			health := ""
			if st.Health != nil {
				health = st.Health.Status
			}
			state := st.Status
			if health != "" {
				state += "/" + health
			}
			if last[svc] != state {
				s.Progress(0, fmt.Sprintf("%s: %s", containerName(c), state))
				last[svc] = state
			}
			switch {
			case st.Status == "exited" || st.Status == "dead" || st.Status == "restarting" || ins.RestartCount > 0 || health == container.Unhealthy:
				if ins.RestartCount > 0 {
					state += fmt.Sprintf(", restarted %d times", ins.RestartCount)
				}
				return containerFailure(ctx, cli, c, state, st.ExitCode)
			case st.Status == "running" && (health == "" || health == container.Healthy || starting[svc] && health == container.Starting):
				ready++
			default:
				waiting = append(waiting, fmt.Sprintf("%s (%s)", containerName(c), state))
				notReady = append(notReady, c)
			}
		}
		if ready == len(services) {
			s.Progress(100, fmt.Sprintf("%d containers running and healthy", ready))
			return nil
		}
		if time.Now().After(deadline) {
			// name the first container that is not ready, with its logs
			if len(notReady) > 0 {
				c := notReady[0]
				err := containerFailure(ctx, cli, c, last[serviceOf(c)], 0)
				return WithRemedy(fmt.Errorf("timed out after %s waiting for %s: %w", timeout, strings.Join(waiting, ", "), err), "%s", RemedyOf(err))
			}
			return WithRemedy(fmt.Errorf("timed out after %s waiting for %s", timeout, strings.Join(waiting, ", ")), "raise start.timeout or check `docker ps -a`")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// containerFailure describes a container that failed: name, state, exit
// code and its last 30 log lines.
func containerFailure(ctx context.Context, cli *client.Client, c container.Summary, state string, exit int) error {
	logs := lastLogs(ctx, cli, c.ID, 30)
	name := containerName(c)
	msg := fmt.Sprintf("container %s is %s", name, state)
	if exit != 0 {
		msg += fmt.Sprintf(" (exit code %d)", exit)
	}
	return WithRemedy(fmt.Errorf("%w; last log lines:\n%s", errors.New(msg), logs),
		"fix the cause shown in the log, then run calctl install again (docker logs %s shows more)", name)
}

func lastLogs(ctx context.Context, cli *client.Client, id string, n int) string {
	rc, err := cli.ContainerLogs(ctx, id, container.LogsOptions{ShowStdout: true, ShowStderr: true, Tail: fmt.Sprint(n)})
	if err != nil {
		return "(no logs: " + err.Error() + ")"
	}
	defer rc.Close()
	var out bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &out, rc); err != nil {
		b, _ := io.ReadAll(rc)
		out.Write(b)
	}
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	for i, l := range lines {
		lines[i] = "  | " + l
	}
	return strings.Join(lines, "\n")
}

// lineEmitter turns command output into progress events, keeping a tail.
type lineEmitter struct {
	s    *State
	tail *tailBuffer
	buf  []byte
}

func (w *lineEmitter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.line(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
	return len(p), nil
}

func (w *lineEmitter) flush() {
	if len(w.buf) > 0 {
		w.line(string(w.buf))
		w.buf = nil
	}
}

func (w *lineEmitter) line(l string) {
	l = strings.TrimRight(l, "\r")
	if strings.TrimSpace(l) == "" {
		return
	}
	w.tail.add(l)
	w.s.Progress(0, l)
}

type tailBuffer struct {
	max   int
	lines []string
}

func (t *tailBuffer) add(l string) {
	t.lines = append(t.lines, l)
	if len(t.lines) > t.max {
		t.lines = t.lines[1:]
	}
}

func (t *tailBuffer) String() string {
	var b strings.Builder
	for _, l := range t.lines {
		b.WriteString("  | " + l + "\n")
	}
	return b.String()
}

// PM2Commands are the commands that start a pm2 install, in order.
func PM2Commands(a *Answers) [][]string {
	return [][]string{
		{"pm2", "start", "ecosystem.config.js"},
		{"pm2", "save"},
	}
}

// startPM2 builds the app and starts it under pm2 when pm2 is installed;
// otherwise it fails with the exact commands to run. The commands get
// .env's values as calctl reads them (internal/dotenv), never through a
// shell — the same values install-commands.sh passes through calcom-env.js.
func startPM2(ctx context.Context, s *State) error {
	script := s.Path("install-commands.sh")
	if _, err := exec.LookPath("pm2"); err != nil {
		return WithRemedy(errors.New("pm2 is not installed"),
			"npm install -g pm2, then run sh %s (build, migrate, seed, then pm2 start ecosystem.config.js && pm2 save; then pm2 startup once as root)", script)
	}
	var steps [][]string
	if s.Repo.NeedsCorepack {
		steps = append(steps, []string{"corepack", "enable"})
	}
	steps = append(steps, []string{"yarn", "install"}, []string{"yarn", "build"})
	if lay := LayoutFor(s.Answers, s.Repo, s.Secrets); lay.API {
		steps = append(steps, []string{"yarn", "workspace", lay.APIPackage, "build"})
	}
	for _, c := range steps {
		if err := runLogged(ctx, s, s.Answers.Source.Dir, c); err != nil {
			return err
		}
	}
	for _, c := range PM2Commands(s.Answers) {
		if err := runLogged(ctx, s, s.Answers.InstallDir, c); err != nil {
			return err
		}
	}
	s.Emit(Event{Type: EventLog, Level: "warn", Message: "pm2 will not start at boot until you run the command `pm2 startup` prints, once, as root; log rotation and the cron unit are installed by " + script + " when run as root",
		Remedy: "pm2 startup; then sh " + script + " as root once for logrotate and the cron unit"})
	return nil
}

// runLogged runs argv in dir with the environment plus .env's values.
func runLogged(ctx context.Context, s *State, dir string, argv []string) error {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = os.Environ()
	f, err := dotenv.Read(s.Path(".env"))
	if err != nil {
		return WithRemedy(fmt.Errorf("read .env: %w", err), "fix %s", s.Path(".env"))
	}
	for _, e := range f.Entries() {
		if !e.Inherited {
			cmd.Env = append(cmd.Env, e.Key+"="+e.Value)
		}
	}
	tail := &tailBuffer{max: 30}
	w := &lineEmitter{s: s, tail: tail}
	cmd.Stdout, cmd.Stderr = w, w
	err = cmd.Run()
	w.flush()
	if err != nil {
		return fmt.Errorf("%s (in %s): %w; last output:\n%s", strings.Join(argv, " "), dir, err, tail.String())
	}
	return nil
}
