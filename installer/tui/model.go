package tui

import (
	"context"

	"github.com/calctl/calctl/installer/contract"
	"github.com/charmbracelet/bubbles/progress"
	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/huh"
)

// screen is one screen of the wizard, in order.
type screen int

const (
	screenWelcome screen = iota
	screenSource
	screenTarget
	screenDatabase
	screenSite
	screenReview
	screenRun
	screenSummary
)

var screenNames = [...]string{"Welcome", "Source", "Target", "Database", "Public URL, e-mail, billing", "Review", "Run", "Summary"}

// phase is where a form screen is: editing, checking, or showing the check.
type phase int

const (
	phaseForm phase = iota
	phaseBusy
	phaseResult
)

// Model is the wizard's bubbletea model. Build it with New.
type Model struct {
	cfg Config
	v   *values
	// ctx lives as long as the program; async work derives from it.
	ctx context.Context

	screen screen
	phase  phase
	form   *huh.Form
	cur    []page // the pages of form
	width  int
	height int
	plain  bool
	// accessible is set by RunAccessible: prompts instead of a screen.
	accessible bool
	// texts are the text fields of the pages last built, for their
	// accessible prompts (accessible.go)
	texts map[*huh.Input]text
	st    styles
	spin  spinner.Model

	gen    int                // generation of the async work; stale results are dropped
	cancel context.CancelFunc // cancels the async work of the current screen

	// Source and Database checks
	checkOK  bool
	checkMsg string
	// asking is the one-line question a fix asks (askSSHKey), in saveInput
	asking int
	// ignored are the preflight checks the user chose to ignore
	ignored []string
	// Target: preflight findings as found
	findings      []contract.Finding
	preflightErr  error
	preflightDone bool
	// Review
	plan       *Plan
	planErr    error
	answersErr error
	scroll     int
	// bodyScroll scrolls a check result taller than the terminal
	bodyScroll int
	saving     bool
	saveInput  textinput.Model
	saveMsg    string
	saveErr    bool
	// Run
	run         runState
	bar         progress.Model
	confirmQuit bool
	// Welcome of an existing install: the choice, the upgrade ref and
	// where the upgrade path is (upgrade.go)
	action string
	upRef  string
	up     upStage

	result Result
}

// New returns the wizard for cfg. ctx bounds every callback it makes.
func New(ctx context.Context, cfg Config) *Model {
	base := *cfg.Answers
	base.ApplyDefaults()
	cfg.Answers = &base
	if cfg.TokenEnv == "" {
		cfg.TokenEnv = "CALCTL_GIT_TOKEN"
	}
	v := newValues(cfg.Answers, cfg.Env, cfg.TokenEnv, cfg.Kubeconfig)
	m := &Model{cfg: cfg, v: &v, ctx: ctx, width: 80, height: 24, st: newStyles(false)}
	m.spin = spinner.New(spinner.WithSpinner(spinner.Dot))
	m.saveInput = textinput.New()
	m.saveInput.Prompt = "save answers to: "
	m.saveInput.Placeholder = "/root/calcom-answers.yaml"
	m.bar = progress.New(progress.WithSolidFill("#7D56F4"), progress.WithoutPercentage())
	if cfg.Plain {
		m.plain, m.st = true, newStyles(true)
		m.bar = progress.New(progress.WithSolidFill(""), progress.WithoutPercentage())
	}
	if cfg.Existing {
		m.action, m.upRef = actionRerun, cfg.Answers.Source.Ref
		m.form = m.newWelcomeForm()
	}
	return m
}

// Result is how the wizard ended; read it after the program returns.
func (m *Model) Result() Result {
	r := m.result
	if r.Answers == nil {
		r.Answers = m.answers()
	}
	return r
}

func (m *Model) answers() *contract.Answers { return m.v.answers(m.cfg.Answers, m.cfg.TokenEnv) }
func (m *Model) env() contract.EnvSecrets   { return m.v.env(m.cfg.Env) }

// Init implements tea.Model.
func (m *Model) Init() tea.Cmd {
	if m.form != nil {
		return m.form.Init()
	}
	return nil
}

// genMsg carries the result of async work of generation gen.
type genMsg struct {
	gen int
	msg tea.Msg
	// more is true when the stream goes on after this message.
	more bool
	ch   chan genMsg
}

func listen(ch chan genMsg) tea.Cmd {
	return func() tea.Msg { return <-ch }
}

// startWork runs fn off the UI goroutine; fn reports with send(msg, more).
// Starting new work cancels the old, whose results are then dropped.
func (m *Model) startWork(fn func(ctx context.Context, send func(msg tea.Msg, more bool))) tea.Cmd {
	m.stopWork()
	m.gen++
	gen := m.gen
	ctx, cancel := context.WithCancel(m.ctx)
	m.cancel = cancel
	ch := make(chan genMsg, 256)
	life := m.ctx
	go fn(ctx, func(msg tea.Msg, more bool) {
		select {
		case ch <- genMsg{gen: gen, msg: msg, more: more, ch: ch}:
		case <-life.Done():
		}
	})
	return tea.Batch(listen(ch), m.spin.Tick)
}

