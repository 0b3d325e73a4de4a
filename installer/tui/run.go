package tui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/calctl/calctl/installer/contract"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// Step states on the Run screen.
const (
	rowPending = iota
	rowRunning
	rowDone
	rowSkipped
	rowFailed
)

// maxLogLines bounds the log a step keeps for its pane (a Next.js build
// prints tens of thousands of lines); the engine's text and JSON views have
// them all.
const maxLogLines = 2000

type stepRow struct {
	name   string
	state  int
	durMS  int64
	note   string
	logged []string
}

// runState is what the Run screen knows, built only from Events.
type runState struct {
	rows     []*stepRow
	current  *stepRow
	failed   *contract.Event
	changes  []contract.Event
	doneMsg  string
	check    *contract.CheckSummary // the check step's summary
	running  bool
	stopping bool
	finished bool
	err      error
	cancel   context.CancelFunc
	scroll   int // log lines scrolled up from the bottom
	// tall is set when the screen does not fit the terminal (a long
	// outcome at 60×15): ↑/↓ scroll the screen instead of the log
	tall bool
}

func (r *runState) row(name string) *stepRow {
	for _, row := range r.rows {
		if row.name == name {
			return row
		}
	}
	row := &stepRow{name: name}
	r.rows = append(r.rows, row)
	return row
}

// apply draws one engine event into the state.
func (r *runState) apply(e contract.Event) {
	switch e.Type {
	case contract.EventPlan:
		r.rows = nil
		for _, s := range e.Steps {
			r.rows = append(r.rows, &stepRow{name: s})
		}
	case contract.EventStepStart:
		row := r.row(e.Step)
		row.state, r.current, r.scroll = rowRunning, row, 0
	case contract.EventProgress:
		row := r.row(e.Step)
		row.note = e.Message
		if e.Percent > 0 {
			row.note = fmt.Sprintf("%d%% %s", e.Percent, e.Message)
		}
	case contract.EventLog:
		if e.Check != nil {
			c := *e.Check
			r.check = &c
		}
		row := r.row(e.Step)
		lvl := ""
		if e.Level != "" && e.Level != "info" {
			lvl = strings.ToUpper(e.Level) + ": "
		}
		for _, l := range strings.Split(strings.TrimRight(e.Message, "\n"), "\n") {
			row.logged = append(row.logged, lvl+l)
		}
		if e.Remedy != "" {
			row.logged = append(row.logged, "  fix: "+e.Remedy)
		}
		if n := len(row.logged); n > 2*maxLogLines { // trim now and then, not on every line
			row.logged = append(row.logged[:0:0], row.logged[n-maxLogLines:]...)
		}
	case contract.EventChange:
		row := r.row(e.Step)
		row.logged = append(row.logged, fmt.Sprintf("%-9s %s", e.Action, e.Path))
		r.changes = append(r.changes, e)
	case contract.EventStepSkip:
		row := r.row(e.Step)
		row.state, row.note = rowSkipped, e.Message
	case contract.EventStepDone:
		row := r.row(e.Step)
		row.state, row.durMS, row.note = rowDone, e.DurationMS, ""
	case contract.EventStepFail:
		row := r.row(e.Step)
		row.state, row.durMS = rowFailed, e.DurationMS
		ev := e
		r.failed, r.current = &ev, row
	case contract.EventDone:
		r.doneMsg = e.Message
	}
}

func (r *runState) finish(err error) {
	r.running, r.finished, r.err = false, true, err
	if err != nil && r.failed == nil {
		r.failed = &contract.Event{Error: err.Error(), Remedy: contract.RemedyOf(err)}
	}
}

// progress is the share of the plan that has ended.
func (r *runState) progress() (ended, total int) {
	for _, row := range r.rows {
		if row.state == rowDone || row.state == rowSkipped {
			ended++
		}
	}
	return ended, len(r.rows)
}

