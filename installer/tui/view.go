package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// styles are the few styles the wizard uses; plain mode (NO_COLOR) keeps
// them free of colour.
type styles struct {
	title, ok, bad, warn, faint, header lipgloss.Style
}

func newStyles(plain bool) styles {
	if plain {
		s := lipgloss.NewStyle()
		return styles{title: s, ok: s, bad: s, warn: s, faint: s, header: s}
	}
	return styles{
		title:  lipgloss.NewStyle().Bold(true),
		ok:     lipgloss.NewStyle().Foreground(lipgloss.Color("2")),
		bad:    lipgloss.NewStyle().Foreground(lipgloss.Color("1")),
		warn:   lipgloss.NewStyle().Foreground(lipgloss.Color("3")),
		faint:  lipgloss.NewStyle().Faint(true),
		header: lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("5")),
	}
}

// View implements tea.Model. It always fills exactly the terminal: a
// header, the screen and a help line at the bottom.
func (m *Model) View() string {
	var body, help string
	switch m.screen {
	case screenWelcome:
		body, help = m.viewWelcome(), "enter start · ctrl+c quit"
		if m.form != nil && m.up != upChoose {
			body, help = m.viewUpgrade()
		} else if m.form != nil {
			body, help = body+trimForm(m.form.View()), "↑/↓ choose · enter next · ctrl+c quit"
		}
	case screenSource, screenTarget, screenDatabase, screenSite:
		body, help = m.viewFormScreen()
	case screenReview:
		body, help = m.viewReview(), m.reviewHelp()
	case screenRun:
		body, help = m.viewRun(), m.runHelp()
	case screenSummary:
		body, help = m.viewSummary()
	}
	right := ""
	if m.cfg.DryRun {
		right = "dry run"
	}
	left := fmt.Sprintf(" calctl install · %d/%d %s", int(m.screen)+1, len(screenNames), screenNames[m.screen])
	head := left + strings.Repeat(" ", max(m.width-len([]rune(left))-len(right)-1, 1)) + right
	var b strings.Builder
	b.WriteString(m.st.header.Render(truncate(head, m.width)) + "\n")
	b.WriteString(m.st.faint.Render(strings.Repeat("─", m.width)) + "\n")
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(body, "\n"), "\n") {
		// long lines wrap, under their own indent: nothing is cut
		lines = append(lines, wrapIndent(l, m.width)...)
	}
	room := m.height - 3
	if len(lines) > room {
		// a screen taller than the terminal scrolls (↑/↓) with a line
		// saying so; nothing is cut without a way to read it
		rest := room - 1
		m.bodyScroll = min(m.bodyScroll, len(lines)-rest)
		lines = append(lines[m.bodyScroll:m.bodyScroll+rest:m.bodyScroll+rest],
			m.st.faint.Render(fmt.Sprintf("  ↑/↓ scroll · lines %d-%d of %d", m.bodyScroll+1, m.bodyScroll+rest, len(lines))))
	}
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	for i := len(lines); i < room; i++ {
		b.WriteString("\n")
	}
	b.WriteString(m.st.faint.Render(truncate(" "+fitHelp(help, m.width-1), m.width)))
	return b.String()
}

// fitHelp shortens a key help line ("enter next · shift+tab previous field
// · ...") to width: first each key keeps one word of its description, then
// the keys alone, so every key stays on screen at 60 columns.
func fitHelp(help string, width int) string {
	if ansi.StringWidth(help) <= width {
		return help
	}
	items := strings.Split(help, " · ")
	short := make([]string, len(items))
	for i, it := range items {
		w := strings.Fields(it)
		if len(w) > 2 {
			w = w[:2]
		}
		short[i] = strings.Join(w, " ")
	}
	if s := strings.Join(short, " · "); ansi.StringWidth(s) <= width {
		return s
	}
	return strings.Join(short, "·")
}

