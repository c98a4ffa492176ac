package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// What the three panels share: a selection that survives refetches, and a
// table drawn to an exact width and height.

// cursorList is a panel's selection and scroll position. It remembers the
// selected row by key (an id or a name), so a refetch that reorders or adds
// rows leaves the operator on the same thing.
type cursorList struct {
	cursor int
	offset int
	key    string
	// rows is how many data rows the panel showed last layout.
	rows int
}

// sync puts the cursor back on key after the rows changed.
func (c *cursorList) sync(keys []string) {
	if c.key != "" {
		for i, k := range keys {
			if k == c.key {
				c.cursor = i
				c.scroll()
				return
			}
		}
	}
	c.cursor = min(max(c.cursor, 0), max(len(keys)-1, 0))
	c.key = ""
	if len(keys) > 0 {
		c.key = keys[c.cursor]
	}
	c.scroll()
}

// move moves the cursor by delta rows, clamped.
func (c *cursorList) move(delta int, keys []string) {
	if len(keys) == 0 {
		return
	}
	c.cursor = min(max(c.cursor+delta, 0), len(keys)-1)
	c.key = keys[c.cursor]
	c.scroll()
}

// setRows records how many rows are visible and keeps the cursor in view.
func (c *cursorList) setRows(n int) {
	c.rows = n
	c.scroll()
}

func (c *cursorList) scroll() {
	n := max(c.rows, 1)
	if c.cursor < c.offset {
		c.offset = c.cursor
	}
	if c.cursor >= c.offset+n {
		c.offset = c.cursor - n + 1
	}
	c.offset = max(c.offset, 0)
}

// navigate handles the movement keys; it reports whether k was one.
func (c *cursorList) navigate(km keyMap, k tea.KeyMsg, keys []string) bool {
	page := max(c.rows-1, 1)
	switch {
	case key.Matches(k, km.Up):
		c.move(-1, keys)
	case key.Matches(k, km.Down):
		c.move(1, keys)
	case key.Matches(k, km.PageUp):
		c.move(-page, keys)
	case key.Matches(k, km.PageDown):
		c.move(page, keys)
	case key.Matches(k, km.Top):
		c.move(-len(keys), keys)
	case key.Matches(k, km.Bottom):
		c.move(len(keys), keys)
	default:
		return false
	}
	return true
}

// column is one column of a panel's table.
type column struct {
	title string
	// width is the column's width at 80 columns.
	width int
	// grow is the column's share of the room a wider terminal gives.
	grow int
	// right aligns the column to the right (numbers).
	right bool
	// minWidth is the terminal width from which the column is shown at
	// all (0: always).
	minWidth int
	// maxWidth caps how wide growing makes it (0: no cap).
	maxWidth int
}

// cell is one table cell: plain text and the style it is drawn with. Text
// stays plain so the selected row can be drawn in one style, whole.
type cell struct {
	text  string
	style lipgloss.Style
}

func plain(s string) cell { return cell{text: s} }

// table is a panel's table, laid out for one width.
type table struct {
	cols   []column
	widths []int
	gap    string
}

// markerWidth is the room of the selection mark ("› ") left of each row.
const markerWidth = 2

// layoutTable picks the columns that fit width and shares the spare room
// among the growing ones.
func layoutTable(cols []column, width int) table {
	t := table{gap: " "}
	if width >= 120 {
		t.gap = "  "
	}
	for _, c := range cols {
		if c.minWidth <= width {
			t.cols = append(t.cols, c)
		}
	}
	used := markerWidth
	grow := 0
	for i, c := range t.cols {
		used += c.width
		if i > 0 {
			used += len(t.gap)
		}
		grow += c.grow
	}
	t.widths = make([]int, len(t.cols))
	for i, c := range t.cols {
		t.widths[i] = c.width
	}
	// Share the spare room by weight among the columns that may still
	// grow; a column that reaches its cap hands the rest to the others.
	// What nobody takes stays at the end of the line.
	spare := max(width-used, 0)
	for spare > 0 {
		weight := 0
		for i, c := range t.cols {
			if c.grow > 0 && (c.maxWidth == 0 || t.widths[i] < c.maxWidth) {
				weight += c.grow
			}
		}
		if weight == 0 {
			break
		}
		given := 0
		for i, c := range t.cols {
			if c.grow == 0 || (c.maxWidth > 0 && t.widths[i] >= c.maxWidth) {
				continue
			}
			extra := max(spare*c.grow/weight, 1)
			extra = min(extra, spare-given)
			if c.maxWidth > 0 {
				extra = min(extra, c.maxWidth-t.widths[i])
			}
			t.widths[i] += extra
			given += extra
			if given == spare {
				break
			}
		}
		spare -= given
	}
	return t
}