func (m *Model) stopWork() {
	if m.cancel != nil {
		m.cancel()
		m.cancel = nil
	}
	m.gen++
}

// busy reports whether a spinner is turning.
func (m *Model) busy() bool {
	return m.phase == phaseBusy || (m.screen == screenRun && m.run.running)
}

// Update implements tea.Model.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = max(msg.Width, 40), max(msg.Height, 12)
		m.bar.Width = min(m.width-20, 60)
		if m.form != nil {
			// the form gets the room under the header and above the help
			m.form = m.form.WithWidth(m.formWidth())
			m.sizeForm()
		}
		return m, nil
	case spinner.TickMsg:
		if !m.busy() {
			return m, nil
		}
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg)
		return m, cmd
	case genMsg:
		if msg.gen != m.gen {
			return m, nil // the user moved on
		}
		cmd := m.handleWork(msg.msg)
		if msg.more {
			return m, tea.Batch(cmd, listen(msg.ch))
		}
		return m, cmd
	case savedMsg:
		m.saveErr = msg.err != nil
		if msg.err != nil {
			m.saveMsg = "✗ " + msg.err.Error()
		} else {
			m.saveMsg = "✓ saved to " + msg.path + " (secrets left out)"
		}
		return m, nil
	case tea.KeyMsg:
		if msg.String() == "ctrl+c" {
			return m.interrupt()
		}
		if m.confirmQuit {
			return m.answerQuit(msg)
		}
	}
	switch m.screen {
	case screenWelcome:
		return m.updateWelcome(msg)
	case screenSource, screenTarget, screenDatabase, screenSite:
		return m.updateFormScreen(msg)
	case screenReview:
		return m.updateReview(msg)
	case screenRun:
		return m.updateRun(msg)
	case screenSummary:
		if k, ok := msg.(tea.KeyMsg); ok {
			switch k.String() {
			case "enter", "q":
				return m, tea.Quit
			case "up", "k":
				m.scroll = max(m.scroll-1, 0)
			case "down", "j":
				m.scroll++
			case "pgup":
				m.scroll = max(m.scroll-10, 0)
			case "pgdown", " ":
				m.scroll += 10
			}
		}
	}
	return m, nil
}

// interrupt is Ctrl+C: leave at once, except during a run, where it asks.
func (m *Model) interrupt() (tea.Model, tea.Cmd) {
	if m.screen == screenRun && m.run.running {
		if m.run.stopping {
			return m, nil
		}
		m.confirmQuit = true
		return m, nil
	}
	m.stopWork()
	if m.screen != screenRun && m.screen != screenSummary {
		m.result.Outcome = Quit
	}
	return m, tea.Quit
}

func (m *Model) answerQuit(k tea.KeyMsg) (tea.Model, tea.Cmd) {
	switch k.String() {
	case "y", "Y":
		m.confirmQuit = false
		if !m.run.running {
			// the run ended while the question was on screen: nothing
			// to stop, and the Run screen's keys are back
			return m, nil
		}
		m.run.stopping = true
		if m.run.cancel != nil {
			m.run.cancel()
		}
	case "n", "N", "esc":
		m.confirmQuit = false
	}
	return m, nil
}

// goTo enters screen s and starts what it needs.
func (m *Model) goTo(s screen) tea.Cmd {
	m.stopWork()
	m.screen, m.phase, m.form, m.asking, m.bodyScroll = s, phaseForm, nil, askNothing, 0
	switch s {
	case screenWelcome:
		if m.cfg.Existing {
			m.form = m.newWelcomeForm()
			return m.form.Init()
		}
	case screenSource, screenTarget, screenDatabase, screenSite:
		m.form = m.newForm(s)
		return m.form.Init()
	case screenReview:
		return m.startPlan()
	case screenRun:
		return m.startRun()
	case screenSummary:
		m.scroll = 0
	}
	return nil
}

