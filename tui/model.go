// Package tui is lmx's operator dashboard (lmx tui): edges, sources and
// recordings, live, with the few actions an operator takes from the
// keyboard.
//
// How it stays live: it follows the control node's server-sent event stream
// (GET /v1/events), which relays everything published on lmx/v1/events plus
// every edge status. There is no polling loop:
//
//   - An event refetches only the lists it affects (source.* → sources,
//     recording.* → recordings and sources, edge.online/offline → edges and
//     sources), debounced so a burst costs one request per list.
//   - An edge.status (each heartbeat, every 2–5 s per edge) updates that
//     edge and its sources in place: online, bitrate and its sparkline,
//     whether the edge streams, the newest segment. What only the control
//     node knows (viewers, recording sizes) is refetched on a heartbeat at
//     most every slowRefresh, and only while it can change: a source
//     streams, or a recording is active.
//   - A local one-second tick only redraws ages and elapsed times.
//   - When the stream breaks (the control node restarts) the header says
//     "reconnecting" and the follower retries with a backoff from 0.5 s to
//     5 s; the first frame of a new stream ("hello") refetches everything,
//     since events were missed meanwhile.
//
// All I/O goes through tea.Cmds over Client, which *api.Client satisfies.
package tui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/broker"
)

// Options configure the dashboard. The zero value works against a real
// terminal on stdout.
type Options struct {
	// Server is the control node's address, shown in the header and in
	// messages.
	Server string
	// Now is the clock (default time.Now); tests freeze it.
	Now func() time.Time
	// Location is where times are shown (default time.Local).
	Location *time.Location
	// NoColor draws without colour or attributes (NO_COLOR, --no-color).
	NoColor bool
	// Output is the terminal: its colour support is detected from it, and
	// the OSC 52 clipboard escape is written to it (default os.Stdout).
	Output io.Writer
	// Renderer, when set, replaces the one made for Output; tests use it to
	// force a colour profile.
	Renderer *lipgloss.Renderer
	// Context bounds the event stream and every request (default
	// context.Background()); quitting cancels it.
	Context context.Context
	// Debounce is how long events are collected before the lists they
	// affect are refetched (default 150ms; negative: refetch at once).
	Debounce time.Duration
	// MinBackoff and MaxBackoff bound the wait between reconnection
	// attempts (default 500ms and 5s).
	MinBackoff, MaxBackoff time.Duration
}

// slowRefresh is how often heartbeats may refetch what only the control
// node knows (viewers, recording sizes).
const slowRefresh = 5 * time.Second

// noticeHold is how long an action's confirmation or an error stays in the
// status line before an event's notice may replace it.
const noticeHold = 5 * time.Second

// refresh is a set of lists to refetch.
type refresh uint8

const (
	refreshEdges refresh = 1 << iota
	refreshSources
	refreshRecordings
	refreshAll = refreshEdges | refreshSources | refreshRecordings
)

// Model is the dashboard: three panels, the header, a status line and a
// footer of keys, plus the record prompt, the source prompt and the filter
// field when open.
type Model struct {
	client Client
	server string
	now    func() time.Time
	loc    *time.Location
	out    io.Writer
	ctx    context.Context
	cancel context.CancelFunc
	events chan tea.Msg
	wait   time.Duration
	boff   backoff

	st   styles
	keys keyMap
	help help.Model

	width, height int
	focus         panelID
	edges         edgesPanel
	sources       sourcesPanel
	recs          recordingsPanel
	heights       [panelCount]int

	conn          connState
	everLive      bool
	serverVersion string

	status status

	filter    textField
	filtering bool

	prompt    recordPrompt
	prompting bool

	addPrompt sourcePrompt
	adding    bool

	pending  refresh
	armed    bool
	seq      uint64
	applied  [panelCount]uint64
	lastSlow time.Time
	// awaiting holds the streaming state asked for per source name, until
	// its edge confirms it.
	awaiting map[string]bool
}

// statusLevel orders what the status line says.
type statusLevel int

const (
	levelInfo statusLevel = iota
	levelNotice
	levelWarn
	levelError
)

// status is the status line: the last thing worth saying.
type status struct {
	level statusLevel
	text  string
	at    time.Time
	// notice marks text from an event rather than from the operator's
	// action; conn marks the stream's own state.
	notice, conn bool
}

