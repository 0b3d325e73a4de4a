package tui

import (
	"errors"
	"fmt"
	"strings"
	"unicode"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/huh"
	"github.com/charmbracelet/x/ansi"
)

// The Welcome screen of an existing install (Config.Existing) asks what to
// do with it: re-run the install with changed settings (the default, the
// path of a new install), or upgrade it to another Cal.com ref. Upgrade asks
// for the ref, says what `calctl upgrade` does, and ends the wizard with a
// Handoff carrying an UpgradeHandoff: the caller runs calctl upgrade.

// Values of the Welcome choice.
const (
	actionRerun   = "rerun"
	actionUpgrade = "upgrade"
)

// upStage is where the upgrade path of the Welcome screen is.
type upStage int

const (
	upChoose  upStage = iota // the choice (or no choice: a new install)
	upRef                    // the ref field
	upConfirm                // the confirmation line
)

// UpgradeHandoff is the upgrade the user chose on the Welcome screen: the
// caller runs `calctl upgrade --ref Ref --dir Dir`.
type UpgradeHandoff struct {
	// Ref is the branch, tag or commit to upgrade to.
	Ref string
	// Dir is the install directory.
	Dir string
}

// validRef is the ref field's check: not empty, no whitespace or control
// characters (git refuses both in ref names; git-check-ref-format(1)).
func validRef(s string) error {
	if s == "" {
		return errors.New("required: the branch, tag or commit to upgrade to, e.g. v5.9.0")
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return errors.New("a ref has no spaces or control characters, e.g. v5.9.0")
		}
	}
	return nil
}

// newWelcomeForm is the Welcome choice of an existing install.
func (m *Model) newWelcomeForm() *huh.Form {
	m.up = upChoose
	c := newChoice("What do you want to do with it?", &m.action,
		huh.NewOption("Change settings and re-run the install", actionRerun),
		huh.NewOption("Upgrade this install to another Cal.com version", actionUpgrade))
	return m.embed(huh.NewForm(huh.NewGroup(c)))
}

// newRefForm is the ref field of the upgrade path.
func (m *Model) newRefForm() *huh.Form {
	m.up = upRef
	in := huh.NewInput().Title("Upgrade to ref (branch, tag or commit)").
		Description("now: " + m.cfg.Answers.Source.Ref).Value(&m.upRef).Validate(validRef)
	return m.embed(huh.NewForm(huh.NewGroup(in)))
}

// embed sets up a form drawn inside a screen, as newForm does.
func (m *Model) embed(f *huh.Form) *huh.Form {
	f = f.WithTheme(m.theme()).WithShowHelp(false).WithWidth(m.formWidth())
	f.SubmitCmd, f.CancelCmd = nil, nil
	m.cur = nil
	return f
}

// updateWelcome is the Welcome screen's keys.
func (m *Model) updateWelcome(msg tea.Msg) (tea.Model, tea.Cmd) {
	k, isKey := msg.(tea.KeyMsg)
	if m.form == nil {
		// a new install: enter starts
		if isKey && k.String() == "enter" {
			return m, m.goTo(screenSource)
		}
		return m, nil
	}
	if m.up == upConfirm {
		if !isKey {
			return m, nil
		}
		switch k.String() {
		case "enter":
			m.stopWork()
			m.result.Outcome = Handoff
			m.result.Upgrade = &UpgradeHandoff{Ref: m.upRef, Dir: m.cfg.Answers.InstallDir}
			return m, tea.Quit
		case "esc":
			m.form = m.newRefForm()
			return m, m.form.Init()
		}
		return m, nil
	}
	if isKey && k.String() == "esc" && m.up == upRef {
		m.form = m.newWelcomeForm()
		return m, m.form.Init()
	}
	f, cmd := m.form.Update(msg)
	m.form = f.(*huh.Form)
	if m.form.State != huh.StateCompleted {
		return m, cmd
	}
	switch {
	case m.up == upRef:
		m.up = upConfirm
		return m, nil
	case m.action == actionUpgrade:
		m.form = m.newRefForm()
		return m, m.form.Init()
	}
	return m, m.goTo(screenSource)
}

