package tui

import (
	"context"
	"fmt"
	"strings"

	"github.com/calctl/calctl/installer/contract"
	"github.com/charmbracelet/bubbles/cursor"
	tea "github.com/charmbracelet/bubbletea"
)

func (m *Model) startPlan() tea.Cmd {
	m.plan, m.planErr, m.answersErr, m.scroll, m.saving, m.saveMsg = nil, nil, nil, 0, false, ""
	a, env := m.answers(), m.env()
	if err := a.Validate(); err != nil {
		m.answersErr, m.phase = err, phaseResult
		return nil
	}
	if m.cfg.Backend.Plan == nil || a.Target == contract.TargetKubernetes {
		// target kubernetes: the plan is calctl-kubernetes's (handoff)
		m.plan, m.phase = &Plan{}, phaseResult
		return nil
	}
	m.phase = phaseBusy
	plan := m.cfg.Backend.Plan
	return m.startWork(func(ctx context.Context, send func(tea.Msg, bool)) {
		p, err := plan(ctx, a, env)
		send(plannedMsg{plan: p, err: err}, false)
	})
}

func (m *Model) updateReview(msg tea.Msg) (tea.Model, tea.Cmd) {
	k, isKey := msg.(tea.KeyMsg)
	if m.saving {
		if isKey {
			switch k.String() {
			case "esc":
				m.saving = false
				m.saveInput.Blur()
				return m, nil
			case "enter":
				path := strings.TrimSpace(m.saveInput.Value())
				m.saving = false
				m.saveInput.Blur()
				if path == "" {
					return m, nil
				}
				a, save := m.answers(), m.cfg.Backend.SaveAnswers
				return m, func() tea.Msg {
					if save == nil {
						return savedMsg{path: path, err: fmt.Errorf("saving answers is not available")}
					}
					return savedMsg{path: path, err: save(path, a)}
				}
			}
		}
		var cmd tea.Cmd
		m.saveInput, cmd = m.saveInput.Update(msg)
		return m, cmd
	}
	if !isKey {
		return m, nil
	}
	switch k.String() {
	case "esc":
		return m, m.goTo(screenSite)
	case "up", "k":
		m.scroll = max(m.scroll-1, 0)
	case "down", "j":
		m.scroll++
	case "pgup":
		m.scroll = max(m.scroll-10, 0)
	case "pgdown", " ":
		m.scroll += 10
	case "s":
		if m.phase == phaseResult && m.answersErr == nil {
			m.saving, m.saveMsg = true, ""
			m.saveInput.Cursor.SetMode(cursor.CursorStatic)
			return m, m.saveInput.Focus()
		}
	case "enter":
		if m.phase == phaseResult && m.answersErr == nil && m.planErr == nil {
			if m.answers().Target == contract.TargetKubernetes {
				return m, m.handoff()
			}
			return m, m.goTo(screenRun)
		}
	}
	return m, nil
}

// handoff ends the wizard for target kubernetes: its caller runs
// calctl-kubernetes with the answers and the secrets gathered.
func (m *Model) handoff() tea.Cmd {
	m.stopWork()
	m.result.Outcome, m.result.Answers, m.result.Env = Handoff, m.answers(), m.env()
	return tea.Quit
}