// New makes the dashboard over client.
func New(client Client, opts Options) Model {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Location == nil {
		opts.Location = time.Local
	}
	if opts.Output == nil {
		opts.Output = os.Stdout
	}
	if opts.Context == nil {
		opts.Context = context.Background()
	}
	if opts.Debounce == 0 {
		opts.Debounce = 150 * time.Millisecond
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = 500 * time.Millisecond
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 5 * time.Second
	}
	r := opts.Renderer
	if r == nil {
		r = lipgloss.NewRenderer(opts.Output)
	}
	if opts.NoColor {
		r.SetColorProfile(asciiProfile)
	}
	st := newStyles(r)
	ctx, cancel := context.WithCancel(opts.Context)

	return Model{
		client:   client,
		server:   opts.Server,
		now:      opts.Now,
		loc:      opts.Location,
		out:      opts.Output,
		ctx:      ctx,
		cancel:   cancel,
		events:   make(chan tea.Msg, 64),
		wait:     opts.Debounce,
		boff:     backoff{min: opts.MinBackoff, max: opts.MaxBackoff},
		st:       st,
		keys:     defaultKeys(),
		help:     newHelp(st),
		focus:    panelSources,
		edges:    newEdgesPanel(),
		sources:  newSourcesPanel(),
		recs:     newRecordingsPanel(opts.Location),
		filter:   newTextField("name", 64, 30),
		awaiting: map[string]bool{},
	}
}

// Init starts the event follower, the first fetches and the redraw tick.
func (m Model) Init() tea.Cmd {
	return tea.Batch(
		follow(m.ctx, m.client, m.events, m.boff),
		next(m.ctx, m.events),
		fetchEdges(m.ctx, m.client, 0),
		fetchSources(m.ctx, m.client, 0),
		fetchRecordings(m.ctx, m.client, 0),
		tick(),
	)
}

// Update routes a message: keys to the prompt, the filter field or the
// focused panel; data to the panels; results to the status line.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.help.Width = msg.Width
	case tea.KeyMsg:
		cmd = m.key(msg)
	case streamMsg:
		cmd = tea.Batch(m.stream(msg.msg), next(m.ctx, m.events))
	case connMsg, eventMsg:
		cmd = m.stream(msg)
	case flushMsg:
		m.armed = false
		cmd = m.flush()
	case tickMsg:
		cmd = tick()
	case edgesMsg:
		if m.fresh(panelEdges, msg.seq, msg.err, "list the edges") {
			m.edges, _ = m.edges.Update(msg, m.keys)
		}
	case sourcesMsg:
		if m.fresh(panelSources, msg.seq, msg.err, "list the sources") {
			m.sources, _ = m.sources.Update(msg, m.keys)
			m.confirmStreaming()
		}
	case recordingsMsg:
		if m.fresh(panelRecordings, msg.seq, msg.err, "list the recordings") {
			m.recs, _ = m.recs.Update(msg, m.keys)
		}
	case streamingSetMsg:
		m.streamingSet(msg)
	case sourceCreatedMsg:
		cmd = m.sourceCreated(msg)
	case recordingStartedMsg:
		cmd = m.recordingStarted(msg)
	case recordingStoppedMsg:
		cmd = m.recordingStopped(msg)
	case copiedMsg:
		m.copied(msg)
	}
	m.relayout()
	return m, cmd
}

// fresh reports whether a fetch's answer should be shown: not older than
// one shown already, and not an error (which goes to the status line,
// unless it only repeats that the control node is gone while the header
// already says "reconnecting").
func (m *Model) fresh(p panelID, seq uint64, err error, what string) bool {
	if seq < m.applied[p] {
		return false
	}
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return false
		}
		if m.conn == connReconnecting && errors.Is(err, api.ErrUnreachable) {
			return false
		}
		m.say(levelError, "could not "+what+": "+m.plain(err))
		return false
	}
	m.applied[p] = seq
	return true
}

// quit stops the follower and ends the program; bubbletea then restores
// the terminal (alternate screen, cursor, raw mode).
func (m *Model) quit() tea.Cmd {
	m.cancel()
	return tea.Quit
}