func (m *Model) startRun() tea.Cmd {
	m.run = runState{running: true}
	if m.cfg.Backend.Run == nil {
		m.run.finish(fmt.Errorf("this build cannot run the install"))
		return nil
	}
	a, env, run := m.answers(), m.env(), m.cfg.Backend.Run
	cmd := m.startWork(func(ctx context.Context, send func(tea.Msg, bool)) {
		err := run(ctx, a, env, func(e contract.Event) { send(eventMsg(e), true) })
		send(runDoneMsg{err: err}, false)
	})
	m.run.cancel = m.cancel
	return cmd
}

func (m *Model) updateRun(msg tea.Msg) (tea.Model, tea.Cmd) {
	k, ok := msg.(tea.KeyMsg)
	if !ok {
		return m, nil
	}
	// ↑/↓ a line, pgup/pgdn ten (as docs/wizard.md's Keys say): the log,
	// or the whole screen when it is taller than the terminal
	step := map[string]int{"up": -1, "k": -1, "down": 1, "j": 1, "pgup": -10, "pgdown": 10}[k.String()]
	switch {
	case step != 0 && m.run.tall:
		m.bodyScroll = max(m.bodyScroll+step, 0)
	case step != 0:
		m.run.scroll = max(m.run.scroll-step, 0) // the log scrolls up from its bottom
	}
	if m.run.running {
		return m, nil
	}
	switch k.String() {
	case "enter":
		if m.run.err == nil {
			return m, m.goTo(screenSummary)
		}
	case "r":
		if m.run.err != nil {
			return m, m.goTo(screenRun)
		}
	case "q":
		if m.run.err != nil {
			return m, tea.Quit
		}
	case "esc":
		return m, m.goTo(screenReview)
	}
	return m, nil
}

func dur(ms int64) string {
	d := time.Duration(ms) * time.Millisecond
	if d < time.Second {
		return fmt.Sprintf("%dms", ms)
	}
	return d.Round(100 * time.Millisecond).String()
}

// viewRun draws the Run screen into the room between the header and the
// key line (which View pins at the bottom): the step list, the progress bar,
// the outcome with its fix, and the current step's log. Nothing is cut: a
// step's note (a skip's reason, a progress message) wraps under the step,
// indented under the note's first line; the outcome and its fix wrap; log
// lines wrap under their own indent. When the terminal is short the step
// list becomes a window around the current step and the log gets what is
// left; when even the outcome does not fit, the whole screen scrolls (↑/↓).
func (m *Model) viewRun() string {
	r := &m.run
	room := max(m.height-3, 4)
	var tail []string
	ended, total := r.progress()
	pct := 0.0
	if total > 0 {
		pct = float64(ended) / float64(total)
	}
	tail = append(tail, fmt.Sprintf(" %s %d/%d steps", m.bar.ViewAs(pct), ended, total))
	if r.failed != nil && !r.running {
		for i, l := range wrap(r.failed.Step+": "+r.failed.Error, m.width-4) {
			p := "   "
			if i == 0 {
				p = " ✗ "
			}
			tail = append(tail, m.st.bad.Render(p+l))
		}
		if r.failed.Remedy != "" {
			for _, l := range wrap("fix: "+r.failed.Remedy, m.width-4) {
				tail = append(tail, "   "+l)
			}
		}
	} else if r.finished && r.err == nil {
		msg := " ✓ finished"
		if m.cfg.DryRun {
			msg = " ✓ dry run finished: nothing was written"
		}
		tail = append(tail, m.st.ok.Render(msg))
	}
	logMin := 0
	if r.current != nil {
		logMin = 1 + min(len(r.current.logged), 2)
	}
	stepRoom := max(room-len(tail)-logMin, 1)
	steps := m.stepLines(stepRoom)
	var b strings.Builder
	for _, l := range steps {
		b.WriteString(l + "\n")
	}
	for _, l := range tail {
		b.WriteString(truncate(l, m.width) + "\n")
	}
	if r.current != nil {
		logRoom := max(room-len(steps)-len(tail)-1, 1)
		want := logRoom // the last lines; when scrolled, all (to count them)
		if r.scroll > 0 {
			want = -1
		}
		lines := m.logLines(r.current.logged, want)
		// scrolling stops at the top of the log: it never scrolls into blank
		r.scroll = min(r.scroll, max(len(lines)-logRoom, 0))
		end := max(len(lines)-r.scroll, 0)
		start := max(end-logRoom, 0)
		title := "── " + r.current.name + " log "
		if r.scroll > 0 {
			title += fmt.Sprintf("(%d lines above, %d below) ", start, r.scroll)
		}
		b.WriteString(m.st.faint.Render(truncate(title+strings.Repeat("─", max(m.width-ansi.StringWidth(title)-1, 0)), m.width)) + "\n")
		for _, l := range lines[start:end] {
			b.WriteString(l + "\n")
		}
	}
	// taller than the room only when the outcome or the current step is:
	// then ↑/↓ scroll the screen (View), not the log
	r.tall = strings.Count(b.String(), "\n") > room
	return b.String()
}

