package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/calctl/calctl/installer/contract"
	"github.com/calctl/calctl/installer/home"
)

// day2Install is an install as the day-2 commands (status, logs,
// uninstall) see it: where it is, why that one, and its answers.
type day2Install struct {
	Dir     string
	Why     string
	Answers *contract.Answers
	// Found says where the answers came from.
	Found string
}

// findInstall finds the install with locateInstall (--dir,
// $CALCTL_INSTALL_DIR, the current directory, the one recorded for this
// host) and reads its answers: the saved ones, else what `calctl render`
// left there.
func findInstall(ctx context.Context, getenv func(string) string, dir string) (*day2Install, error) {
	at, err := locateInstall(getenv, "--dir DIR", dir, nil)
	if err != nil {
		return nil, err
	}
	in := &day2Install{Dir: at.Dir, Why: at.Why}
	if a, err := home.LoadAnswers(in.Dir); err == nil {
		in.Answers, in.Found = a, home.AnswersFile
	} else if a, _, what, err := home.FromRender(ctx, in.Dir); err == nil && a != nil {
		in.Answers, in.Found = a, what
	} else {
		return nil, &ExitError{Code: ExitFailure, Err: fmt.Errorf("%s holds no Cal.com install calctl knows: no %s and no .env; pass --dir", in.Dir, home.AnswersFile)}
	}
	in.Answers.InstallDir = in.Dir
	in.Answers.ApplyDefaults()
	return in, nil
}

// composeArgv is the compose command of the install: `docker compose`
// (Compose v2), else the docker-compose binary, with -p and -f set.
func (in *day2Install) composeArgv(getenv func(string) string, sub ...string) []string {
	base := []string{"docker", "compose"}
	if _, err := exec.LookPath("docker"); err != nil {
		if _, err := exec.LookPath("docker-compose"); err == nil {
			base = []string{"docker-compose"}
		}
	}
	argv := append(base, "-p", in.Answers.Start.Project, "-f", filepath.Join(in.Dir, "docker-compose.yml"))
	return append(argv, sub...)
}

// run runs argv in the install directory with the given stdio.
func (in *day2Install) run(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer, argv []string) error {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = in.Dir
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.Env = os.Environ()
	if h := getenv("DOCKER_HOST"); h != "" {
		cmd.Env = append(cmd.Env, "DOCKER_HOST="+h)
	}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w", strings.Join(argv, " "), err)
	}
	return nil
}

// say is "calctl: install in DIR (why)".
func (in *day2Install) say() string {
	return fmt.Sprintf("install in %s (%s)", in.Dir, in.Why)
}
