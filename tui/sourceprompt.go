package tui

import (
	"fmt"
	"strconv"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/broker"
)

// defaultSegmentLen is the segment length a source added from the dashboard
// expects unless the operator says otherwise: LiveMix's, and lmx demo's.
const defaultSegmentLen = 2

// maxSegmentLen is the longest segment length the control node accepts.
const maxSegmentLen = 60

// The source prompt's fields, in the order tab visits them.
const (
	fieldName = iota
	fieldDescription
	fieldSegment
	sourceFields
)

// sourcePrompt asks for a new source: its name, a description and the
// segment length ffmpeg will push.
type sourcePrompt struct {
	fields [sourceFields]textField
	// field is the focused field.
	field int
	// err says why a field was refused, until the operator edits it;
	// errField is that field.
	err      string
	errField int
}

func newSourcePrompt() sourcePrompt {
	p := sourcePrompt{fields: [sourceFields]textField{
		fieldName:        newTextField("required", 64, 24),
		fieldDescription: newTextField("optional", 200, 40),
		fieldSegment:     newTextField(strconv.Itoa(defaultSegmentLen), 4, 4),
	}}
	p.fields[fieldSegment].SetValue(strconv.Itoa(defaultSegmentLen))
	p.focus(fieldName)
	return p
}

// Update handles one key: esc cancels, tab and the arrows move between the
// fields, enter submits from any field once every field is valid, else
// shows what is wrong and focuses that field.
func (p sourcePrompt) Update(msg tea.KeyMsg) (sourcePrompt, promptResult) {
	switch msg.String() {
	case "esc":
		return p, promptCancel
	case "tab", "down":
		p.focus((p.field + 1) % sourceFields)
		return p, promptOpen
	case "shift+tab", "up":
		p.focus((p.field + sourceFields - 1) % sourceFields)
		return p, promptOpen
	case "enter":
		if _, field, err := p.request(); err != nil {
			p.err, p.errField = err.Error(), field
			p.focus(field)
			return p, promptOpen
		}
		return p, promptSubmit
	}
	p.fields[p.field] = p.fields[p.field].Update(msg)
	if p.errField == p.field {
		p.err = ""
	}
	return p, promptOpen
}

func (p *sourcePrompt) focus(field int) {
	p.field = field
	for i := range p.fields {
		if i == field {
			p.fields[i].Focus()
		} else {
			p.fields[i].Blur()
		}
	}
}

// request is the source to create, or what is wrong and in which field.
// The name is checked with the control node's own rule, so a bad one is
// refused without asking it.
func (p sourcePrompt) request() (api.NewSource, int, error) {
	name := strings.TrimSpace(p.fields[fieldName].Value())
	if name == "" {
		return api.NewSource{}, fieldName, fmt.Errorf("name: required (the Video-Source-Name ffmpeg will push)")
	}
	if err := broker.ValidateName(name); err != nil {
		return api.NewSource{}, fieldName, fmt.Errorf("name: %s", nameProblem(err))
	}
	seg := defaultSegmentLen
	if s := strings.TrimSpace(p.fields[fieldSegment].Value()); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > maxSegmentLen {
			return api.NewSource{}, fieldSegment, fmt.Errorf("segment: %q is not a whole number of seconds from 0 to %d", s, maxSegmentLen)
		}
		seg = n
	}
	return api.NewSource{
		Name:        name,
		Description: strings.TrimSpace(p.fields[fieldDescription].Value()),
		SegmentLen:  seg,
	}, 0, nil
}

// nameProblem is what ValidateName says is wrong with a name, without the
// name itself, which the field shows right above.
func nameProblem(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, `": `); i >= 0 {
		return msg[i+3:]
	}
	return msg
}

// View draws the prompt as a box as wide as the screen allows (at most 78).
func (p sourcePrompt) View(width int, st styles) []string {
	w := min(width, 78)
	inner := max(w-4, 10) // border and padding
	row := func(i int, label, hint string) string {
		l := "  " + label
		if p.field == i {
			l = st.focused.Render("▸ " + label)
		}
		out := l + " " + p.fields[i].View(st)
		if hint != "" {
			out += " " + st.faint.Render(hint)
		}
		return out
	}
	bottom := st.faint.Render("enter add · tab next field · esc cancel")
	if p.err != "" {
		bottom = st.bad.Render(p.err)
	}
	lines := []string{
		st.bold.Render("Add a source") + st.faint.Render(" · ffmpeg pushes it with Video-Source-Name"),
		row(fieldName, "name       ", "letters, digits, - _ ."),
		row(fieldDescription, "description", ""),
		row(fieldSegment, "segment    ", fmt.Sprintf("seconds, 0–%d (ffmpeg's -hls_time)", maxSegmentLen)),
		bottom,
	}
	for i, l := range lines {
		lines[i] = ansi.Truncate(l, inner, "…")
	}
	box := st.box.Width(inner + 2).Render(lipgloss.JoinVertical(lipgloss.Left, lines...))
	return splitLines(box)
}

// height is how many lines View takes.
func (sourcePrompt) height() int { return 7 }