// noteCol is where a step's note starts on the Run screen: after " ✓ " and
// the step's name in 10 columns and a space.
const noteCol = 14

// stepLines draws the step list in at most room lines (at least the first
// line of the current step): each step on its line with its duration, or
// its note wrapped under the note column. When the steps do not fit, the
// list is a window around the step that runs (or failed, or ran last), with
// how many steps are above and below it.
func (m *Model) stepLines(room int) []string {
	r := &m.run
	drawn := make([][]string, len(r.rows))
	for i, row := range r.rows {
		drawn[i] = m.stepRow(row)
	}
	count := func(from, to int) int {
		n := 0
		for _, d := range drawn[from:to] {
			n += len(d)
		}
		return n
	}
	first, last := 0, len(r.rows) // the window is rows[first:last]
	if count(0, len(r.rows)) > room {
		at := 0
		for i, row := range r.rows {
			if row == r.current || row.state != rowPending {
				at = i
			}
			if row == r.current {
				break
			}
		}
		// grow the window around at, a step below then a step above, while
		// the steps and the "more" markers' line fit
		first, last = at, at+1
		for grown := true; grown; {
			grown = false
			if last < len(r.rows) && count(first, last+1) <= room {
				last, grown = last+1, true
			}
			if first > 0 && count(first-1, last) <= room {
				first, grown = first-1, true
			}
		}
	}
	var out []string
	for i := first; i < last; i++ {
		d := append([]string(nil), drawn[i]...)
		more := ""
		if i == first && first > 0 {
			more = fmt.Sprintf("   ↑ %d more", first)
		}
		if i == last-1 && last < len(r.rows) {
			more += fmt.Sprintf("   ↓ %d more", len(r.rows)-last)
		}
		if more != "" {
			if ansi.StringWidth(d[0])+ansi.StringWidth(more) <= m.width {
				d[0] += m.st.faint.Render(more)
			} else {
				// no room beside the step: the marker has its own line
				d = append(d, strings.Repeat(" ", noteCol-3)+m.st.faint.Render(more))
			}
		}
		out = append(out, d...)
	}
	// the current step alone may be taller than the room: it is drawn
	// whole, and the screen scrolls (viewRun)
	return out
}

// stepRow draws one step: its mark, its name, its duration or its note,
// the note wrapped under the note column within the width.
func (m *Model) stepRow(row *stepRow) []string {
	mark := "·"
	switch row.state {
	case rowRunning:
		mark = m.spin.View()
	case rowDone:
		mark = m.st.ok.Render("✓")
	case rowSkipped:
		mark = m.st.faint.Render("-")
	case rowFailed:
		mark = m.st.bad.Render("✗")
	}
	line := fmt.Sprintf(" %s %-10s", mark, row.name)
	if row.state == rowDone || row.state == rowFailed {
		return []string{truncate(line+fmt.Sprintf(" %7s", dur(row.durMS)), m.width)}
	}
	if row.note == "" {
		return []string{truncate(line, m.width)}
	}
	w := ansi.StringWidth(line)
	col := max(noteCol, w+1) // a long name pushes the note right
	if col > m.width/2 {
		// no room beside the name: the note goes under it
		out := []string{truncate(line, m.width)}
		for _, l := range wrap(row.note, m.width-noteCol) {
			out = append(out, strings.Repeat(" ", noteCol)+m.st.faint.Render(l))
		}
		return out
	}
	notes := wrap(row.note, m.width-col)
	out := []string{line + strings.Repeat(" ", col-w) + m.st.faint.Render(notes[0])}
	for _, l := range notes[1:] {
		out = append(out, strings.Repeat(" ", col)+m.st.faint.Render(l))
	}
	return out
}

