package tui

import (
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
)

// keyMap is every key the dashboard answers outside a text field.
type keyMap struct {
	Quit      key.Binding
	Help      key.Binding
	NextPanel key.Binding
	PrevPanel key.Binding
	Panels    key.Binding
	Up        key.Binding
	Down      key.Binding
	PageUp    key.Binding
	PageDown  key.Binding
	Top       key.Binding
	Bottom    key.Binding
	Stream    key.Binding
	Add       key.Binding
	Record    key.Binding
	Stop      key.Binding
	Copy      key.Binding
	Filter    key.Binding
	Clear     key.Binding
	Refresh   key.Binding
}

func defaultKeys() keyMap {
	b := func(keys []string, k, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, desc))
	}
	return keyMap{
		Quit:      b([]string{"q", "ctrl+c"}, "q", "quit"),
		Help:      b([]string{"?"}, "?", "help"),
		NextPanel: b([]string{"tab"}, "tab", "panel"),
		PrevPanel: b([]string{"shift+tab"}, "shift+tab", "previous panel"),
		Panels:    b([]string{"1", "2", "3"}, "1/2/3", "edges/sources/recordings"),
		Up:        b([]string{"up", "k"}, "↑/k", "up"),
		Down:      b([]string{"down", "j"}, "↓/j", "down"),
		PageUp:    b([]string{"pgup", "ctrl+u"}, "pgup", "page up"),
		PageDown:  b([]string{"pgdown", "ctrl+d"}, "pgdn", "page down"),
		Top:       b([]string{"home", "g"}, "g/home", "first"),
		Bottom:    b([]string{"end", "G"}, "G/end", "last"),
		Stream:    b([]string{"s"}, "s", "stream on/off"),
		Add:       b([]string{"a"}, "a", "add source"),
		Record:    b([]string{"r"}, "r", "record"),
		Stop:      b([]string{"x"}, "x", "stop"),
		Copy:      b([]string{"c", "y"}, "c", "copy URL"),
		Filter:    b([]string{"/"}, "/", "filter"),
		Clear:     b([]string{"esc"}, "esc", "clear filter/message"),
		Refresh:   b([]string{"ctrl+r"}, "ctrl+r", "reload all"),
	}
}

// helpKeys adapts the key map to what the focused panel offers, so the
// footer only lists keys that do something there.
type helpKeys struct {
	k     keyMap
	focus panelID
}

var _ help.KeyMap = helpKeys{}

// ShortHelp is the footer: the focused panel's actions first, then ? and
// q, so a narrow screen (80 columns on Sources) cuts tab and / (listed
// under ?) rather than those two.
func (h helpKeys) ShortHelp() []key.Binding {
	var out []key.Binding
	switch h.focus {
	case panelSources:
		out = append(out, h.k.Stream, h.k.Record, h.k.Add, h.k.Copy)
	case panelRecordings:
		out = append(out, h.k.Stop, h.k.Record, h.k.Copy)
	}
	return append(out, h.k.Help, h.k.Quit, h.k.NextPanel, h.k.Filter)
}

// FullHelp is what ? shows, in columns.
func (h helpKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{h.k.Up, h.k.Down, h.k.PageUp, h.k.PageDown, h.k.Top, h.k.Bottom},
		{h.k.NextPanel, h.k.PrevPanel, h.k.Panels, h.k.Filter, h.k.Clear, h.k.Refresh},
		{h.k.Stream, h.k.Record, h.k.Stop, h.k.Add, h.k.Copy, h.k.Help, h.k.Quit},
	}
}

func newHelp(st styles) help.Model {
	h := help.New()
	h.ShortSeparator = " · "
	h.FullSeparator = "   "
	h.Styles = help.Styles{
		Ellipsis:       st.helpSep,
		ShortKey:       st.helpKey,
		ShortDesc:      st.helpDesc,
		ShortSeparator: st.helpSep,
		FullKey:        st.helpKey,
		FullDesc:       st.helpDesc,
		FullSeparator:  st.helpSep,
	}
	return h
}