// width is the width of column title, 0 when not shown.
func (t table) width(title string) int {
	for i, c := range t.cols {
		if c.title == title {
			return t.widths[i]
		}
	}
	return 0
}

// header is the column titles.
func (t table) header(st styles) string {
	parts := make([]string, len(t.cols))
	for i, c := range t.cols {
		parts[i] = fit(c.title, t.widths[i], c.right)
	}
	return strings.Repeat(" ", markerWidth) + st.header.Render(strings.Join(parts, t.gap))
}

// row draws one row. byTitle maps column titles to cells; a column without
// a cell shows "-". The selected row of the focused panel is drawn whole in
// the selection style, marked "›" so it shows without colour too.
func (t table) row(byTitle map[string]cell, selected, focused bool, st styles) string {
	parts := make([]string, len(t.cols))
	for i, c := range t.cols {
		cl, ok := byTitle[c.title]
		if !ok {
			cl = plain(none)
		}
		text := fit(cl.text, t.widths[i], c.right)
		if !(selected && focused) {
			text = cl.style.Render(text)
		}
		parts[i] = text
	}
	line := strings.Join(parts, t.gap)
	switch {
	case selected && focused:
		return "› " + st.sel.Render(line)
	default:
		return "  " + line
	}
}

// fit truncates s to w cells ("…" marks the cut) and pads it to exactly w.
func fit(s string, w int, right bool) string {
	if w <= 0 {
		return ""
	}
	if ansi.StringWidth(s) > w {
		s = ansi.Truncate(s, w, "…")
	}
	pad := strings.Repeat(" ", max(w-ansi.StringWidth(s), 0))
	if right {
		return pad + s
	}
	return s + pad
}

// panelID names the three panels, in screen order.
type panelID int

const (
	panelEdges panelID = iota
	panelSources
	panelRecordings
	panelCount
)

// titleLine is a panel's first line: "▶ [2] Sources (3)" when focused,
// then a rule, and on the right where the view is in a long list.
func titleLine(id panelID, name, count string, focused bool, c cursorList, total, width int, st styles) string {
	mark, style := "  ", st.title
	if focused {
		mark, style = "▶ ", st.focused
	}
	left := fmt.Sprintf("%s[%d] %s", mark, id+1, name)
	if count != "" {
		left += " " + count
	}
	right := ""
	if total > c.rows && c.rows > 0 {
		right = fmt.Sprintf(" %d–%d of %d", c.offset+1, min(c.offset+c.rows, total), total)
	}
	rule := width - ansi.StringWidth(left) - ansi.StringWidth(right) - 1
	if rule < 1 {
		return ansi.Truncate(style.Render(left), width, "…")
	}
	return style.Render(left) + " " + st.faint.Render(strings.Repeat("─", rule)+right)
}

// panelView assembles a panel: title, column header, rows (or a message
// when there are none), padded to exactly height lines.
func panelView(title string, t table, rows []string, empty string, height, width int, st styles) []string {
	if height <= 0 {
		return nil
	}
	lines := []string{title}
	if height > 1 {
		if len(rows) == 0 {
			lines = append(lines, "  "+st.faint.Render(ansi.Truncate(empty, max(width-2, 1), "…")))
		} else {
			lines = append(lines, t.header(st))
			lines = append(lines, rows...)
		}
	}
	for len(lines) < height {
		lines = append(lines, "")
	}
	return lines[:height]
}

// visible is the slice of n rows the cursor's scroll position shows.
func visible(c cursorList, n int) (from, to int) {
	from = min(c.offset, n)
	to = min(from+max(c.rows, 0), n)
	return from, to
}

// visibleRows draws the rows of items the cursor's window shows, marking the
// selected one; cells turns an item into its cells.
func visibleRows[T any](t table, c cursorList, items []T, focused bool, st styles, cells func(T) map[string]cell) []string {
	from, to := visible(c, len(items))
	rows := make([]string, 0, to-from)
	for i := from; i < to; i++ {
		rows = append(rows, t.row(cells(items[i]), i == c.cursor, focused, st))
	}
	return rows
}