func (m *Model) updateFormScreen(msg tea.Msg) (tea.Model, tea.Cmd) {
	k, isKey := msg.(tea.KeyMsg)
	switch m.phase {
	case phaseForm:
		if isKey && k.String() == "esc" {
			return m, m.goTo(m.screen - 1)
		}
		if isKey && k.String() == "shift+tab" {
			if hold, cmd := m.backKeepsFocus(); hold {
				return m, cmd
			}
		}
		f, cmd := m.form.Update(msg)
		m.form = f.(*huh.Form)
		m.sizeForm()
		if m.form.State == huh.StateCompleted {
			return m, tea.Batch(cmd, m.submit())
		}
		return m, cmd
	case phaseBusy:
		if isKey && k.String() == "esc" {
			return m, m.goTo(m.screen)
		}
	case phaseResult:
		if m.asking != askNothing {
			return m.updateAsk(msg)
		}
		if !isKey {
			return m, nil
		}
		switch k.String() {
		case "up":
			m.bodyScroll = max(m.bodyScroll-1, 0)
			return m, nil
		case "down":
			m.bodyScroll++
			return m, nil
		}
		for _, f := range m.fixes() {
			if k.String() == f.key {
				return m, f.do(m)
			}
		}
		switch k.String() {
		case "enter":
			if m.checkOK {
				return m, m.goTo(m.screen + 1)
			}
			if fs := m.fixes(); len(fs) > 0 && fs[0].key == "e" {
				return m, fs[0].do(m) // edit, on the field the check is about
			}
			return m, m.goTo(m.screen)
		case "c":
			return m, m.goTo(m.screen + 1)
		case "r":
			return m, m.submit()
		case "esc", "e":
			return m, m.goTo(m.screen)
		}
	}
	return m, nil
}

// submit runs the live check of a completed form screen.
func (m *Model) submit() tea.Cmd {
	if m.screen == screenTarget && m.v.Target == contract.TargetPM2 && m.v.DBMode == contract.DBBundled {
		// bundled Postgres is the default and runs only under compose:
		// preselect external for pm2 on the next screen
		m.v.DBMode = contract.DBExternal
	}
	a, env, b := m.answers(), m.env(), m.cfg.Backend
	switch m.screen {
	case screenSource:
		if b.ProbeSource == nil {
			return m.goTo(screenTarget)
		}
		m.phase = phaseBusy
		return m.startWork(func(ctx context.Context, send func(tea.Msg, bool)) {
			detail, err := b.ProbeSource(ctx, a, env.GitToken)
			send(checkedMsg{detail: detail, err: err}, false)
		})
	case screenTarget:
		if b.Preflight == nil || a.Target == contract.TargetKubernetes {
			// target kubernetes: the host preflight is not about the
			// cluster; calctl-kubernetes checks the cluster when it runs
			return m.goTo(screenDatabase)
		}
		m.phase, m.findings, m.preflightErr, m.preflightDone = phaseBusy, nil, nil, false
		return m.startWork(func(ctx context.Context, send func(tea.Msg, bool)) {
			err := b.Preflight(ctx, a, env, func(f contract.Finding) { send(findingMsg(f), true) })
			send(preflightDoneMsg{err: err}, false)
		})
	case screenDatabase:
		if a.Database.Mode == contract.DBBundled || b.ProbeDatabase == nil {
			return m.goTo(screenSite)
		}
		m.phase = phaseBusy
		return m.startWork(func(ctx context.Context, send func(tea.Msg, bool)) {
			info, err := b.ProbeDatabase(ctx, a, env.DatabaseURL)
			if err == nil {
				tls := "TLS off"
				if info.TLS {
					tls = "TLS on"
				}
				send(checkedMsg{detail: "connected: PostgreSQL " + info.Version + ", " + tls}, false)
				return
			}
			send(checkedMsg{err: err}, false)
		})
	case screenSite:
		return m.goTo(screenReview)
	}
	return nil
}

type checkedMsg struct {
	detail string
	err    error
}

type findingMsg contract.Finding

type preflightDoneMsg struct{ err error }

type plannedMsg struct {
	plan Plan
	err  error
}

type eventMsg contract.Event

type runDoneMsg struct{ err error }

type savedMsg struct {
	path string
	err  error
}

func (m *Model) handleWork(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case checkedMsg:
		m.phase, m.checkOK = phaseResult, msg.err == nil
		m.checkMsg = msg.detail
		if msg.err != nil {
			m.checkMsg = msg.err.Error()
		}
	case findingMsg:
		m.findings = append(m.findings, contract.Finding(msg))
	case preflightDoneMsg:
		m.phase, m.preflightDone, m.preflightErr = phaseResult, true, msg.err
		m.checkOK = true // findings inform; the run's preflight step decides
	case plannedMsg:
		m.phase = phaseResult
		if msg.err != nil {
			m.planErr = msg.err
		} else {
			p := msg.plan
			m.plan = &p
		}
	case eventMsg:
		m.run.apply(contract.Event(msg))
	case runDoneMsg:
		m.run.finish(msg.err)
		m.confirmQuit = false
		switch {
		case msg.err == nil:
			m.result.Outcome = Finished
		case m.run.stopping:
			m.result.Outcome = Stopped
		default:
			m.result.Outcome = Failed
		}
		m.result.Err = msg.err
		m.result.Summary, m.result.Check = m.summaryText(), m.run.check
		if m.run.stopping {
			return tea.Quit
		}
	}
	return nil
}