// key handles one key press.
func (m *Model) key(msg tea.KeyMsg) tea.Cmd {
	if msg.String() == "ctrl+c" {
		return m.quit()
	}
	// Keys typed ahead (a slow link, tmux send-keys) can arrive in one read,
	// which bubbletea delivers as one key press of several runes; no binding
	// matches that, so take them one by one, each seeing the state the one
	// before left (a prompt opened by r gets the rest).
	if msg.Type == tea.KeyRunes && len(msg.Runes) > 1 && !msg.Paste && !m.prompting && !m.adding && !m.filtering {
		var cmds []tea.Cmd
		for _, r := range msg.Runes {
			cmds = append(cmds, m.key(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}}))
		}
		return tea.Batch(cmds...)
	}
	if m.prompting {
		return m.promptKey(msg)
	}
	if m.adding {
		return m.addKey(msg)
	}
	if m.filtering {
		return m.filterKey(msg)
	}
	k := m.keys
	switch {
	case key.Matches(msg, k.Quit):
		return m.quit()
	case key.Matches(msg, k.Help):
		m.help.ShowAll = !m.help.ShowAll
	case key.Matches(msg, k.NextPanel):
		m.focus = (m.focus + 1) % panelCount
	case key.Matches(msg, k.PrevPanel):
		m.focus = (m.focus + panelCount - 1) % panelCount
	case key.Matches(msg, k.Panels):
		m.focus = panelID(msg.String()[0] - '1')
	case key.Matches(msg, k.Filter):
		m.filtering = true
		m.filter.SetValue(m.edges.filter)
		m.filter.Focus()
	case key.Matches(msg, k.Clear):
		if m.edges.filter != "" {
			m.setFilter("")
		} else {
			m.status = status{}
		}
	case key.Matches(msg, k.Refresh):
		m.say(levelInfo, "reloading everything from "+m.server)
		m.pending = refreshAll
		return m.flush()
	case key.Matches(msg, k.Stream):
		return m.toggleStreaming()
	case key.Matches(msg, k.Add):
		m.openAddPrompt()
	case key.Matches(msg, k.Record):
		m.openPrompt()
	case key.Matches(msg, k.Stop):
		return m.stopSelected()
	case key.Matches(msg, k.Copy):
		return m.copySelected()
	default:
		switch m.focus {
		case panelEdges:
			m.edges, _ = m.edges.Update(msg, m.keys)
		case panelSources:
			m.sources, _ = m.sources.Update(msg, m.keys)
		case panelRecordings:
			m.recs, _ = m.recs.Update(msg, m.keys)
		}
	}
	return nil
}

func (m *Model) filterKey(msg tea.KeyMsg) tea.Cmd {
	switch msg.String() {
	case "enter":
		m.filtering = false
		m.filter.Blur()
		return nil
	case "esc":
		m.filtering = false
		m.filter.Blur()
		m.setFilter("")
		return nil
	}
	m.filter = m.filter.Update(msg)
	m.setFilter(strings.TrimSpace(m.filter.Value()))
	return nil
}

// setFilter narrows all three panels to names containing f.
func (m *Model) setFilter(f string) {
	m.edges.setFilter(f)
	m.sources.setFilter(f)
	m.recs.setFilter(f)
}

// stream handles a message from the event follower.
func (m *Model) stream(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case connMsg:
		switch msg.state {
		case connLive:
			back := m.everLive
			m.conn, m.everLive = connLive, true
			if m.status.conn {
				m.status = status{}
			}
			if back {
				m.say(levelInfo, "reconnected to "+m.server+"; reloading everything")
			}
		case connReconnecting:
			m.conn = connReconnecting
			text := fmt.Sprintf("lost the control node at %s: %s; trying again in %s", m.server, m.plain(msg.err), msg.retryIn)
			if errors.Is(msg.err, api.ErrUnauthorized) || errors.Is(msg.err, api.ErrForbidden) {
				// It answers, but not to this token: quitting to pass
				// another is the way out, not waiting.
				text = fmt.Sprintf("the control node at %s refused its event stream: %s; trying again in %s", m.server, m.plain(msg.err), msg.retryIn)
			}
			m.status = status{level: levelError, conn: true, at: m.now(), text: text}
		}
	case eventMsg:
		return m.event(msg.ev)
	}
	return nil
}

