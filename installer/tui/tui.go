package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/calctl/calctl/installer/contract"
	tea "github.com/charmbracelet/bubbletea"
)

// Run runs the wizard full-screen on in/out (which must be a terminal; the
// caller decides that) and returns how it ended. The alternate screen is
// left on every exit, Ctrl+C included, so the terminal is as it was.
func Run(ctx context.Context, cfg Config, in io.Reader, out io.Writer) (Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	m := New(ctx, cfg)
	p := tea.NewProgram(m, tea.WithAltScreen(), tea.WithContext(ctx), tea.WithInput(in), tea.WithOutput(out))
	_, err := p.Run()
	cancel()
	res := m.Result()
	if err != nil && !errors.Is(err, tea.ErrProgramKilled) {
		return res, fmt.Errorf("wizard: %w", err)
	}
	if errors.Is(err, tea.ErrProgramKilled) && res.Outcome != Finished {
		res.Outcome = Stopped
		res.Err = ctx.Err()
	}
	return res, nil
}

// RunAccessible runs the wizard as accessible prompts, one line at a time,
// for screen readers: the same fields, checks and engine, no redrawing.
// Every prompt says what its default is (enter keeps it), every option is
// listed with its number, and a wrong answer is refused with the reason and
// asked again (accessible.go). The run prints the engine's text view.
func RunAccessible(ctx context.Context, cfg Config, in io.Reader, out io.Writer) (Result, error) {
	cfg.Plain = true
	sw := &spacedWriter{w: out}
	out = sw
	m := New(ctx, cfg)
	m.width, m.height, m.accessible = 80, 1000, true
	p := newPrompter(in, out)
	body := m.viewWelcome()
	body = strings.Replace(body, " Keys: enter next · shift+tab previous field · esc previous screen\n       ctrl+c quit (nothing is changed before the Run screen)\n", "", 1)
	fmt.Fprintln(out, strings.TrimRight(body, "\n"))
	ask := func(s screen) error {
		sw.heading(screenNames[s])
		for _, pg := range m.pages(s) {
			if pg.hidden() {
				continue
			}
			for _, f := range pg.fields {
				if err := ctx.Err(); err != nil {
					return err
				}
				if err := m.ask(p, f); err != nil {
					return err
				}
			}
		}
		return nil
	}
	var inputErr error
	again := func(q string) bool {
		yes, err := p.confirm(q, false)
		if err != nil && inputErr == nil {
			inputErr = err
		}
		return yes
	}
	if cfg.Existing {
		// the Welcome choice of an existing install (upgrade.go)
		if done, err := m.askUpgrade(p, again); done || err != nil {
			return m.Result(), cmpErr(err, inputErr)
		}
	}
	b := cfg.Backend
	for s := screenSource; s <= screenSite; {
		if err := ask(s); err != nil {
			return m.Result(), err
		}
		a, env := m.answers(), m.env()
		var err error
		switch {
		case s == screenSource && b.ProbeSource != nil:
			fmt.Fprintln(out, "checking access to the repository…")
			var d string
			if d, err = b.ProbeSource(ctx, a, env.GitToken); err == nil {
				fmt.Fprintln(out, "✓ "+d)
			}
		case s == screenTarget && b.Preflight != nil && a.Target != contract.TargetKubernetes:
			fmt.Fprintln(out, "preflight: checking this host…")
			var blocking []string
			err = b.Preflight(ctx, a, env, func(f contract.Finding) {
				if f.Blocking() {
					blocking = append(blocking, f.Check)
				}
				sev := contract.SeverityWarning
				if f.Blocking() {
					sev = contract.SeverityError
				}
				fmt.Fprintf(out, "%s %s\n", sev, f)
				if f.Remedy != "" {
					fmt.Fprintf(out, "  fix: %s\n", f.Remedy)
				}
			})
			fmt.Fprintln(out, "preflight: done")
			// the fix the full-screen wizard offers with "i", as a question
			if len(blocking) > 0 && b.IgnorePreflight != nil &&
				again("Ignore "+strings.Join(uniqStrings(blocking), ", ")+" (as --ignore-preflight)? They will not stop the install.") {
				m.ignored = uniqStrings(append(m.ignored, blocking...))
				b.IgnorePreflight(m.ignored)
				fmt.Fprintln(out, "✓ ignored: "+strings.Join(m.ignored, ", "))
			}
		case s == screenDatabase && b.ProbeDatabase != nil && a.Database.Mode != contract.DBBundled:
			fmt.Fprintln(out, "connecting to the database…")
			var info DBInfo
			if info, err = b.ProbeDatabase(ctx, a, env.DatabaseURL); err == nil {
				fmt.Fprintf(out, "✓ connected: PostgreSQL %s, TLS %v\n", info.Version, info.TLS)
			}
		}
		if err != nil {
			fmt.Fprintln(out, "✗ "+err.Error())
			if again("Change these answers?") {
				continue
			}
		}
		if inputErr != nil {
			return m.Result(), inputErr
		}
		s++
	}
	m.screen, m.phase, m.plan = screenReview, phaseResult, &Plan{}
	if err := m.answers().Validate(); err != nil {
		m.answersErr = err
	} else if b.Plan != nil && m.answers().Target != contract.TargetKubernetes {
		fmt.Fprintln(out, "working out the plan (a dry run)…")
		p, err := b.Plan(ctx, m.answers(), m.env())
		m.plan, m.planErr = &p, err
	}
	sw.heading("Review")
	for _, l := range m.reviewLines() {
		fmt.Fprintln(out, l)
	}
	if m.answersErr != nil || m.planErr != nil {
		return m.Result(), errors.New("the plan cannot run; nothing was changed")
	}
	fmt.Fprintln(out)
	path := ""
	if err := p.text(text{title: "Save answers to FILE (empty: do not save)", value: &path}); err != nil {
		return m.Result(), err
	}
	if path != "" && b.SaveAnswers != nil {
		if err := b.SaveAnswers(path, m.answers()); err != nil {
			fmt.Fprintln(out, "✗ "+err.Error())
		} else {
			fmt.Fprintf(out, "✓ saved to %s (no secrets)\n", path)
		}
	}
	if !again("Start the install now?") {
		return m.Result(), inputErr
	}
	if m.answers().Target == contract.TargetKubernetes {
		m.handoff()
		return m.Result(), nil
	}
	sw.heading("Run")
	err := b.Run(ctx, m.answers(), m.env(), contract.Tee(contract.TextView(out), func(e contract.Event) { m.run.apply(e) }))
	m.run.finish(err)
	m.result.Err = err
	m.result.Outcome = Finished
	if err != nil {
		m.result.Outcome = Failed
	}
	m.result.Summary, m.result.Check = m.summaryText(), m.run.check
	sw.heading("Summary")
	fmt.Fprint(out, m.result.Summary)
	return m.Result(), nil
}

// cmpErr returns the first error that is not nil.
func cmpErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