// reviewLines is the Review screen's scrollable text: the answers (secrets
// masked) and the plan.
func (m *Model) reviewLines() []string {
	a := m.answers()
	var l []string
	add := func(k, v string) { l = append(l, fmt.Sprintf("  %-13s %s", k, v)) }
	l = append(l, m.st.title.Render("Answers"))
	dir := a.InstallDir
	if m.cfg.Existing {
		dir += "  (existing install: upgrade/repair; kept secrets stay)"
	}
	add("install dir", dir)
	tok := "none"
	switch m.v.TokenChoice {
	case tokenFromEnv:
		tok = "from " + m.cfg.TokenEnv
	case tokenTyped:
		tok = "typed (••••••••)"
	}
	add("source", fmt.Sprintf("%s @ %s", a.Source.URL, a.Source.Ref))
	add("", fmt.Sprintf("submodules %s, token %s", a.Source.Submodules, tok))
	add("target", a.Target)
	switch a.Database.Mode {
	case contract.DBBundled:
		add("database", fmt.Sprintf("bundled Postgres %d", a.Database.Version))
	default:
		db := a.Database.Mode + ", URL ••••••••"
		if a.Database.CAFile != "" {
			db += ", CA " + a.Database.CAFile
		}
		add("database", db)
	}
	if a.Target == contract.TargetKubernetes {
		k := a.Kubernetes
		add("cluster", fmt.Sprintf("kubeconfig %s, context %s", or(k.Kubeconfig, "$KUBECONFIG or ~/.kube/config"), or(k.Context, "(current)")))
		add("", fmt.Sprintf("namespace %s, release %s, web replicas %d", k.Namespace, k.Release, k.Replicas.Web))
		add("registry", k.Registry+", pull secret "+or(k.PullSecret, "none"))
		add("ingress", fmt.Sprintf("class %s, storage class %s", or(k.IngressClass, "(default)"), or(k.StorageClass, "(default)")))
		switch {
		case k.TLS.Issuer != "":
			add("TLS", fmt.Sprintf("%s %s → Secret %s", k.TLS.IssuerKind, k.TLS.Issuer, k.TLS.Secret))
		case k.TLS.Secret != "":
			add("TLS", "existing Secret "+k.TLS.Secret)
		default:
			add("TLS", "none")
		}
		add("public URL", a.PublicURL)
	} else {
		add("public URL", fmt.Sprintf("%s (proxy %s)", a.PublicURL, a.Proxy))
	}
	if a.Email.Host != "" {
		e := fmt.Sprintf("%s:%d, from %s", a.Email.Host, a.Email.Port, a.Email.From)
		if a.Email.User != "" {
			e += ", user " + a.Email.User + ", password ••••••••"
		}
		add("e-mail", e)
	} else {
		add("e-mail", "none")
	}
	if a.Billing.DeploymentID != "" {
		add("billing", fmt.Sprintf("%s → %s, token ••••••••", a.Billing.DeploymentID, a.Billing.Endpoint))
	} else {
		add("billing", "none")
	}
	l = append(l, "")
	switch {
	case m.answersErr != nil:
		fix := "go back (esc) and fix them:"
		if m.accessible {
			fix = "nothing was changed; start the wizard again and fix them:"
		}
		l = append(l, m.st.bad.Render("The answers have problems; "+fix))
		for _, s := range strings.Split(m.answersErr.Error(), "\n")[1:] {
			l = append(l, s)
		}
	case m.phase == phaseBusy:
		l = append(l, m.spin.View()+" working out the plan (a dry run)…")
	case m.planErr != nil:
		for i, w := range wrap("the dry run failed: "+m.planErr.Error(), m.width-2) {
			p := "  "
			if i == 0 {
				p = "✗ "
			}
			l = append(l, m.st.bad.Render(p+w))
		}
		if r := contract.RemedyOf(m.planErr); r != "" {
			for _, w := range wrap("fix: "+r, m.width-2) {
				l = append(l, "  "+w)
			}
		}
	case m.plan != nil && a.Target == contract.TargetKubernetes:
		title := "Plan"
		if m.cfg.DryRun {
			title += " (--dry-run: the run will only report)"
		}
		l = append(l, m.st.title.Render(title))
		steps := strings.Join(contract.KubernetesSteps, " → ")
		verb := "enter"
		if m.accessible {
			verb = "starting the install"
		}
		what := verb + " saves these answers (no secrets) and hands them to calctl-kubernetes, which runs the install in this terminal: "
		if m.cfg.DryRun {
			// a dry run keeps no answers (internal/cli's kubeHandoff)
			what = verb + " hands these answers (no secrets; a temporary file, removed after) to calctl-kubernetes --dry-run, which reports in this terminal what the install would do: "
		}
		for _, w := range wrap(what+steps, m.width-4) {
			l = append(l, "  "+w)
		}
	case m.plan != nil:
		title := "Plan"
		if m.cfg.DryRun {
			title += " (--dry-run: the run will only report)"
		}
		l = append(l, m.st.title.Render(title))
		if len(m.plan.Steps) > 0 {
			for _, w := range wrap(strings.Join(m.plan.Steps, " → "), m.width-4) {
				l = append(l, "  "+w)
			}
		}
		for _, c := range m.plan.Changes {
			l = append(l, fmt.Sprintf("  %-9s %s", c.Action, c.Path))
		}
		for _, n := range m.plan.Notes {
			l = append(l, "  "+m.st.faint.Render(n))
		}
	}
	return l
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (m *Model) viewReview() string {
	var lines []string
	for _, l := range m.reviewLines() {
		// wrapped, never cut: every line can be read in full
		lines = append(lines, wrapIndent(l, m.width-1)...)
	}
	room := max(m.height-5, 3)
	m.scroll = min(m.scroll, max(len(lines)-room, 0))
	end := min(m.scroll+room, len(lines))
	var b strings.Builder
	for _, l := range lines[m.scroll:end] {
		b.WriteString(truncate(l, m.width) + "\n")
	}
	for i := end - m.scroll; i < room; i++ {
		b.WriteString("\n")
	}
	switch {
	case m.saving:
		b.WriteString(m.saveInput.View() + "\n")
	case m.saveMsg != "":
		st := m.st.ok
		if m.saveErr {
			st = m.st.bad
		}
		b.WriteString(st.Render(truncate(m.saveMsg, m.width)) + "\n")
	default:
		var st []string
		if m.phase == phaseResult && m.plan != nil && m.planErr == nil && m.answersErr == nil {
			st = append(st, "✓ plan ready")
		}
		if end < len(lines) {
			st = append(st, fmt.Sprintf("↓ %d more lines", len(lines)-end))
		}
		b.WriteString(m.st.faint.Render(strings.Join(st, " · ")) + "\n")
	}
	return b.String()
}

func (m *Model) reviewHelp() string {
	if m.saving {
		return "enter save · esc cancel"
	}
	if m.phase == phaseResult && (m.answersErr != nil || m.planErr != nil) {
		return "esc back to fix · ↑/↓ scroll · ctrl+c quit"
	}
	verb := "install"
	if m.cfg.DryRun {
		verb = "dry-run" // one word: at 60 columns fitHelp keeps it whole (not "enter dry")
	}
	return "enter " + verb + " · s save answers to FILE · ↑/↓ scroll · esc back · ctrl+c quit"
}