// logLines draws the last want lines of a step's log (want < 0: all of
// them), each logged line wrapped under its own indent within the width (a
// fix stays readable).
func (m *Model) logLines(logged []string, want int) []string {
	var rev [][]string
	n := 0
	for i := len(logged) - 1; i >= 0 && (want < 0 || n < want); i-- {
		w := wrapIndent(" "+logged[i], m.width-1)
		rev = append(rev, w)
		n += len(w)
	}
	out := make([]string, 0, n)
	for i := len(rev) - 1; i >= 0; i-- {
		out = append(out, rev[i]...)
	}
	return out
}

func (m *Model) runHelp() string {
	switch {
	case m.confirmQuit:
		return "Stop the install? The running step is cancelled. y stop · n go on"
	case m.run.stopping && m.run.running:
		return "stopping… (the running step is being cancelled)"
	case m.run.running:
		return "↑/↓ scroll log · ctrl+c stop"
	case m.run.err != nil:
		return "r retry · esc back to review · q quit"
	}
	return "enter summary · ↑/↓ scroll log"
}

// summaryText is the Summary screen as plain text.
func (m *Model) summaryText() string {
	a := m.answers()
	var b strings.Builder
	switch {
	case m.run.err == nil && m.cfg.DryRun:
		b.WriteString("✓ Dry run finished: nothing was written.\n")
	case m.run.err == nil:
		b.WriteString("✓ Cal.com is installed.\n")
	default:
		fmt.Fprintf(&b, "✗ The install stopped: %s\n", m.run.err)
	}
	fmt.Fprintf(&b, "\n  URL:            %s\n", a.PublicURLClean())
	fmt.Fprintf(&b, "  configuration:  %s\n", a.InstallDir)
	fmt.Fprintf(&b, "  source:         %s\n", a.Source.Dir)
	fmt.Fprintf(&b, "  secrets:        %s (mode 0600; kept on re-runs; back it up)\n", strings.TrimRight(a.InstallDir, "/")+"/.env")
	var files []string
	for _, c := range m.run.changes {
		if c.Action != "unchanged" {
			files = append(files, fmt.Sprintf("%s %s", c.Action, c.Path))
		}
	}
	if len(files) > 0 {
		verb := "written"
		if m.cfg.DryRun {
			verb = "would write"
		}
		fmt.Fprintf(&b, "  %-15s %s", verb+":", files[0])
		for i, f := range files[1:] {
			if i == 5 {
				fmt.Fprintf(&b, "\n                  … and %d more", len(files)-6)
				break
			}
			b.WriteString("\n                  " + f)
		}
		b.WriteString("\n")
	}
	if c := m.run.check; c != nil {
		b.WriteString("\nHardening checks (run at the end of the install):\n")
		for _, l := range strings.Split(strings.TrimRight(c.Text(), "\n"), "\n") {
			b.WriteString("  " + l + "\n")
		}
	}
	// every command names the install directory: run from anywhere, they
	// aim at this install
	dir := shellQuote(a.InstallDir)
	b.WriteString("\nNext:\n")
	switch {
	case m.cfg.DryRun:
		b.WriteString("  calctl install --install-dir " + dir + "    # run it for real\n")
	case m.run.err != nil:
		b.WriteString("  calctl install --resume --install-dir " + dir + "    # go on from the saved answers\n")
	}
	b.WriteString("  calctl status --dir " + dir + "    # services, health, last report\n")
	b.WriteString("  calctl doctor --dir " + dir + "    # diagnose the install\n")
	b.WriteString("  calctl check --dir " + dir + " -o html --out report.html    # evidence report\n")
	b.WriteString("  calctl install --non-interactive --answers " + shellQuote(strings.TrimRight(a.InstallDir, "/")+"/calctl-answers.yaml") + "    # repeat unattended\n")
	return b.String()
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+:@=,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
