package preflight

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// Compose is the compose command found on the host.
type Compose struct {
	// Command is the argv prefix: ["docker", "compose"] or ["docker-compose"].
	Command []string
	// Version is what `<command> version --short` printed, e.g. "2.29.7"
	// (v1 may print "1.29.2").
	Version string
	// V1 is true for docker-compose v1.
	V1 bool
}

// DetectCompose finds the docker compose v2 plugin, or docker-compose v1.
func DetectCompose(ctx context.Context) (*Compose, error) {
	var errs []string
	try := func(args ...string) (string, error) {
		out, err := exec.CommandContext(ctx, args[0], args[1:]...).CombinedOutput()
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", strings.Join(args, " "), firstLine(string(out), err)))
		}
		return strings.TrimSpace(string(out)), err
	}
	if out, err := try("docker", "compose", "version", "--short"); err == nil {
		return &Compose{Command: []string{"docker", "compose"}, Version: out}, nil
	}
	if out, err := try("docker-compose", "version", "--short"); err == nil {
		return &Compose{Command: []string{"docker-compose"}, Version: out, V1: !strings.HasPrefix(strings.TrimPrefix(out, "v"), "2")}, nil
	}
	return nil, fmt.Errorf("no compose found (%s)", strings.Join(errs, "; "))
}

func firstLine(out string, err error) string {
	if l, _, _ := strings.Cut(strings.TrimSpace(out), "\n"); l != "" {
		return l
	}
	return err.Error()
}

// composeCheck: docker compose (v2 plugin) or docker-compose (v1 >= 1.27).
var composeCheck = Check{
	Name:    "compose",
	Applies: func(in *Input) bool { return in.Target == "compose" },
	Run: func(ctx context.Context, in *Input) []Finding {
		c, err := DetectCompose(ctx)
		if err != nil {
			return []Finding{{Severity: Error, Message: err.Error(),
				Remedy: "install the Docker Compose plugin (apt-get install docker-compose-plugin) or docker-compose >= 1.27"}}
		}
		in.Compose = c
		name := "compose-v2"
		if c.V1 {
			name = "compose-v1"
		}
		ok, err := Satisfies(name, c.Version)
		if err != nil || !ok {
			k := Constraints[name]
			return []Finding{{Severity: Error, Message: fmt.Sprintf("%s %s does not satisfy %s (%s)", strings.Join(c.Command, " "), c.Version, k.Range, k.Why),
				Remedy: "install the Docker Compose v2 plugin (apt-get install docker-compose-plugin)"}}
		}
		if c.V1 {
			return []Finding{{Severity: Warning, Message: fmt.Sprintf("using docker-compose v1 %s; it is end-of-life", c.Version),
				Remedy: "install the Docker Compose v2 plugin when you can"}}
		}
		return nil
	},
}