// event handles one server-sent event: an edge's status is applied in
// place; anything else refetches the lists it affects.
func (m *Model) event(ev api.StreamEvent) tea.Cmd {
	if ev.Kind == "edge.status" {
		var st broker.EdgeStatus
		if err := json.Unmarshal(ev.Data, &st); err != nil || st.Edge == "" {
			return nil
		}
		return m.edgeStatus(edgeStatusMsg{status: st, at: m.now()})
	}
	var p api.EventPayload
	_ = json.Unmarshal(ev.Data, &p)
	switch ev.Kind {
	case "hello":
		var h struct {
			Version string `json:"version"`
		}
		if json.Unmarshal(ev.Data, &h) == nil {
			m.serverVersion = h.Version
		}
		return m.want(refreshAll)
	case broker.EventEdgeOnline:
		m.notice(levelNotice, "edge "+p.Edge+" is online"+byActor(p))
		return m.want(refreshEdges | refreshSources)
	case broker.EventEdgeOffline:
		m.notice(levelWarn, "edge "+p.Edge+" went offline"+byActor(p))
		return m.want(refreshEdges | refreshSources)
	case broker.EventSourceAdded, broker.EventSourceRemoved, broker.EventSourceEdgeAssigned:
		m.acted(ev.Kind, p)
		return m.want(refreshSources | refreshEdges)
	case broker.EventStreamingChanged:
		m.acted(ev.Kind, p)
		return m.want(refreshSources)
	case broker.EventSourceWoken, broker.EventSourceIdle:
		// An on-demand source's awake state is the control node's to know.
		return m.want(refreshSources)
	case broker.EventRecordingStarted, broker.EventRecordingStopped, broker.EventRecordingRemoved:
		m.acted(ev.Kind, p)
		return m.want(refreshRecordings | refreshSources)
	case broker.EventPullChanged:
		level := levelNotice
		if strings.HasPrefix(p.Detail, api.PullBackoff) || strings.HasPrefix(p.Detail, api.PullRefused) {
			level = levelWarn
		}
		m.notice(level, orNone(p.Source)+": pull "+orNone(p.Detail)+byActor(p))
		return m.want(refreshSources)
	case broker.EventFeedSwitched:
		// Another feed is listed: a failover (amber: a feed failed) or the
		// operator's --prefer.
		level := levelWarn
		if strings.Contains(p.Detail, "preferred") {
			level = levelNotice
		}
		m.notice(level, orNone(p.Source)+": feed "+orNone(p.Detail)+byActor(p))
		return m.want(refreshSources)
	case broker.EventSegmentDropped:
		text := "a segment of " + orNone(p.Source) + " was dropped"
		if p.Edge != "" {
			text += " (edge " + p.Edge + ")"
		}
		if p.Detail != "" {
			text += ": " + p.Detail
		}
		m.notice(levelWarn, text+byActor(p))
	default:
		m.acted(ev.Kind, p)
	}
	return nil
}

// byActor names who made an event happen: " · by ci-bot", or nothing for
// what the system did by itself.
func byActor(p api.EventPayload) string {
	if p.Actor == "" {
		return ""
	}
	return " · by " + p.Actor
}

// acted says in the status line what someone did through the API (an event
// with an actor), so an operator sees other people's changes as they come.
// What the system does by itself only refetches.
func (m *Model) acted(kind string, p api.EventPayload) {
	if p.Actor == "" {
		return
	}
	var text string
	switch kind {
	case broker.EventStreamingChanged:
		text = orNone(p.Source) + ": streaming " + orNone(p.Detail)
	case broker.EventSourceAdded:
		text = "source " + orNone(p.Source) + " added"
	case broker.EventSourceRemoved:
		text = "source " + orNone(p.Source) + " removed"
	case broker.EventSourceEdgeAssigned:
		text = orNone(p.Source) + " moved to edge " + orNone(p.Edge)
	case broker.EventRecordingStarted:
		text = "recording " + shortID(p.Recording) + " of " + orNone(p.Source) + " started"
	case broker.EventRecordingStopped:
		text = "recording " + shortID(p.Recording) + " of " + orNone(p.Source) + " stopped"
	case broker.EventRecordingRemoved:
		text = "recording " + shortID(p.Recording) + " removed"
	default:
		// A kind this dashboard does not know yet: its name and what it
		// is about.
		parts := []string{kind}
		for _, s := range []string{p.Edge, p.Source, shortID(p.Recording), p.Detail} {
			if s != "" && s != none {
				parts = append(parts, s)
			}
		}
		text = strings.Join(parts, " ")
	}
	m.notice(levelNotice, text+byActor(p))
}

