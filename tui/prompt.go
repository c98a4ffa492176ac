package tui

import (
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/lmx-video/lmx/api"
)

// defaultSince is where a recording started from the dashboard begins
// unless the operator says otherwise: far enough back to catch what made
// them press r, well inside the edge's default 120 s buffer.
const defaultSince = "-30s"

// recordPrompt asks where a new recording starts and what to call it.
type recordPrompt struct {
	source api.Source
	since  textField
	alias  textField
	// field is the focused field: 0 since, 1 alias.
	field int
	// err says why since was refused, until the operator edits it.
	err string
}

// promptResult is what a key did to the prompt.
type promptResult int

const (
	promptOpen promptResult = iota
	promptCancel
	promptSubmit
)

func newRecordPrompt(src api.Source, st styles) recordPrompt {
	p := recordPrompt{
		source: src,
		since:  newTextField("now", 40, 24),
		alias:  newTextField("optional", 80, 24),
	}
	p.since.SetValue(defaultSince)
	p.since.Focus()
	return p
}

// Update handles one key: esc cancels, tab and the arrows move between the
// fields, enter moves on from since (once it parses) and submits from alias.
func (p recordPrompt) Update(msg tea.KeyMsg, now time.Time, loc *time.Location) (recordPrompt, promptResult) {
	switch msg.String() {
	case "esc":
		return p, promptCancel
	case "tab", "shift+tab", "up", "down":
		p.focus(1 - p.field)
		return p, promptOpen
	case "enter":
		if _, err := parseSince(p.since.Value(), now, loc); err != nil {
			p.err = err.Error()
			p.focus(0)
			return p, promptOpen
		}
		if p.field == 0 {
			p.focus(1)
			return p, promptOpen
		}
		return p, promptSubmit
	}
	if p.field == 0 {
		p.since = p.since.Update(msg)
		p.err = ""
	} else {
		p.alias = p.alias.Update(msg)
	}
	return p, promptOpen
}

func (p *recordPrompt) focus(field int) {
	p.field = field
	if field == 0 {
		p.alias.Blur()
		p.since.Focus()
	} else {
		p.since.Blur()
		p.alias.Focus()
	}
}

// request is the recording to ask for, and where it starts (zero: now).
func (p recordPrompt) request(now time.Time, loc *time.Location) (api.NewRecording, time.Time, error) {
	at, err := parseSince(p.since.Value(), now, loc)
	if err != nil {
		return api.NewRecording{}, time.Time{}, err
	}
	r := api.NewRecording{Alias: p.alias.Value()}
	if !at.IsZero() {
		r.StartTimeEpoch = at.Unix()
	}
	return r, at, nil
}

// View draws the prompt as a box as wide as the screen allows (at most 78).
func (p recordPrompt) View(width int, now time.Time, loc *time.Location, st styles) []string {
	w := min(width, 78)
	inner := max(w-4, 10) // border and padding
	label := func(i int, s string) string {
		if p.field == i {
			return st.focused.Render("▸ " + s)
		}
		return "  " + s
	}
	preview := ""
	if p.err != "" {
		preview = st.bad.Render(p.err)
	} else if at, err := parseSince(p.since.Value(), now, loc); err != nil {
		preview = st.faint.Render("-30s, 10m, RFC 3339, epoch, now")
	} else if at.IsZero() {
		preview = st.faint.Render("from now")
	} else {
		preview = st.faint.Render("from " + clock(at, now, loc) + " (" + age(at, now) + ")")
	}
	lines := []string{
		st.bold.Render("Start a recording of " + p.source.Name),
		label(0, "since ") + " " + p.since.View(st) + " " + preview,
		label(1, "alias ") + " " + p.alias.View(st),
		st.faint.Render("enter next/start · tab switch · esc cancel"),
	}
	for i, l := range lines {
		lines[i] = ansi.Truncate(l, inner, "…")
	}
	box := st.box.Width(inner + 2).Render(lipgloss.JoinVertical(lipgloss.Left, lines...))
	return splitLines(box)
}

// height is how many lines View takes.
func (recordPrompt) height() int { return 6 }
