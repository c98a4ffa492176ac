package tui

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/broker"
)

// edgesPanel is the Edges panel: every edge agent the control node knows,
// online or not, with its last heartbeat.
type edgesPanel struct {
	list   cursorList
	all    []api.Edge // sorted by name
	rows   []api.Edge // all, filtered
	loaded bool
	filter string
	// every is each edge's heartbeat period, from its status, to tell a
	// late heartbeat from a normal one.
	every map[string]time.Duration
}

func newEdgesPanel() edgesPanel { return edgesPanel{every: map[string]time.Duration{}} }

var edgeColumns = []column{
	{title: "NAME", width: 12, grow: 2, maxWidth: 32},
	{title: "STATE", width: 11},
	{title: "VERSION", width: 8, grow: 1, maxWidth: 20},
	{title: "ADDRESS", width: 15, grow: 1, maxWidth: 28},
	{title: "SRC", width: 3, right: true},
	{title: "STREAMING", width: 9, right: true, minWidth: 120},
	{title: "DROPPED", width: 7, right: true, minWidth: 120},
	{title: "HEARTBEAT", width: 9, right: true},
}

// Update takes fetched edges, live statuses and, when focused, the
// movement keys.
func (p edgesPanel) Update(msg tea.Msg, km keyMap) (edgesPanel, tea.Cmd) {
	switch msg := msg.(type) {
	case edgesMsg:
		if msg.err == nil {
			p.all = sortedEdges(msg.edges)
			p.loaded = true
			p.refilter()
		}
	case edgeStatusMsg:
		p.apply(msg)
	case tea.KeyMsg:
		p.list.navigate(km, msg, p.keys())
	}
	return p, nil
}

// apply updates an edge from its status as it arrives, without a refetch.
func (p *edgesPanel) apply(msg edgeStatusMsg) {
	st := msg.status
	if st.Edge == "" {
		return
	}
	if st.HeartbeatEvery > 0 {
		p.every[st.Edge] = time.Duration(st.HeartbeatEvery)
	}
	i := slices.IndexFunc(p.all, func(e api.Edge) bool { return e.Name == st.Edge })
	var e api.Edge
	if i >= 0 {
		e = p.all[i]
	}
	e.Name, e.Online, e.LastSeen = st.Edge, st.Online, msg.at
	if st.Version != "" {
		e.Version = st.Version
	}
	if st.IngestAddr != "" {
		e.IngestAddr = st.IngestAddr
	}
	if !st.StartedAt.IsZero() {
		e.StartedAt = st.StartedAt
	}
	if e.FirstSeen.IsZero() {
		e.FirstSeen = msg.at
	}
	e.Sources = e.Sources[:0:0]
	for _, s := range st.Sources {
		e.Sources = append(e.Sources, api.EdgeSource{
			Name: s.Name, Streaming: s.Streaming, LastSegmentAt: s.LastSegmentAt, BitrateBPS: s.BitrateBPS,
			BufferedSeconds: s.BufferedSeconds, BufferedBytes: s.BufferedBytes, Uploaded: s.Uploaded, Dropped: s.Dropped,
		})
	}
	if i >= 0 {
		p.all[i] = e
	} else {
		p.all = sortedEdges(append(p.all, e))
	}
	p.refilter()
}

func (p *edgesPanel) setFilter(f string) {
	p.filter = f
	p.refilter()
}

func (p *edgesPanel) refilter() {
	p.rows = p.rows[:0:0]
	for _, e := range p.all {
		names := []string{e.Name, e.IngestAddr}
		for _, s := range e.Sources {
			names = append(names, s.Name)
		}
		if matchFilter(p.filter, names...) {
			p.rows = append(p.rows, e)
		}
	}
	p.list.sync(p.keys())
}

func (p edgesPanel) keys() []string {
	out := make([]string, len(p.rows))
	for i, e := range p.rows {
		out[i] = e.Name
	}
	return out
}