// edgeStatus applies an edge's status to the panels and decides whether a
// heartbeat should refetch what only the control node knows.
func (m *Model) edgeStatus(msg edgeStatusMsg) tea.Cmd {
	m.edges, _ = m.edges.Update(msg, m.keys)
	unknown := m.sources.unknown(msg)
	m.sources, _ = m.sources.Update(msg, m.keys)
	m.confirmStreaming()
	var r refresh
	if unknown {
		r |= refreshSources
	}
	if m.now().Sub(m.lastSlow) >= slowRefresh {
		var slow refresh
		for _, s := range msg.status.Sources {
			if s.Streaming {
				slow |= refreshSources // viewers, live segments
			}
		}
		if m.recs.active() > 0 {
			slow |= refreshRecordings // sizes growing
		}
		if slow != 0 {
			m.lastSlow = m.now()
		}
		r |= slow
	}
	if r == 0 {
		return nil
	}
	return m.want(r)
}

// want asks for a refetch of r, debounced.
func (m *Model) want(r refresh) tea.Cmd {
	m.pending |= r
	if m.wait < 0 {
		return m.flush()
	}
	if m.armed {
		return nil
	}
	m.armed = true
	return debounce(m.wait)
}

// flush refetches what is pending.
func (m *Model) flush() tea.Cmd {
	var cmds []tea.Cmd
	if m.pending&refreshEdges != 0 {
		m.seq++
		cmds = append(cmds, fetchEdges(m.ctx, m.client, m.seq))
	}
	if m.pending&refreshSources != 0 {
		m.seq++
		cmds = append(cmds, fetchSources(m.ctx, m.client, m.seq))
	}
	if m.pending&refreshRecordings != 0 {
		m.seq++
		cmds = append(cmds, fetchRecordings(m.ctx, m.client, m.seq))
	}
	m.pending = 0
	return tea.Batch(cmds...)
}

// relayout shares the screen's height among the panels after any change,
// so the cursor stays in view and View has nothing to decide.
func (m *Model) relayout() {
	if m.width <= 0 || m.height <= 0 {
		return
	}
	fixed := 1 + len(m.statusLines()) + len(m.footerLines())
	if m.prompting {
		fixed += m.prompt.height()
	}
	if m.adding {
		fixed += m.addPrompt.height()
	}
	wants := [panelCount]int{m.edges.wants(), m.sources.wants(), m.recs.wants()}
	m.heights = allocate(m.height-fixed, wants, m.focus)
	m.edges.list.setRows(max(m.heights[panelEdges]-2, 0))
	m.sources.list.setRows(max(m.heights[panelSources]-2, 0))
	m.recs.list.setRows(max(m.heights[panelRecordings]-2, 0))
}

// allocate shares avail lines among the panels: first a title each, then
// a header and a row each, then one row at a time to those with more to
// show, the focused panel first at every step.
func allocate(avail int, wants [panelCount]int, focus panelID) [panelCount]int {
	var h [panelCount]int
	order := []panelID{focus}
	for p := panelID(0); p < panelCount; p++ {
		if p != focus {
			order = append(order, p)
		}
	}
	for _, p := range order {
		if avail > 0 {
			h[p]++
			avail--
		}
	}
	for _, p := range order {
		if avail >= 2 {
			h[p] += 2
			avail -= 2
		}
	}
	for avail > 0 {
		grew := false
		for _, p := range order {
			if avail > 0 && h[p] >= 3 && h[p]-2 < wants[p] {
				h[p]++
				avail--
				grew = true
			}
		}
		if !grew {
			break
		}
	}
	return h
}

