package tui

import (
	"context"
	"errors"
	"fmt"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/lmx-video/lmx/api"
)

// The keyboard's actions and what they say in the status line. Each one
// says what it is doing at once, then what happened when the answer comes
// (and, for streaming, once more when the edge confirms).

// toggleStreaming turns the selected source's streaming the other way.
func (m *Model) toggleStreaming() tea.Cmd {
	if m.focus != panelSources {
		m.say(levelWarn, "streaming is a source's: press 2 for Sources, select one, then s")
		return nil
	}
	src, ok := m.sources.selected()
	if !ok {
		m.say(levelWarn, "no source selected")
		return nil
	}
	on := !src.IsStreaming()
	m.say(levelInfo, fmt.Sprintf("turning streaming %s for %s…", onOff(on), src.Name))
	return setStreaming(m.ctx, m.client, src, on)
}

func (m *Model) streamingSet(msg streamingSetMsg) {
	if msg.err != nil {
		m.say(levelError, fmt.Sprintf("could not turn streaming %s for %s: %s", onOff(msg.on), msg.name, m.plain(msg.err)))
		return
	}
	src := msg.source
	if src.Name == "" {
		src.Name = msg.name
	}
	m.sources.upsert(src)
	edge := sourceEdge(src)
	switch {
	case src.EdgeStreaming == msg.on:
		delete(m.awaiting, src.Name)
		m.say(levelInfo, fmt.Sprintf("%s: streaming %s", src.Name, onOff(msg.on)))
	case edge == "":
		m.say(levelWarn, fmt.Sprintf("%s: streaming %s is set; no edge has pushed it yet, so it applies once one does", src.Name, onOff(msg.on)))
	case !src.EdgeOnline:
		m.awaiting[src.Name] = msg.on
		m.say(levelWarn, fmt.Sprintf("%s: streaming %s is set; edge %s is offline and applies it when it reconnects", src.Name, onOff(msg.on), edge))
	default:
		m.awaiting[src.Name] = msg.on
		m.say(levelInfo, fmt.Sprintf("%s: streaming %s asked; waiting for edge %s to confirm", src.Name, onOff(msg.on), edge))
	}
}

// confirmStreaming tells the operator when an edge has done what they asked.
func (m *Model) confirmStreaming() {
	for name, on := range m.awaiting {
		src, ok := m.sources.find("", name)
		if !ok || src.EdgeStreaming != on {
			continue
		}
		delete(m.awaiting, name)
		m.say(levelInfo, fmt.Sprintf("%s: edge %s confirms streaming %s", name, sourceEdge(src), onOff(on)))
	}
}

// openAddPrompt asks for a new source, the walkthrough's first step.
func (m *Model) openAddPrompt() {
	if m.focus != panelSources {
		m.say(levelWarn, "a adds a source: press 2 for Sources, then a")
		return
	}
	m.addPrompt = newSourcePrompt()
	m.adding = true
}

func (m *Model) addKey(msg tea.KeyMsg) tea.Cmd {
	p, res := m.addPrompt.Update(msg)
	m.addPrompt = p
	switch res {
	case promptCancel:
		m.adding = false
		m.say(levelInfo, "no source added")
	case promptSubmit:
		req, _, err := p.request()
		if err != nil {
			return nil // Update refuses to submit an invalid prompt
		}
		m.adding = false
		m.say(levelInfo, "creating source "+req.Name+"…")
		return createSource(m.ctx, m.client, req)
	}
	return nil
}

func (m *Model) sourceCreated(msg sourceCreatedMsg) tea.Cmd {
	if msg.err != nil {
		m.say(levelError, fmt.Sprintf("could not create source %s: %s", msg.name, m.plain(msg.err)))
		return nil
	}
	src := msg.source
	if src.Name == "" {
		src.Name = msg.name
	}
	// Show it even under a filter it does not match.
	if f := m.sources.filter; f != "" && !matchFilter(f, src.Name, sourceEdge(src), src.ID) {
		m.setFilter("")
	}
	m.sources.upsert(src)
	m.sources.selectKey(ref(src.ID, src.Name))
	m.focus = panelSources
	m.say(levelInfo, fmt.Sprintf("source %s created: push to it with Video-Source-Name: %s", src.Name, src.Name))
	return m.want(refreshSources)
}

// openPrompt asks where a recording of the selected source should start.
// From the Recordings panel it records the selected recording's source.
func (m *Model) openPrompt() {
	var src api.Source
	switch m.focus {
	case panelSources:
		s, ok := m.sources.selected()
		if !ok {
			m.say(levelWarn, "no source selected")
			return
		}
		src = s
	case panelRecordings:
		r, ok := m.recs.selected()
		if !ok {
			m.say(levelWarn, "no recording selected: press 2 for Sources to pick a source to record")
			return
		}
		if s, ok := m.sources.find(r.Source, r.SourceName); ok {
			src = s
		} else {
			src = api.Source{ID: r.Source, Name: r.SourceName}
		}
	default:
		m.say(levelWarn, "recordings are of a source: press 2 for Sources, select one, then r")
		return
	}
	m.prompt = newRecordPrompt(src, m.st)
	m.prompting = true
}