// wants is how many data rows the panel would like.
func (p edgesPanel) wants() int { return max(len(p.rows), 1) }

// View draws the panel in exactly height lines.
func (p edgesPanel) View(width, height int, focused bool, now time.Time, st styles) []string {
	t := layoutTable(edgeColumns, width)
	count := ""
	switch {
	case !p.loaded:
	case p.filter != "":
		count = fmt.Sprintf("(%d of %d)", len(p.rows), len(p.all))
	default:
		online := 0
		for _, e := range p.all {
			if e.Online {
				online++
			}
		}
		count = fmt.Sprintf("(%d, %d online)", len(p.all), online)
	}
	title := titleLine(panelEdges, "Edges", count, focused, p.list, len(p.rows), width, st)
	rows := visibleRows(t, p.list, p.rows, focused, st, func(r api.Edge) map[string]cell { return p.cells(r, now, st) })
	return panelView(title, t, rows, p.empty(), height, width, st)
}

func (p edgesPanel) empty() string {
	switch {
	case !p.loaded:
		return "loading…"
	case p.filter != "" && len(p.all) > 0:
		return fmt.Sprintf("no edge matches %q (esc clears the filter)", p.filter)
	default:
		return "no edges yet: start one with lmx edged --name NAME --controld HOST"
	}
}

func (p edgesPanel) cells(e api.Edge, now time.Time, st styles) map[string]cell {
	streaming, dropped := 0, uint64(0)
	for _, s := range e.Sources {
		if s.Streaming {
			streaming++
		}
		dropped += s.Dropped
	}
	state := cell{text: edgeState(e, now), style: st.good}
	if !e.Online {
		state.style = st.bad
	}
	hb := cell{text: age(e.LastSeen, now)}
	every := p.every[e.Name]
	if every <= 0 {
		every = 5 * time.Second
	}
	switch {
	case e.LastSeen.IsZero():
		hb.style = st.faint
	case !e.Online:
		hb.style = st.faint
	case now.Sub(e.LastSeen) > 3*every:
		hb.style = st.warn
	}
	drop := cell{text: strconv.FormatUint(dropped, 10), style: st.faint}
	if dropped > 0 {
		drop.style = st.warn
	}
	return map[string]cell{
		"NAME":      plain(e.Name),
		"STATE":     state,
		"VERSION":   dim(e.Version, st),
		"ADDRESS":   dim(e.IngestAddr, st),
		"SRC":       plain(strconv.Itoa(len(e.Sources))),
		"STREAMING": plain(strconv.Itoa(streaming)),
		"DROPPED":   drop,
		"HEARTBEAT": hb,
	}
}

// selected is the edge under the cursor.
func (p edgesPanel) selected() (api.Edge, bool) {
	if p.list.cursor < len(p.rows) {
		return p.rows[p.list.cursor], true
	}
	return api.Edge{}, false
}

func sortedEdges(edges []api.Edge) []api.Edge {
	edges = slices.Clone(edges)
	slices.SortFunc(edges, func(a, b api.Edge) int { return strings.Compare(a.Name, b.Name) })
	return edges
}

// dim is s, or a faint "-" when s is empty.
func dim(s string, st styles) cell {
	if strings.TrimSpace(s) == "" {
		return cell{text: none, style: st.faint}
	}
	return plain(s)
}

// matchFilter reports whether any of names contains f, ignoring case.
func matchFilter(f string, names ...string) bool {
	if f == "" {
		return true
	}
	f = strings.ToLower(f)
	for _, n := range names {
		if strings.Contains(strings.ToLower(n), f) {
			return true
		}
	}
	return false
}

// edgeStatusFor is the status an edge reports for source, if any.
func edgeStatusFor(st broker.EdgeStatus, source string) (broker.SourceStatus, bool) {
	for _, s := range st.Sources {
		if s.Name == source {
			return s, true
		}
	}
	return broker.SourceStatus{}, false
}
