package installer

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/calctl/calctl/installer/preflight"
	"github.com/calctl/calctl/internal/secret"
)

// preflightStep checks the host before anything changes. Each finding is a
// log event with its remedy; errors stop the install unless named in
// --ignore-preflight.
type preflightStep struct {
	checks []preflight.Check
}

func (preflightStep) Name() string { return "preflight" }

func (preflightStep) Timeout(*State) time.Duration { return 2 * time.Minute }

func (p preflightStep) Run(ctx context.Context, s *State) error {
	a := s.Answers
	in := &preflight.Input{
		Target: a.Target, DBMode: a.Database.Mode, InstallDir: a.InstallDir, PublicURL: a.PublicURL,
		Proxy: a.Proxy == ProxyCaddy, NodeBin: a.PM2.Node, Getenv: s.Getenv,
		Ports: map[int]string{a.Web.Port: "web"},
	}
	if a.Database.Mode == DBBundled {
		in.Ports[5432] = "bundled Postgres (kept free so a later `ports:` mapping works)"
	}
	if a.Proxy == ProxyCaddy {
		in.Ports[80], in.Ports[443] = "Caddy (HTTP, ACME)", "Caddy (HTTPS)"
	}
	if repo, err := InspectRepo(a.Source.Dir); err == nil {
		in.NodeEngine, in.YarnEngine = repo.NodeEngine, repo.YarnEngine
	}
	if a.Database.Mode != DBBundled {
		// preflight connects from this host: the CA file is at its host path
		host := *a
		host.Target = TargetPM2
		u, err := DatabaseURL(&host, s.Env, s.Secrets)
		if err != nil {
			return err
		}
		in.DatabaseURL = secret.Secret(u)
	}
	if a.Target == TargetCompose {
		cli, h, err := s.dockerClient()
		if err != nil {
			return WithRemedy(err, "check DOCKER_HOST")
		}
		in.Docker, in.DockerHost = cli, h
		in.OwnPorts = map[int]bool{}
		if cs, err := projectContainers(ctx, cli, a.Start.Project); err == nil {
			for _, c := range cs {
				for _, port := range c.Ports {
					if port.PublicPort != 0 && c.State == "running" {
						in.OwnPorts[int(port.PublicPort)] = true
					}
				}
			}
		}
	}
	checks := p.checks
	if checks == nil {
		checks = preflight.All
	}
	rep, err := preflight.Run(ctx, in, checks, s.IgnorePreflight)
	if err != nil {
		return WithRemedy(err, "name checks from: %s", strings.Join(preflight.Names(), ", "))
	}
	s.Compose = in.Compose
	for _, f := range rep.Findings {
		lvl := "warn"
		if f.Blocking() {
			lvl = "error"
		}
		s.Emit(Event{Type: EventLog, Level: lvl, Message: f.String(), Remedy: f.Remedy, Finding: &f})
	}
	s.Progress(100, fmt.Sprintf("%d checks: %s", len(rep.Ran), strings.Join(rep.Ran, ", ")))
	if n := rep.Errors(); n > 0 {
		var names []string
		for _, f := range rep.Findings {
			if f.Severity == preflight.Error && !f.Ignored {
				names = append(names, f.Check)
			}
		}
		return WithRemedy(errors.New(fmt.Sprintf("%d preflight error(s) in %s; nothing was changed", n, strings.Join(uniq(names), ", "))),
			"fix the errors listed above, or if you are sure, pass --ignore-preflight %s", strings.Join(uniq(names), ","))
	}
	return nil
}

func uniq(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
