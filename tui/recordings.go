package tui

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/lmx-video/lmx/api"
)

// recordingsPanel is the Recordings panel: the active recordings, growing,
// then the most recently finished ones.
type recordingsPanel struct {
	list   cursorList
	all    []api.Recording // active first, newest first
	rows   []api.Recording // all, filtered
	loaded bool
	filter string
	loc    *time.Location
}

// maxFinished is how many finished recordings the panel keeps: it is a
// dashboard, lmx rec ls has the rest.
const maxFinished = 50

func newRecordingsPanel(loc *time.Location) recordingsPanel {
	return recordingsPanel{loc: loc}
}

var recordingColumns = []column{
	{title: "ID", width: 8},
	{title: "SOURCE", width: 10, grow: 1, maxWidth: 32},
	{title: "ALIAS", width: 10, grow: 2, maxWidth: 48},
	{title: "STATE", width: 5},
	{title: "STARTED", width: 8},
	{title: "ENDED", width: 8, minWidth: 120},
	{title: "LENGTH", width: 7, right: true},
	{title: "MEDIA", width: 7, right: true, minWidth: 120},
	{title: "SIZE", width: 9, right: true},
	{title: "SEGS", width: 4, right: true},
}

// Update takes fetched recordings and, when focused, the movement keys.
func (p recordingsPanel) Update(msg tea.Msg, km keyMap) (recordingsPanel, tea.Cmd) {
	switch msg := msg.(type) {
	case recordingsMsg:
		if msg.err == nil {
			p.all = sortedRecordings(msg.recordings)
			p.loaded = true
			p.refilter()
		}
	case tea.KeyMsg:
		p.list.navigate(km, msg, p.keys())
	}
	return p, nil
}

// upsert puts a recording the API just returned in place.
func (p *recordingsPanel) upsert(rec api.Recording) {
	if rec.ID == "" {
		return
	}
	all := slices.DeleteFunc(slices.Clone(p.all), func(r api.Recording) bool { return r.ID == rec.ID })
	p.all = sortedRecordings(append(all, rec))
	p.refilter()
}

// selectID moves the cursor to the recording id.
func (p *recordingsPanel) selectID(id string) {
	p.list.key = id
	p.list.sync(p.keys())
}

func (p *recordingsPanel) setFilter(f string) {
	p.filter = f
	p.refilter()
}

func (p *recordingsPanel) refilter() {
	p.rows = p.rows[:0:0]
	for _, r := range p.all {
		if matchFilter(p.filter, r.SourceName, r.Alias, r.ID, r.Description) {
			p.rows = append(p.rows, r)
		}
	}
	p.list.sync(p.keys())
}

func (p recordingsPanel) keys() []string {
	out := make([]string, len(p.rows))
	for i, r := range p.rows {
		out[i] = r.ID
	}
	return out
}

func (p recordingsPanel) wants() int { return max(len(p.rows), 1) }

// active counts the active recordings.
func (p recordingsPanel) active() int {
	n := 0
	for _, r := range p.all {
		if r.IsActive() {
			n++
		}
	}
	return n
}

// selected is the recording under the cursor.
func (p recordingsPanel) selected() (api.Recording, bool) {
	if p.list.cursor < len(p.rows) {
		return p.rows[p.list.cursor], true
	}
	return api.Recording{}, false
}

// View draws the panel in exactly height lines.
func (p recordingsPanel) View(width, height int, focused bool, now time.Time, st styles) []string {
	t := layoutTable(recordingColumns, width)
	count := ""
	switch {
	case !p.loaded:
	case p.filter != "":
		count = fmt.Sprintf("(%d of %d)", len(p.rows), len(p.all))
	default:
		count = fmt.Sprintf("(%d active, %d recent)", p.active(), len(p.all)-p.active())
	}
	title := titleLine(panelRecordings, "Recordings", count, focused, p.list, len(p.rows), width, st)
	rows := visibleRows(t, p.list, p.rows, focused, st, func(r api.Recording) map[string]cell { return p.cells(r, now, st) })
	return panelView(title, t, rows, p.empty(), height, width, st)
}

func (p recordingsPanel) empty() string {
	switch {
	case !p.loaded:
		return "loading…"
	case p.filter != "" && len(p.all) > 0:
		return fmt.Sprintf("no recording matches %q (esc clears the filter)", p.filter)
	default:
		return "no recordings yet: select a source and press r to start one"
	}
}

func (p recordingsPanel) cells(r api.Recording, now time.Time, st styles) map[string]cell {
	state := cell{text: "done", style: st.faint}
	if r.Pinned {
		// Kept whatever retention says (lmx rec pin).
		state = cell{text: "pin", style: st.faint}
	}
	length := elapsed(r.EndTS.Sub(r.StartTS))
	ended := cell{text: tableTime(r.EndTS, now, p.loc)}
	if r.IsActive() {
		state = cell{text: "● rec", style: st.bad}
		length = elapsed(now.Sub(r.StartTS))
		ended = cell{text: none, style: st.faint}
	}
	return map[string]cell{
		"ID":      cell{text: shortID(r.ID), style: st.faint},
		"SOURCE":  plain(cmp.Or(r.SourceName, shortID(r.Source))),
		"ALIAS":   dim(r.Alias, st),
		"STATE":   state,
		"STARTED": plain(tableTime(r.StartTS, now, p.loc)),
		"ENDED":   ended,
		"LENGTH":  plain(length),
		"MEDIA":   plain(elapsed(time.Duration(r.DurationSeconds * float64(time.Second)))),
		"SIZE":    plain(byteSize(r.Bytes)),
		"SEGS":    plain(strconv.Itoa(r.Segments)),
	}
}

// sortedRecordings puts the active recordings first (newest start first),
// then the finished ones, latest ended first, at most maxFinished of them.
func sortedRecordings(recs []api.Recording) []api.Recording {
	var active, done []api.Recording
	for _, r := range recs {
		if r.IsActive() {
			active = append(active, r)
		} else {
			done = append(done, r)
		}
	}
	slices.SortStableFunc(active, func(a, b api.Recording) int {
		return cmp.Or(b.StartTS.Compare(a.StartTS), cmp.Compare(a.ID, b.ID))
	})
	slices.SortStableFunc(done, func(a, b api.Recording) int {
		return cmp.Or(b.EndTS.Compare(a.EndTS), b.StartTS.Compare(a.StartTS), cmp.Compare(a.ID, b.ID))
	})
	if len(done) > maxFinished {
		done = done[:maxFinished]
	}
	return append(active, done...)
}

// recLabel names a recording in a sentence: `3f2a1b9c "door" of camera-0`.
func recLabel(r api.Recording) string {
	s := shortID(r.ID)
	if r.Alias != "" {
		s += fmt.Sprintf(" %q", r.Alias)
	}
	if src := cmp.Or(r.SourceName, r.Source); src != "" {
		s += " of " + src
	}
	return s
}
