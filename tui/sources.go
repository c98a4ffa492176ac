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
	"github.com/lmx-video/lmx/internal/humanfmt"
)

// sourcesPanel is the Sources panel: every source, whether it streams, its
// live bitrate and how it moved lately, how fresh its live playlist is, how
// much it is watched and whether it is being recorded.
type sourcesPanel struct {
	list   cursorList
	all    []api.Source // sorted by name
	rows   []api.Source // all, filtered
	loaded bool
	filter string
	spark  sparklines
}

func newSourcesPanel() sourcesPanel { return sourcesPanel{spark: newSparklines()} }

const sparkTitle = "LAST 3 MIN"

var sourceColumns = []column{
	{title: "NAME", width: 12, grow: 2, maxWidth: 32},
	{title: "ID", width: 8, minWidth: 120},
	{title: "EDGE", width: 10, grow: 1, maxWidth: 24},
	{title: "STREAM", width: 10},
	{title: "BITRATE", width: 10, right: true},
	{title: sparkTitle, width: 10, grow: 2},
	{title: "LIVE", width: 5, right: true},
	{title: "SEGS", width: 4, right: true, minWidth: 120},
	{title: "REQ/M", width: 5, right: true},
	{title: "REC", width: 5},
}

// Update takes fetched sources, live statuses and, when focused, the
// movement keys.
func (p sourcesPanel) Update(msg tea.Msg, km keyMap) (sourcesPanel, tea.Cmd) {
	switch msg := msg.(type) {
	case sourcesMsg:
		if msg.err == nil {
			p.all = sortedSources(msg.sources)
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

// apply updates the sources an edge reports on, as its status arrives:
// bitrate (and its history), whether the edge streams them, and how fresh
// their newest segment is. Viewers and recordings are the control node's
// to know; they come with the next fetch.
func (p *sourcesPanel) apply(msg edgeStatusMsg) {
	st := msg.status
	for _, ss := range st.Sources {
		p.spark.add(ss.Name, msg.at, ss.BitrateBPS)
	}
	for i := range p.all {
		s := &p.all[i]
		edge := sourceEdge(*s)
		if edge != st.Edge && edge != "" {
			continue
		}
		ss, ok := edgeStatusFor(st, s.Name)
		if !ok {
			if edge == st.Edge && !st.Online {
				s.EdgeOnline, s.EdgeStreaming = false, false
			}
			continue
		}
		if edge == "" {
			s.Edge = st.Edge
		}
		s.EdgeOnline = st.Online
		s.EdgeStreaming = st.Online && ss.Streaming
		s.BitrateBPS = ss.BitrateBPS
		if ss.Pull != nil && s.PullURL != "" {
			s.Pull = pullFromStatus(ss.Pull)
		}
		// The edge uploads a segment as soon as it has it: while it
		// streams, its newest segment is the live playlist's, near enough.
		if s.EdgeStreaming && ss.LastSegmentAt.After(s.LastSegmentAt) {
			s.LastSegmentAt = ss.LastSegmentAt
		}
	}
	p.refilter()
}

// unknown reports whether st names a source the panel does not list yet.
func (p sourcesPanel) unknown(msg edgeStatusMsg) bool {
	for _, ss := range msg.status.Sources {
		if !slices.ContainsFunc(p.all, func(s api.Source) bool { return s.Name == ss.Name }) {
			return true
		}
	}
	return false
}

// upsert puts a source the API just returned in place.
func (p *sourcesPanel) upsert(src api.Source) {
	if src.ID == "" && src.Name == "" {
		return
	}
	i := slices.IndexFunc(p.all, func(s api.Source) bool {
		return (src.ID != "" && s.ID == src.ID) || (src.ID == "" && s.Name == src.Name)
	})
	if i >= 0 {
		p.all[i] = src
	} else {
		p.all = sortedSources(append(p.all, src))
	}
	p.refilter()
}

func (p *sourcesPanel) setFilter(f string) {
	p.filter = f
	p.refilter()
}

func (p *sourcesPanel) refilter() {
	p.rows = p.rows[:0:0]
	for _, s := range p.all {
		if matchFilter(p.filter, s.Name, sourceEdge(s), s.ID) {
			p.rows = append(p.rows, s)
		}
	}
	p.list.sync(p.keys())
}

func (p sourcesPanel) keys() []string {
	out := make([]string, len(p.rows))
	for i, s := range p.rows {
		out[i] = ref(s.ID, s.Name)
	}
	return out
}

func (p sourcesPanel) wants() int { return max(len(p.rows), 1) }

// selected is the source under the cursor.
func (p sourcesPanel) selected() (api.Source, bool) {
	if p.list.cursor < len(p.rows) {
		return p.rows[p.list.cursor], true
	}
	return api.Source{}, false
}

// selectKey moves the cursor to the source with key k (its id, else its
// name), and keeps it there across refetches.
func (p *sourcesPanel) selectKey(k string) {
	p.list.key = k
	p.list.sync(p.keys())
}

// find finds a source by id, else by name.
func (p sourcesPanel) find(id, name string) (api.Source, bool) {
	for _, s := range p.all {
		if (id != "" && s.ID == id) || (id == "" && s.Name == name) {
			return s, true
		}
	}
	return api.Source{}, false
}

// View draws the panel in exactly height lines.
func (p sourcesPanel) View(width, height int, focused bool, now time.Time, st styles) []string {
	t := layoutTable(sourceColumns, width)
	count := ""
	switch {
	case !p.loaded:
	case p.filter != "":
		count = fmt.Sprintf("(%d of %d)", len(p.rows), len(p.all))
	default:
		on := 0
		for _, s := range p.all {
			if s.IsStreaming() {
				on++
			}
		}
		count = fmt.Sprintf("(%d, %d streaming)", len(p.all), on)
	}
	title := titleLine(panelSources, "Sources", count, focused, p.list, len(p.rows), width, st)
	sw := t.width(sparkTitle)
	rows := visibleRows(t, p.list, p.rows, focused, st, func(r api.Source) map[string]cell { return p.cells(r, sw, now, st) })
	return panelView(title, t, rows, p.empty(), height, width, st)
}

func (p sourcesPanel) empty() string {
	switch {
	case !p.loaded:
		return "loading…"
	case p.filter != "" && len(p.all) > 0:
		return fmt.Sprintf("no source matches %q (esc clears the filter)", p.filter)
	default:
		return "no sources yet: press a to add one, then push it to an edge with ffmpeg"
	}
}

func (p sourcesPanel) cells(s api.Source, sparkWidth int, now time.Time, st styles) map[string]cell {
	edge := dim(sourceEdge(s), st)
	if len(s.Feeds) > 1 {
		// The active feed, and how many stand by; amber when one fails.
		edge.text += fmt.Sprintf(" +%d", len(s.Feeds)-1)
		if !feedsHealthy(s) {
			edge.style = st.warn
		}
	}
	if edge.text != none && !s.EdgeOnline {
		edge = cell{text: "✗ " + edge.text, style: st.bad}
	}
	live := cell{text: staleness(s.LastSegmentAt, now)}
	segLen := time.Duration(max(s.SegmentLength, 2)) * time.Second
	switch stale := now.Sub(s.LastSegmentAt); {
	case s.LastSegmentAt.IsZero() || !s.IsStreaming():
		live.style = st.faint
	case stale <= 3*segLen:
		live.style = st.good
	case stale <= time.Minute:
		live.style = st.warn
	default:
		live.style = st.bad
	}
	req := cell{text: strconv.FormatInt(s.PlaylistRequestsPerMin, 10)}
	if s.PlaylistRequestsPerMin == 0 {
		req.style = st.faint
	}
	rec := cell{}
	if s.Recording {
		rec = cell{text: "● REC", style: st.bad}
	}
	rate := plain(bitrate(s.BitrateBPS))
	if s.BitrateBPS <= 0 {
		rate.style = st.faint
	}
	segs := cell{text: strconv.Itoa(s.LiveSegments)}
	if s.LiveSegments == 0 {
		segs.style = st.faint
	}
	return map[string]cell{
		"NAME":     plain(s.Name),
		"ID":       cell{text: shortID(s.ID), style: st.faint},
		"EDGE":     edge,
		"STREAM":   streamCell(s, st),
		"BITRATE":  rate,
		sparkTitle: {text: p.spark.render(s.Name, sparkWidth, now), style: st.accent},
		"LIVE":     live,
		"SEGS":     segs,
		"REQ/M":    req,
		"REC":      rec,
	}
}

// streamCell is a source's STREAM cell: for a pulled source whose ffmpeg is
// not running, what it does instead ("backoff ×3", "refused", "starting",
// "pending" until its edge reports); otherwise its streaming state.
func streamCell(s api.Source, st styles) cell {
	if s.PullURL == "" || (s.Pull != nil && s.Pull.State == api.PullRunning) {
		return streamingState(s, st)
	}
	c := cell{text: humanfmt.PullState(s), style: st.warn}
	if s.Pull != nil && (s.Pull.State == api.PullBackoff || s.Pull.State == api.PullRefused) {
		c.style = st.bad
	}
	return c
}

// pullFromStatus is an edge's report of its ffmpeg as the API renders it
// (the control node masked its credentials before relaying it).
func pullFromStatus(p *broker.PullStatus) *api.PullState {
	return &api.PullState{State: p.State, Since: p.Since, Restarts: p.Restarts, LastError: p.LastError,
		Video: p.Video, Audio: p.Audio, Warnings: p.Warnings}
}

// pullLine says what is wrong with a pulled source's ffmpeg, for the
// status line while the source is selected: "" when nothing is.
func pullLine(s api.Source) string {
	p := s.Pull
	if s.PullURL == "" || p == nil || p.State == api.PullRunning && len(p.Warnings) == 0 {
		return ""
	}
	line := s.Name + ": pull " + humanfmt.PullState(s)
	if p.LastError != "" && p.State != api.PullRunning {
		line += ": " + p.LastError
	}
	if len(p.Warnings) > 0 {
		line += " · " + strings.Join(p.Warnings, "; ")
	}
	return line
}

// streamingState says whether a source streams, in words that read without
// colour: "on" and "off" once the edge agrees, "starting" and "stopping"
// while it has not confirmed what was asked yet; an on-demand source is
// "asleep" while nobody watches and "awake" while its edge uploads for a
// player.
func streamingState(s api.Source, st styles) cell {
	switch {
	case s.IsStreaming() && s.OnDemand && !s.Awake && !s.EdgeStreaming:
		return cell{text: "asleep", style: st.faint}
	case s.IsStreaming() && s.OnDemand && s.EdgeStreaming:
		return cell{text: "awake", style: st.good}
	case s.IsStreaming() && s.EdgeStreaming:
		return cell{text: "on", style: st.good}
	case s.IsStreaming():
		return cell{text: "starting", style: st.warn}
	case s.EdgeStreaming:
		return cell{text: "stopping", style: st.warn}
	default:
		return cell{text: "off", style: st.faint}
	}
}

func sortedSources(sources []api.Source) []api.Source {
	sources = slices.Clone(sources)
	slices.SortFunc(sources, func(a, b api.Source) int { return strings.Compare(a.Name, b.Name) })
	return sources
}