func (m *Model) promptKey(msg tea.KeyMsg) tea.Cmd {
	p, res := m.prompt.Update(msg, m.now(), m.loc)
	m.prompt = p
	switch res {
	case promptCancel:
		m.prompting = false
		m.say(levelInfo, "no recording started")
	case promptSubmit:
		req, at, err := p.request(m.now(), m.loc)
		if err != nil {
			m.prompt.err = err.Error()
			return nil
		}
		m.prompting = false
		from := "now"
		if !at.IsZero() {
			from = clock(at, m.now(), m.loc)
		}
		m.say(levelInfo, fmt.Sprintf("starting a recording of %s from %s…", p.source.Name, from))
		return startRecording(m.ctx, m.client, p.source, req)
	}
	return nil
}

func (m *Model) recordingStarted(msg recordingStartedMsg) tea.Cmd {
	if msg.err != nil {
		m.say(levelError, fmt.Sprintf("could not start a recording of %s: %s", msg.source, m.plain(msg.err)))
		return nil
	}
	rec := msg.recording
	if rec.SourceName == "" {
		rec.SourceName = msg.source
	}
	m.recs.upsert(rec)
	m.recs.selectID(rec.ID)
	m.say(levelInfo, fmt.Sprintf("recording %s from %s (x in Recordings stops it)",
		recLabel(rec), clock(rec.StartTS, m.now(), m.loc)))
	return m.want(refreshSources)
}

// stopSelected stops the recording under the cursor.
func (m *Model) stopSelected() tea.Cmd {
	if m.focus != panelRecordings {
		m.say(levelWarn, "x stops a recording: press 3 for Recordings, select one, then x")
		return nil
	}
	rec, ok := m.recs.selected()
	if !ok {
		m.say(levelWarn, "no recording selected")
		return nil
	}
	if !rec.IsActive() {
		m.say(levelInfo, fmt.Sprintf("recording %s already ended at %s", recLabel(rec), clock(rec.EndTS, m.now(), m.loc)))
		return nil
	}
	m.say(levelInfo, "stopping recording "+recLabel(rec)+"…")
	return stopRecording(m.ctx, m.client, rec)
}

func (m *Model) recordingStopped(msg recordingStoppedMsg) tea.Cmd {
	if msg.err != nil {
		m.say(levelError, fmt.Sprintf("could not stop recording %s: %s", msg.label, m.plain(msg.err)))
		return nil
	}
	rec := msg.recording
	label := msg.label
	if rec.ID != "" {
		m.recs.upsert(rec)
		label = recLabel(rec)
	}
	m.say(levelInfo, fmt.Sprintf("stopped recording %s: %s, %s", label,
		elapsed(rec.EndTS.Sub(rec.StartTS)), byteSize(rec.Bytes)))
	return m.want(refreshSources)
}

// copySelected sends the selected source's or recording's playback URL to
// the clipboard and shows it.
func (m *Model) copySelected() tea.Cmd {
	var what, url string
	switch m.focus {
	case panelSources:
		src, ok := m.sources.selected()
		if !ok {
			m.say(levelWarn, "no source selected")
			return nil
		}
		what, url = src.Name+" live", src.PlaybackURL
	case panelRecordings:
		rec, ok := m.recs.selected()
		if !ok {
			m.say(levelWarn, "no recording selected")
			return nil
		}
		what, url = "recording "+shortID(rec.ID), rec.PlaybackURL
	default:
		m.say(levelWarn, "edges have no playback URL: select a source (2) or a recording (3)")
		return nil
	}
	if url == "" {
		m.say(levelWarn, "the control node gave no playback URL for "+what+" (is its --public-url set?)")
		return nil
	}
	return copyURL(m.out, what, url)
}

func (m *Model) copied(msg copiedMsg) {
	switch {
	case msg.err != nil:
		m.say(levelWarn, fmt.Sprintf("%s: %s (could not send it to the clipboard: %v)", msg.what, msg.url, msg.err))
	case msg.sent:
		m.say(levelInfo, fmt.Sprintf("%s: %s · sent to clipboard (OSC 52)", msg.what, msg.url))
	default:
		m.say(levelInfo, fmt.Sprintf("%s: %s", msg.what, msg.url))
	}
}

// say puts the result of the operator's action in the status line.
func (m *Model) say(level statusLevel, text string) {
	m.status = status{level: level, text: text, at: m.now()}
}

// notice puts an event in the status line unless something the operator
// should read first is there, fresh.
func (m *Model) notice(level statusLevel, text string) {
	cur := m.status
	if cur.text != "" && !cur.notice && (cur.conn || m.now().Sub(cur.at) < noticeHold) {
		return
	}
	m.status = status{level: level, text: text, at: m.now(), notice: true}
}

// plain says what went wrong in words an operator can act on.
func (m *Model) plain(err error) string {
	var se *api.StatusError
	switch {
	case errors.Is(err, api.ErrUnreachable):
		return "it does not answer (is lmx controld running there?)"
	case errors.As(err, &se):
		return se.Error()
	case errors.Is(err, context.DeadlineExceeded):
		return "it took too long to answer"
	default:
		return err.Error()
	}
}
