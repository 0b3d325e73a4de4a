package installer

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// agentStep wires in the usage agent when billing answers are given. Its
// config (agent/agent.yaml, 0600) and secrets (agent/token and
// agent/signing_secret, 0600) were
// rendered and written with everything else; compose runs it as the agent
// service (the calctl image running `calctl agent --config ...`), pm2 hosts
// get a systemd unit to install.
type agentStep struct{}

func (agentStep) Name() string { return "agent" }

func (agentStep) Skip(s *State) (bool, string) {
	switch {
	case s.Answers.Billing.Endpoint == "":
		return true, "no billing answers"
	case s.DryRun:
		return true, "dry run"
	}
	return false, ""
}

func (agentStep) Run(ctx context.Context, s *State) error {
	for _, f := range []string{"agent/agent.yaml", "agent/token", "agent/signing_secret"} {
		st, err := os.Stat(s.Path(f))
		if err != nil {
			return fmt.Errorf("agent config: %w", err)
		}
		if st.Mode().Perm() != 0o600 {
			if err := os.Chmod(s.Path(f), 0o600); err != nil {
				return err
			}
			s.Logf("warn", "%s had mode %v; set to 0600", f, st.Mode().Perm())
		}
	}
	if s.Answers.Target == TargetCompose {
		cli, _, err := s.dockerClient()
		if err != nil {
			return err
		}
		c, err := serviceContainer(ctx, cli, s.Answers.Start.Project, "agent")
		if err != nil {
			return WithRemedy(err, "check `docker logs %s-agent-1` and the image %s", s.Answers.Start.Project, s.Answers.Images.Calctl)
		}
		s.Logf("info", "usage agent running in %s (config %s)", containerName(c), s.Path("agent/agent.yaml"))
		return nil
	}
	unit := s.Path("agent/calctl-agent.service")
	s.Emit(Event{Type: EventLog, Level: "warn", Message: "the usage agent is not running yet on this pm2 host",
		Remedy: fmt.Sprintf("install /usr/local/bin/calctl, then: cp %s /etc/systemd/system/ && systemctl daemon-reload && systemctl enable --now %s", unit, strings.TrimSuffix(filepath.Base(unit), ".service"))})
	return nil
}