func (m *Model) viewWelcome() string {
	a := m.cfg.Answers
	var b strings.Builder
	short := m.height < 20 // 60×15: no blank lines, no key list (the help line has them)
	para := func(s string) {
		for _, l := range wrap(s, m.width-2) {
			b.WriteString(" " + l + "\n")
		}
		if !short {
			b.WriteString("\n")
		}
	}
	if !short {
		b.WriteString("\n")
	}
	b.WriteString(m.st.title.Render(" Install Cal.com on this host") + "\n")
	if !short {
		b.WriteString("\n")
	}
	choice := m.cfg.Existing && !m.accessible // the Welcome choice is drawn below
	switch {
	case short && choice:
		// 60×15: the choice needs the room of the introduction
	case short:
		para("A few questions, then the plan; nothing changes until you confirm it.")
	default:
		para("This wizard asks where Cal.com comes from, how it runs, which database it uses and where people reach it. " +
			"It then shows the plan, and only after you confirm it clones, renders the configuration, generates the secrets, starts, " +
			"migrates and verifies the install, step by step.")
	}
	dir := " Install directory: " + a.InstallDir
	b.WriteString(dir + "\n")
	if m.cfg.Found != "" {
		for _, l := range wrap("Found there: "+m.cfg.Found+". The fields are filled in from it.", m.width-2) {
			b.WriteString(" " + l + "\n")
		}
	}
	if m.cfg.Existing {
		// both views ask next whether to re-run or upgrade (upgrade.go)
		what := "An install is already there: its secrets are kept (never shown); a re-run upgrades or repairs it."
		for _, l := range wrap(what, m.width-2) {
			b.WriteString(" " + l + "\n")
		}
	}
	if m.cfg.DryRun {
		for _, l := range wrap("--dry-run: the run only reports what it would do; nothing is written.", m.width-2) {
			b.WriteString(" " + l + "\n")
		}
	}
	if !short && choice {
		b.WriteString("\n") // the choice is next; the help line has the keys
	} else if !short {
		b.WriteString("\n Keys: enter next · shift+tab previous field · esc previous screen\n")
		b.WriteString("       ctrl+c quit (nothing is changed before the Run screen)\n")
	}
	return b.String()
}

func (m *Model) viewFormScreen() (string, string) {
	if m.phase == phaseForm {
		return "\n" + m.form.View(), "enter next · shift+tab previous field · esc back · ctrl+c quit"
	}
	a := m.answers()
	var b strings.Builder
	// short terminals (60×15) keep the result and its fixes, not the recap
	short := m.height < 20 && m.phase == phaseResult && !m.checkOK && m.screen != screenTarget
	if !short {
		b.WriteString("\n")
	}
	kv := func(k, v string) {
		if !short {
			fmt.Fprintf(&b, "  %-12s %s\n", k, v)
		}
	}
	switch m.screen {
	case screenSource:
		tok := "none"
		switch m.v.TokenChoice {
		case tokenFromEnv:
			tok = "from " + m.cfg.TokenEnv
		case tokenTyped:
			tok = "typed (••••••••)"
		}
		kv("Repository", a.Source.URL)
		kv("Ref", a.Source.Ref)
		kv("Submodules", a.Source.Submodules)
		kv("Token", tok)
	case screenTarget:
		kv("Target", a.Target)
	case screenDatabase:
		kv("Database", a.Database.Mode)
		kv("URL", "••••••••")
		if a.Database.CAFile != "" {
			kv("CA file", a.Database.CAFile)
		}
	}
	if !short {
		b.WriteString("\n")
	}
	if m.screen == screenTarget {
		b.WriteString(m.viewFindings())
	} else {
		switch {
		case m.phase == phaseBusy && m.screen == screenSource:
			b.WriteString("  " + m.spin.View() + " checking access to the repository…\n")
		case m.phase == phaseBusy:
			b.WriteString("  " + m.spin.View() + " connecting to the database…\n")
		case m.checkOK:
			b.WriteString(m.st.ok.Render("  ✓ "+m.checkMsg) + "\n")
		default:
			for i, l := range wrap(m.checkMsg, m.width-6) {
				p := "    "
				if i == 0 {
					p = "  ✗ "
				}
				b.WriteString(m.st.bad.Render(p+l) + "\n")
			}
		}
	}
	b.WriteString(m.viewFixes())
	switch {
	case m.asking != askNothing:
		return b.String(), "enter use it and check again · esc cancel"
	case m.phase == phaseBusy:
		return b.String(), "esc cancel · ctrl+c quit"
	case m.checkOK:
		return b.String(), "enter continue · esc edit · r check again · ctrl+c quit"
	}
	return b.String(), "enter edit · c continue anyway · r check again · esc edit · ctrl+c quit"
}

