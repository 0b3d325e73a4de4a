package tui

import (
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/huh"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// choice is a huh select that draws every one of its options, always.
//
// huh v1.0.0's Select scrolls its option list so that the chosen option is
// the first line drawn: when the default is the last option, only that one
// shows and blank lines follow (charmbracelet/huh#679; the fix, PR #823, is
// not released). choice keeps huh's keys, value binding, validation and
// accessible prompt, and replaces only the drawing: title, every option
// (wrapped to the width, never cut) and the error, top to bottom.
type choice struct {
	*huh.Select[string]
	title   string
	opts    []huh.Option[string]
	value   *string            // the bound value (the accessible prompt sets it)
	check   func(string) error // the validation, for the accessible prompt
	theme   *huh.Theme
	width   int
	focused bool
}

// newChoice returns a select field titled title over opts, bound to value.
func newChoice(title string, value *string, opts ...huh.Option[string]) *choice {
	return &choice{
		Select: huh.NewSelect[string]().Title(title).Value(value).Options(opts...),
		title:  title,
		opts:   opts,
		value:  value,
	}
}

// validate sets the field's validation.
func (c *choice) validate(fn func(string) error) *choice {
	c.Select.Validate(fn)
	c.check = fn
	return c
}

// Update implements huh.Field; it returns c, so the group keeps the wrapper.
func (c *choice) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if k, ok := msg.(tea.KeyMsg); ok && k.String() == "/" {
		return c, nil // no filtering: every option is on screen already
	}
	_, cmd := c.Select.Update(msg)
	return c, cmd
}

// Focus implements huh.Field.
func (c *choice) Focus() tea.Cmd { c.focused = true; return c.Select.Focus() }

// Blur implements huh.Field.
func (c *choice) Blur() tea.Cmd { c.focused = false; return c.Select.Blur() }

// WithTheme implements huh.Field.
func (c *choice) WithTheme(t *huh.Theme) huh.Field {
	if c.theme == nil {
		c.theme = t
	}
	c.Select.WithTheme(t)
	return c
}

// WithWidth implements huh.Field.
func (c *choice) WithWidth(w int) huh.Field { c.width = w; c.Select.WithWidth(w); return c }

// WithHeight implements huh.Field: choice is always as tall as its options.
func (c *choice) WithHeight(int) huh.Field { return c }

// WithKeyMap implements huh.Field.
func (c *choice) WithKeyMap(k *huh.KeyMap) huh.Field { c.Select.WithKeyMap(k); return c }

// WithAccessible implements huh.Field.
func (c *choice) WithAccessible(a bool) huh.Field {
	c.Select.WithAccessible(a) //nolint:staticcheck // the Field interface still has it
	return c
}

// WithPosition implements huh.Field.
func (c *choice) WithPosition(p huh.FieldPosition) huh.Field { c.Select.WithPosition(p); return c }

// View implements huh.Field: the title, then every option, then the error.
func (c *choice) View() string {
	t := c.theme
	if t == nil {
		t = huh.ThemeCharm()
	}
	st := &t.Blurred
	if c.focused {
		st = &t.Focused
	}
	inner := c.width - st.Base.GetHorizontalFrameSize()
	if inner < 10 {
		inner = 10
	}
	var b strings.Builder
	title := st.Title.Render(ansi.Wordwrap(c.title, inner, ""))
	if c.Error() != nil {
		title += st.ErrorIndicator.String()
	}
	b.WriteString(title)
	cur, _ := c.Hovered()
	cursor := st.SelectSelector.String()
	cw := lipgloss.Width(cursor)
	for _, o := range c.opts {
		lines := strings.Split(ansi.Wordwrap(o.Key, max(inner-cw, 5), ""), "\n")
		for i, l := range lines {
			pad := strings.Repeat(" ", cw)
			if i == 0 && o.Value == cur {
				pad = cursor
			}
			if o.Value == cur {
				l = st.SelectedOption.Render(l)
			} else {
				l = st.UnselectedOption.Render(l)
			}
			b.WriteString("\n" + pad + l)
		}
	}
	if err := c.Error(); err != nil {
		b.WriteString("\n" + st.ErrorMessage.Render(ansi.Wordwrap(err.Error(), inner, "")))
	}
	return st.Base.Width(c.width).Render(b.String())
}
