package installer

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// verifyStep GETs the app until it answers (through the proxy when there
// is one), then prints where things are and what to run next.
type verifyStep struct {
	// Interval between attempts (tests shorten it).
	Interval time.Duration
}

func (verifyStep) Name() string { return "verify" }

func (verifyStep) Skip(s *State) (bool, string) {
	if s.DryRun {
		return true, "dry run"
	}
	return false, ""
}

func (v verifyStep) Timeout(s *State) time.Duration {
	d, _ := time.ParseDuration(s.Answers.Start.Timeout)
	return d
}

// VerifyURL is the URL the verify step probes.
func VerifyURL(a *Answers) string {
	if a.Proxy == ProxyCaddy {
		return a.PublicURLClean() + "/"
	}
	return fmt.Sprintf("http://127.0.0.1:%d/", a.Web.Port)
}

func (v verifyStep) Run(ctx context.Context, s *State) error {
	if err := v.probe(ctx, s, VerifyURL(s.Answers), "web"); err != nil {
		return err
	}
	if s.Answers.Target == TargetCompose {
		// every container healthy now that the database is migrated
		cli, _, err := s.dockerClient()
		if err != nil {
			return err
		}
		services, err := composeServices(ctx, s)
		if err != nil {
			return err
		}
		timeout, _ := time.ParseDuration(s.Answers.Start.Timeout)
		if err := waitHealthy(ctx, s, cli, services, timeout, nil); err != nil {
			return err
		}
	}
	if LayoutFor(s.Answers, s.Repo, s.Secrets).API {
		if err := v.probe(ctx, s, fmt.Sprintf("http://127.0.0.1:%d/", s.Answers.API.Port), "api"); err != nil {
			return err
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Cal.com is up: %s\n", s.Answers.PublicURLClean())
	fmt.Fprintf(&b, "  configuration: %s\n", s.Answers.InstallDir)
	fmt.Fprintf(&b, "  secrets:       %s (mode 0600; back it up — losing CALENDSO_ENCRYPTION_KEY makes stored credentials unreadable)\n", s.Path(".env"))
	b.WriteString("  next:          calctl doctor    # diagnose the install\n")
	b.WriteString("                 calctl check     # hardening checks")
	s.Finish(b.String())
	return nil
}

// probe GETs target until it answers below 500.
func (v verifyStep) probe(ctx context.Context, s *State, target, what string) error {
	interval := v.Interval
	if interval == 0 {
		interval = 2 * time.Second
	}
	hc := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var lastErr string
	for attempt := 1; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 500 {
				s.Logf("info", "%s answered %s after %d attempt(s)", target, resp.Status, attempt)
				break
			}
			lastErr = resp.Status
		} else {
			lastErr = err.Error()
		}
		if attempt == 1 || attempt%10 == 0 {
			s.Progress(0, fmt.Sprintf("waiting for %s (%s)", target, lastErr))
		}
		select {
		case <-ctx.Done():
			return WithRemedy(fmt.Errorf("%s (%s) did not answer: %s", target, what, lastErr),
				"check the %[1]s container's logs (docker logs %[2]s-%[1]s-1, or pm2 logs calcom-%[1]s); with a proxy, check DNS for %[3]s and its ports", what, s.Answers.Start.Project, s.Answers.PublicURL)
		case <-time.After(interval):
		}
	}
	return nil
}