func (m *Model) viewFindings() string {
	var b strings.Builder
	b.WriteString(m.st.title.Render("  Preflight (findings as they are found)") + "\n")
	b.WriteString(m.st.faint.Render("  with the answers so far; the run checks again with all of them") + "\n")
	errs, warns := 0, 0
	for _, f := range m.findings {
		mark, st := "!", m.st.warn
		if f.Blocking() {
			mark, st = "✗", m.st.bad
			errs++
		} else {
			warns++
		}
		line := f.String()
		if f.Ignored {
			line = f.Check + ": " + f.Message + " (ignored: it will not stop the install)"
		}
		for i, l := range wrap(line, m.width-6) {
			p := "    "
			if i == 0 {
				p = "  " + mark + " "
			}
			b.WriteString(st.Render(p+l) + "\n")
		}
		if f.Remedy != "" {
			for _, l := range wrap("fix: "+f.Remedy, m.width-8) {
				b.WriteString("      " + l + "\n")
			}
		}
	}
	switch {
	case !m.preflightDone:
		b.WriteString("  " + m.spin.View() + " checking this host…\n")
	case m.preflightErr != nil:
		b.WriteString(m.st.bad.Render("  ✗ preflight could not run: "+m.preflightErr.Error()) + "\n")
	case errs == 0 && warns == 0:
		b.WriteString(m.st.ok.Render("  ✓ no problems found") + "\n")
	case errs > 0:
		b.WriteString(fmt.Sprintf("  %d error(s), %d warning(s): the run stops at preflight until fixed\n", errs, warns))
	default:
		b.WriteString(fmt.Sprintf("  %d warning(s), no errors\n", warns))
	}
	return b.String()
}

// truncate cuts s (which may hold ANSI styles) to width cells.
func truncate(s string, width int) string {
	if width <= 0 {
		return ""
	}
	if ansi.StringWidth(s) <= width {
		return s
	}
	return ansi.Truncate(s, width-1, "") + "…"
}

// wrap breaks plain text into lines of at most width cells.
func wrap(s string, width int) []string {
	if width < 10 {
		width = 10
	}
	var out []string
	for _, para := range strings.Split(s, "\n") {
		out = append(out, strings.Split(ansi.Wordwrap(para, width, ""), "\n")...)
	}
	return out
}

// wrapCommand breaks a command line into lines of at most width cells at
// its spaces only, never inside an argument (wrap also breaks at hyphens,
// which splits --dry-run across lines); an argument longer than a line is
// cut into pieces of width.
func wrapCommand(s string, width int) []string {
	width = max(width, 10)
	var out []string
	line := ""
	for _, w := range strings.Fields(s) {
		switch {
		case line == "":
			line = w
		case ansi.StringWidth(line)+1+ansi.StringWidth(w) <= width:
			line += " " + w
			continue
		default:
			out = append(out, line)
			line = w
		}
		for ansi.StringWidth(line) > width {
			out = append(out, ansi.Truncate(line, width, ""))
			line = ansi.TruncateLeft(line, width, "")
		}
	}
	if line != "" {
		out = append(out, line)
	}
	return out
}

// viewSummary is the Summary screen: the summary, wrapped, scrolled when
// it is longer than the terminal, so the Next commands can always be read.
func (m *Model) viewSummary() (string, string) {
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(m.summaryText(), "\n"), "\n") {
		lines = append(lines, wrapIndent(l, m.width-1)...)
	}
	room := max(m.height-3, 2)
	if len(lines) <= room {
		m.scroll = 0
		return strings.Join(lines, "\n"), "enter quit"
	}
	room-- // a line for where the reader is
	m.scroll = min(m.scroll, len(lines)-room)
	end := m.scroll + room
	body := strings.Join(lines[m.scroll:end], "\n") + "\n" +
		m.st.faint.Render(fmt.Sprintf("lines %d-%d of %d", m.scroll+1, end, len(lines)))
	return body, "↑/↓ scroll · enter quit"
}

// wrapIndent wraps one line (which may hold ANSI styles) to width cells.
// Continuation lines start under the line's text: under its value for a
// "  key    value" line, else under its first character.
func wrapIndent(l string, width int) []string {
	if ansi.StringWidth(l) <= width {
		return []string{l}
	}
	plain := ansi.Strip(l)
	text := strings.TrimLeft(plain, " ")
	indent := len(plain) - len(text)
	if i := strings.Index(text, "  "); i > 0 {
		j := i + len(text[i:]) - len(strings.TrimLeft(text[i:], " "))
		if v := indent + len([]rune(text[:j])); v < width/2 {
			indent = v
		}
	}
	if indent > width/2 {
		indent = 0
	}
	first := ansi.Wrap(l, width, "")
	parts := strings.SplitN(first, "\n", 2)
	out := []string{parts[0]}
	if len(parts) == 1 {
		return out
	}
	rest := strings.TrimLeft(strings.ReplaceAll(parts[1], "\n", " "), " ")
	for _, r := range strings.Split(ansi.Wrap(rest, width-indent, ""), "\n") {
		out = append(out, strings.Repeat(" ", indent)+r)
	}
	return out
}