// upgradeArgs is the command line the upgrade handoff runs, for the
// confirmation line.
func (m *Model) upgradeArgs() string {
	s := "calctl upgrade --ref " + m.upRef + " --dir " + m.cfg.Answers.InstallDir
	if m.cfg.DryRun {
		s += " --dry-run"
	}
	return s
}

// viewUpgrade is the Welcome screen on the upgrade path: the ref field,
// then the confirmation.
func (m *Model) viewUpgrade() (string, string) {
	var b strings.Builder
	short := m.height < 20
	if !short {
		b.WriteString("\n")
	}
	b.WriteString(m.st.title.Render(" Upgrade the install in "+m.cfg.Answers.InstallDir) + "\n")
	if m.up == upRef {
		b.WriteString("\n" + trimForm(m.form.View()) + "\n")
		return b.String(), "enter next · esc back · ctrl+c quit"
	}
	para := func(s string) {
		for _, l := range wrap(s, m.width-2) {
			b.WriteString(" " + l + "\n")
		}
	}
	if !short {
		b.WriteString("\n")
	}
	para("Upgrade to " + m.upRef + " (now " + m.cfg.Answers.Source.Ref + "). A verified backup is taken first (a restore drill); " +
		"then the new version is built beside the running one, migrated and switched to, and rolled back if a step fails.")
	if m.cfg.DryRun {
		para("--dry-run: the upgrade only reports what it would do; nothing is written.")
	}
	b.WriteString("\n")
	for _, l := range wrapCommand("Runs: "+m.upgradeArgs(), m.width-2) {
		b.WriteString(" " + l + "\n") // split at spaces only: it can be copied
	}
	return b.String(), "enter upgrade · esc back · ctrl+c quit"
}

// trimForm drops the blank lines huh pads an embedded form's view with, so
// the lines under it stay free.
func trimForm(v string) string {
	ls := strings.Split(v, "\n")
	for len(ls) > 0 && strings.TrimSpace(ansi.Strip(ls[len(ls)-1])) == "" {
		ls = ls[:len(ls)-1]
	}
	return strings.Join(ls, "\n")
}

// askUpgrade is the Welcome choice as accessible prompts. done is true when
// the wizard ends here: the upgrade was chosen (Handoff) or not confirmed
// (Quit).
func (m *Model) askUpgrade(p *prompter, again func(string) bool) (done bool, err error) {
	fmt.Fprintln(p.out)
	if err := p.choose("What do you want to do with it?", []huh.Option[string]{
		huh.NewOption("Change settings and re-run the install", actionRerun),
		huh.NewOption("Upgrade this install to another Cal.com version", actionUpgrade)}, &m.action, nil); err != nil {
		return true, err
	}
	if m.action != actionUpgrade {
		return false, nil
	}
	if err := p.text(text{title: "Upgrade to ref (branch, tag or commit; now " + m.cfg.Answers.Source.Ref + ")", value: &m.upRef, valid: validRef}); err != nil {
		return true, err
	}
	fmt.Fprintln(p.out, "A verified backup is taken first (a restore drill); then the new version is built beside the running one, migrated and switched to, and rolled back if a step fails.")
	if m.cfg.DryRun {
		fmt.Fprintln(p.out, "--dry-run: the upgrade only reports what it would do; nothing is written.")
	}
	fmt.Fprintln(p.out, "Runs: "+m.upgradeArgs())
	if !again("Start the upgrade now?") {
		return true, nil
	}
	m.result.Outcome = Handoff
	m.result.Upgrade = &UpgradeHandoff{Ref: m.upRef, Dir: m.cfg.Answers.InstallDir}
	return true, nil
}
