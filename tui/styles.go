package tui

import (
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// styles are every lipgloss style the dashboard draws with, all made by one
// renderer, so one colour profile decides for all of them: Ascii (NO_COLOR,
// --no-color, not a terminal) drops every colour and attribute.
//
// Nothing on screen depends on colour alone to be understood: the focused
// panel's title starts with "▶", the selected row with "›", levels in the
// status line with ✓ ! ✗, and states are words ("online", "starting"). The
// colours are the 16 ANSI ones, which follow the terminal's own theme, and
// never adaptive ones: those make lipgloss query the terminal's background,
// which a running program cannot afford.
type styles struct {
	r *lipgloss.Renderer

	bold    lipgloss.Style
	faint   lipgloss.Style
	good    lipgloss.Style // online, streaming, live
	bad     lipgloss.Style // offline, recording, errors
	warn    lipgloss.Style // pending, stale
	accent  lipgloss.Style // the focused title, the sparkline
	title   lipgloss.Style
	focused lipgloss.Style
	header  lipgloss.Style
	sel     lipgloss.Style // the selected row of the focused panel
	appName lipgloss.Style

	statusInfo  lipgloss.Style
	statusWarn  lipgloss.Style
	statusError lipgloss.Style

	helpKey  lipgloss.Style
	helpDesc lipgloss.Style
	helpSep  lipgloss.Style

	box lipgloss.Style // the prompts
}

// asciiProfile is the profile without colours or attributes. A renderer
// made for a terminal picks its profile from TERM, COLORTERM and NO_COLOR;
// Options.NoColor forces this one.
const asciiProfile = termenv.Ascii

func newStyles(r *lipgloss.Renderer) styles {
	c := func(s string) lipgloss.Color { return lipgloss.Color(s) }
	n := r.NewStyle
	return styles{
		r:       r,
		bold:    n().Bold(true),
		faint:   n().Foreground(c("8")),
		good:    n().Foreground(c("2")),
		bad:     n().Foreground(c("1")),
		warn:    n().Foreground(c("3")),
		accent:  n().Foreground(c("6")),
		title:   n().Bold(true),
		focused: n().Bold(true).Foreground(c("12")),
		header:  n().Foreground(c("8")).Bold(true),
		sel:     n().Reverse(true),
		appName: n().Bold(true).Foreground(c("12")),

		statusInfo:  n().Foreground(c("2")),
		statusWarn:  n().Foreground(c("3")),
		statusError: n().Foreground(c("9")).Bold(true),

		helpKey:  n().Foreground(c("7")).Bold(true),
		helpDesc: n().Foreground(c("8")),
		helpSep:  n().Foreground(c("8")),

		box: n().Border(lipgloss.RoundedBorder()).BorderForeground(c("12")).Padding(0, 1),
	}
}
