package tui

import (
	"strings"
	"unicode"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// textField is a one-line text input: the prompts' fields and the filter.
// (bubbles/textinput would do, but it imports github.com/atotto/clipboard,
// which this module does not require.)
//
// Keys: letters insert; ←/→, home/end (ctrl+a/ctrl+e) move; backspace and
// delete erase; ctrl+u erases to the start, ctrl+k to the end, ctrl+w the
// word before the cursor. A paste arrives as runes and is inserted whole.
type textField struct {
	value       []rune
	pos         int
	focused     bool
	placeholder string
	limit       int
	// width is how many cells View shows; longer values scroll.
	width int
}

func newTextField(placeholder string, limit, width int) textField {
	return textField{placeholder: placeholder, limit: limit, width: width}
}

func (f textField) Value() string { return string(f.value) }

func (f *textField) SetValue(s string) {
	f.value = []rune(s)
	if f.limit > 0 && len(f.value) > f.limit {
		f.value = f.value[:f.limit]
	}
	f.pos = len(f.value)
}

func (f *textField) Focus() { f.focused = true }
func (f *textField) Blur()  { f.focused = false }

// Update applies one key.
func (f textField) Update(msg tea.KeyMsg) textField {
	switch msg.Type {
	case tea.KeyRunes, tea.KeySpace:
		ins := msg.Runes
		if msg.Type == tea.KeySpace {
			ins = []rune{' '}
		}
		ins = []rune(strings.Map(func(r rune) rune {
			if unicode.IsControl(r) {
				return -1
			}
			return r
		}, string(ins)))
		if f.limit > 0 {
			ins = ins[:min(len(ins), max(f.limit-len(f.value), 0))]
		}
		v := make([]rune, 0, len(f.value)+len(ins))
		v = append(append(append(v, f.value[:f.pos]...), ins...), f.value[f.pos:]...)
		f.value, f.pos = v, f.pos+len(ins)
	case tea.KeyBackspace:
		if f.pos > 0 {
			f.value = append(f.value[:f.pos-1:f.pos-1], f.value[f.pos:]...)
			f.pos--
		}
	case tea.KeyDelete:
		if f.pos < len(f.value) {
			f.value = append(f.value[:f.pos:f.pos], f.value[f.pos+1:]...)
		}
	case tea.KeyLeft:
		f.pos = max(f.pos-1, 0)
	case tea.KeyRight:
		f.pos = min(f.pos+1, len(f.value))
	case tea.KeyHome, tea.KeyCtrlA:
		f.pos = 0
	case tea.KeyEnd, tea.KeyCtrlE:
		f.pos = len(f.value)
	case tea.KeyCtrlU:
		f.value, f.pos = append([]rune(nil), f.value[f.pos:]...), 0
	case tea.KeyCtrlK:
		f.value = f.value[:f.pos:f.pos]
	case tea.KeyCtrlW:
		i := f.pos
		for i > 0 && f.value[i-1] == ' ' {
			i--
		}
		for i > 0 && f.value[i-1] != ' ' {
			i--
		}
		f.value, f.pos = append(f.value[:i:i], f.value[f.pos:]...), i
	}
	return f
}

// View draws the field in exactly width+1 cells (the last for the cursor
// after the text). The cursor is a reversed
// cell; without colours (where reverse does not show) it is "_" at the end
// and "|" before a character.
func (f textField) View(st styles) string {
	w := max(f.width, 1)
	ascii := st.r.ColorProfile() == asciiProfile
	if len(f.value) == 0 {
		out := st.faint.Render(f.placeholder)
		if f.focused {
			if ascii {
				out = "_" + out
			} else {
				out = st.sel.Render(" ") + out
			}
		}
		return fit(out, w+1, false)
	}
	// Scroll so the cursor stays in view.
	from := max(f.pos-w+1, 0)
	to := min(from+w, len(f.value))
	var b strings.Builder
	for i := from; i <= to && i <= len(f.value); i++ {
		atCursor := f.focused && i == f.pos
		if i == to {
			if atCursor {
				if ascii {
					b.WriteString("_")
				} else {
					b.WriteString(st.sel.Render(" "))
				}
			}
			break
		}
		ch := string(f.value[i])
		switch {
		case atCursor && ascii:
			b.WriteString("|" + ch)
		case atCursor:
			b.WriteString(st.sel.Render(ch))
		default:
			b.WriteString(ch)
		}
	}
	return fit(ansi.Truncate(b.String(), w+1, ""), w+1, false)
}