// View draws the whole screen: exactly height lines, none wider than width.
func (m Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	now := m.now()
	lines := []string{m.header(now)}
	lines = append(lines, m.edges.View(m.width, m.heights[panelEdges], m.focus == panelEdges, now, m.st)...)
	lines = append(lines, m.sources.View(m.width, m.heights[panelSources], m.focus == panelSources, now, m.st)...)
	lines = append(lines, m.recs.View(m.width, m.heights[panelRecordings], m.focus == panelRecordings, now, m.st)...)
	bottom := m.statusLines()
	bottom = append(bottom, m.footerLines()...)
	if m.prompting {
		bottom = append(m.prompt.View(m.width, now, m.loc, m.st), bottom...)
	}
	if m.adding {
		bottom = append(m.addPrompt.View(m.width, m.st), bottom...)
	}
	for len(lines)+len(bottom) < m.height {
		lines = append(lines, "")
	}
	lines = append(lines, bottom...)
	if len(lines) > m.height {
		lines = lines[:m.height]
	}
	for i, l := range lines {
		if ansi.StringWidth(l) > m.width {
			lines[i] = ansi.Truncate(l, m.width, "")
		}
	}
	return strings.Join(lines, "\n")
}

// header is the top line: what the dashboard watches, whether it is live,
// and the time.
func (m Model) header(now time.Time) string {
	st := m.st
	var conn string
	switch m.conn {
	case connLive:
		conn = st.good.Render("● live")
	case connReconnecting:
		conn = st.bad.Render("○ reconnecting…")
		if m.width >= 70 {
			conn += st.faint.Render(" showing the last known state")
		}
	default:
		conn = st.warn.Render("◌ connecting…")
	}
	server := hostOf(m.server)
	if m.width >= 100 {
		server = m.server
		if m.serverVersion != "" {
			server += " (controld " + m.serverVersion + ")"
		}
	}
	left := st.appName.Render("lmx") + " " + server + "  " + conn
	right := ""
	if f := m.edges.filter; f != "" && !m.filtering {
		right = st.warn.Render(fmt.Sprintf("filter %q", f)) + "  "
	}
	right += st.faint.Render(now.In(m.loc).Format("15:04:05"))
	gap := m.width - ansi.StringWidth(left) - ansi.StringWidth(right)
	if gap < 1 {
		return ansi.Truncate(left, m.width, "…")
	}
	return left + strings.Repeat(" ", gap) + right
}

// maxStatusLines bounds the status line when a message wraps (a long
// playback URL on a narrow screen).
const maxStatusLines = 3

// statusLines is the status line, or the filter field while it is open.
func (m Model) statusLines() []string {
	if m.filtering {
		line := m.st.focused.Render("/ ") + m.filter.View(m.st) + " " + m.st.faint.Render("enter keeps the filter · esc clears it")
		return []string{ansi.Truncate(line, max(m.width, 1), "…")}
	}
	s := m.status
	if s.text == "" {
		// Nothing to say: what is wrong with the selected pulled source.
		if src, ok := m.sources.selected(); ok && m.focus == panelSources {
			if line := pullLine(src); line != "" {
				s = status{level: levelWarn, text: line}
			} else if line := feedsLine(src); line != "" {
				s = status{level: levelNotice, text: line}
				if !feedsHealthy(src) {
					s.level = levelWarn
				}
			}
		}
	}
	if s.text == "" {
		return []string{""}
	}
	mark, style := "✓ ", m.st.statusInfo
	switch s.level {
	case levelNotice:
		mark, style = "· ", m.st.faint
	case levelWarn:
		mark, style = "! ", m.st.statusWarn
	case levelError:
		mark, style = "✗ ", m.st.statusError
	}
	wrapped := strings.Split(ansi.Wrap(mark+s.text, max(m.width, 1), ""), "\n")
	if len(wrapped) > maxStatusLines {
		wrapped = wrapped[:maxStatusLines]
		last := wrapped[maxStatusLines-1]
		wrapped[maxStatusLines-1] = ansi.Truncate(last, max(m.width-1, 1), "") + "…"
	}
	for i, l := range wrapped {
		wrapped[i] = style.Render(l)
	}
	return wrapped
}

// footerLines are the keys: the short list, or all of them after ?.
func (m Model) footerLines() []string {
	switch {
	case m.prompting, m.adding:
		return []string{""}
	case m.filtering:
		return []string{m.st.faint.Render("type to narrow all panels by name")}
	}
	return splitLines(m.help.View(helpKeys{k: m.keys, focus: m.focus}))
}

func splitLines(s string) []string { return strings.Split(s, "\n") }

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}
