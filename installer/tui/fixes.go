package tui

import (
	"strings"

	tea "github.com/charmbracelet/bubbletea"
)

// fix is one action a failed live check offers on its own screen: the
// user does it with one key, without leaving the wizard, and the check
// runs again. The command-line flags the engine's messages name
// (--ignore-preflight, --ssh-key, --submodules) are these actions here.
type fix struct {
	key, label string
	do         func(m *Model) tea.Cmd
}

// fixes lists the actions for the check result on screen.
func (m *Model) fixes() []fix {
	if m.phase != phaseResult {
		return nil
	}
	var fs []fix
	switch m.screen {
	case screenSource:
		if m.checkOK {
			return nil
		}
		msg := strings.ToLower(m.checkMsg)
		i, j, what := 0, 0, "the repository URL"
		if strings.Contains(msg, "token") || strings.Contains(msg, "authentication") || strings.Contains(msg, "401") || strings.Contains(msg, "403") {
			i, j, what = 0, 3, "the git token"
			if m.v.TokenChoice == tokenTyped {
				i, j = 1, 0
			}
		}
		fs = append(fs, fix{"e", "edit " + what, func(m *Model) tea.Cmd { return m.editAt(i, j) }})
		if m.v.Submodules != "skip" {
			fs = append(fs, fix{"s", "switch submodules to skip (the public web app only) and check again", func(m *Model) tea.Cmd {
				m.v.Submodules = "skip"
				return m.submit()
			}})
		}
		if isSSHURL(m.v.SourceURL) {
			fs = append(fs, fix{"k", "choose an SSH key file and check again", func(m *Model) tea.Cmd {
				m.asking = askSSHKey
				m.saveInput.Prompt = "SSH key file: "
				m.saveInput.Placeholder = "/root/.ssh/id_ed25519"
				m.saveInput.SetValue(m.v.SSHKey)
				return m.saveInput.Focus()
			}})
		}
	case screenTarget:
		var blocking []string
		for _, f := range m.findings {
			if f.Blocking() {
				blocking = append(blocking, f.Check)
			}
		}
		if len(blocking) > 0 {
			fs = append(fs, fix{"i", "ignore " + strings.Join(uniqStrings(blocking), ", ") + " (as --ignore-preflight) and check again", func(m *Model) tea.Cmd {
				m.ignored = uniqStrings(append(m.ignored, blocking...))
				if m.cfg.Backend.IgnorePreflight != nil {
					m.cfg.Backend.IgnorePreflight(m.ignored)
				}
				return m.submit()
			}})
		}
		fs = append(fs, fix{"e", "edit the target", func(m *Model) tea.Cmd { return m.editAt(0, 0) }})
	case screenDatabase:
		if m.checkOK {
			return nil
		}
		msg := strings.ToLower(m.checkMsg)
		j, what := 0, "the database URL"
		if strings.Contains(msg, "ca file") || strings.Contains(msg, "ca bundle") || strings.Contains(msg, "certificate") || strings.Contains(msg, "tls") {
			j, what = 1, "the CA file"
		}
		fs = append(fs, fix{"e", "edit " + what, func(m *Model) tea.Cmd { return m.editAt(1, j) }})
		fs = append(fs, fix{"m", "choose another Postgres mode", func(m *Model) tea.Cmd { return m.editAt(0, 0) }})
	}
	return fs
}

// editAt goes back to the screen's form with field j of page i focused.
func (m *Model) editAt(i, j int) tea.Cmd {
	cmd := m.goTo(m.screen)
	return tea.Batch(cmd, m.focusField(i, j))
}

// Questions asked in a line on a check result.
const (
	askNothing = iota
	askSSHKey
)

// updateAsk handles the one-line question a fix asks (the SSH key file).
func (m *Model) updateAsk(msg tea.Msg) (tea.Model, tea.Cmd) {
	if k, ok := msg.(tea.KeyMsg); ok {
		switch k.String() {
		case "esc":
			m.asking = askNothing
			m.saveInput.Blur()
			return m, nil
		case "enter":
			v := strings.TrimSpace(m.saveInput.Value())
			m.asking = askNothing
			m.saveInput.Blur()
			if v == "" {
				return m, nil
			}
			m.v.SSHKey = v
			return m, m.submit()
		}
	}
	var cmd tea.Cmd
	m.saveInput, cmd = m.saveInput.Update(msg)
	return m, cmd
}

// viewFixes draws the actions under a check result.
func (m *Model) viewFixes() string {
	fs := m.fixes()
	if len(fs) == 0 && m.asking == askNothing {
		return ""
	}
	var b strings.Builder
	if m.height >= 20 {
		b.WriteString("\n")
	}
	b.WriteString(m.st.title.Render("  Fix it here") + "\n")
	for _, f := range fs {
		for i, l := range wrap(f.label, m.width-8) {
			p := "      "
			if i == 0 {
				p = "  " + f.key + "   "
			}
			b.WriteString(p + l + "\n")
		}
	}
	if m.asking == askSSHKey {
		b.WriteString("  " + m.saveInput.View() + "\n")
	}
	return b.String()
}

func isSSHURL(u string) bool {
	u = strings.TrimSpace(u)
	return strings.HasPrefix(u, "ssh://") || (strings.Contains(u, "@") && strings.Contains(u, ":") && !strings.Contains(u, "://"))
}

func uniqStrings(xs []string) []string {
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
