package tui

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/lmx-video/lmx/api"
)

// Client is the part of the control node's API the dashboard uses.
// *api.Client satisfies it; tests pass a fake.
type Client interface {
	ListSources(ctx context.Context, name string) ([]api.Source, error)
	ListEdges(ctx context.Context) ([]api.Edge, error)
	ListRecordings(ctx context.Context, source string, activeOnly bool) ([]api.Recording, error)
	CreateSource(ctx context.Context, s api.NewSource) (api.Source, error)
	SetStreaming(ctx context.Context, idOrName string, on bool) (api.Source, error)
	StartRecording(ctx context.Context, source string, r api.NewRecording) (api.Recording, error)
	StopRecording(ctx context.Context, id string) (api.Recording, error)
	FollowEvents(ctx context.Context, fn func(api.StreamEvent)) error
}

var _ Client = (*api.Client)(nil)

// All I/O is here, as tea.Cmds: Update never blocks.

func fetchEdges(ctx context.Context, c Client, seq uint64) tea.Cmd {
	return func() tea.Msg {
		edges, err := c.ListEdges(ctx)
		return edgesMsg{seq: seq, edges: edges, err: err}
	}
}

func fetchSources(ctx context.Context, c Client, seq uint64) tea.Cmd {
	return func() tea.Msg {
		sources, err := c.ListSources(ctx, "")
		return sourcesMsg{seq: seq, sources: sources, err: err}
	}
}

func fetchRecordings(ctx context.Context, c Client, seq uint64) tea.Cmd {
	return func() tea.Msg {
		recs, err := c.ListRecordings(ctx, "", false)
		return recordingsMsg{seq: seq, recordings: recs, err: err}
	}
}

func createSource(ctx context.Context, c Client, s api.NewSource) tea.Cmd {
	return func() tea.Msg {
		out, err := c.CreateSource(ctx, s)
		return sourceCreatedMsg{name: s.Name, source: out, err: err}
	}
}

func setStreaming(ctx context.Context, c Client, src api.Source, on bool) tea.Cmd {
	return func() tea.Msg {
		out, err := c.SetStreaming(ctx, ref(src.ID, src.Name), on)
		return streamingSetMsg{name: src.Name, on: on, source: out, err: err}
	}
}

func startRecording(ctx context.Context, c Client, src api.Source, r api.NewRecording) tea.Cmd {
	return func() tea.Msg {
		rec, err := c.StartRecording(ctx, ref(src.ID, src.Name), r)
		return recordingStartedMsg{source: src.Name, recording: rec, err: err}
	}
}

func stopRecording(ctx context.Context, c Client, rec api.Recording) tea.Cmd {
	return func() tea.Msg {
		out, err := c.StopRecording(ctx, rec.ID)
		return recordingStoppedMsg{label: recLabel(rec), recording: out, err: err}
	}
}

// copyURL sends url to the terminal's clipboard with an OSC 52 escape. Most
// terminals take it (tmux too, with set-clipboard on); none says whether it
// did, so the status line says "sent", never "copied", and shows the URL.
func copyURL(w io.Writer, what, url string) tea.Cmd {
	return func() tea.Msg {
		if w == nil {
			return copiedMsg{what: what, url: url}
		}
		_, err := io.WriteString(w, osc52(url))
		return copiedMsg{what: what, url: url, sent: err == nil, err: err}
	}
}

// osc52 is the escape that asks the terminal to put s on the clipboard.
func osc52(s string) string {
	return "\x1b]52;c;" + base64.StdEncoding.EncodeToString([]byte(s)) + "\x07"
}

func tick() tea.Cmd {
	return tea.Tick(time.Second, func(t time.Time) tea.Msg { return tickMsg(t) })
}

func debounce(d time.Duration) tea.Cmd {
	return tea.Tick(d, func(time.Time) tea.Msg { return flushMsg{} })
}

// ref is how an action names a source: its id when known (a name could be
// reused after a delete), else its name.
func ref(id, name string) string {
	if id != "" {
		return id
	}
	return name
}

// backoff is how long the follower waits between attempts: from min,
// doubling on each failure, capped at max, back to min once a stream goes
// live.
type backoff struct{ min, max time.Duration }

// follow keeps the event stream open for as long as ctx lives: it connects,
// sends every event to ch, and when the stream breaks (the control node
// restarts, the network drops) it says so and tries again after a backoff.
// It reports connLive on each stream's "hello", the control node's first
// frame, so "live" means events really flow.
//
// It returns only when ctx ends; it runs as a tea.Cmd, in its own goroutine.
func follow(ctx context.Context, c Client, ch chan<- tea.Msg, b backoff) tea.Cmd {
	return func() tea.Msg {
		send := func(msg tea.Msg) bool {
			select {
			case ch <- msg:
				return true
			case <-ctx.Done():
				return false
			}
		}
		wait := b.min
		for {
			err := c.FollowEvents(ctx, func(ev api.StreamEvent) {
				if ev.Kind == "hello" {
					wait = b.min
					send(connMsg{state: connLive})
				}
				send(eventMsg{ev: ev})
			})
			if ctx.Err() != nil {
				return nil
			}
			if err == nil {
				err = fmt.Errorf("event stream ended")
			}
			if !send(connMsg{state: connReconnecting, err: err, retryIn: wait}) {
				return nil
			}
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.C:
			}
			wait = min(wait*2, b.max)
		}
	}
}

// next reads the follower's next message; Update asks for another each time
// one arrives, so the stream is read one message at a time, in order.
func next(ctx context.Context, ch <-chan tea.Msg) tea.Cmd {
	return func() tea.Msg {
		select {
		case msg := <-ch:
			return streamMsg{msg: msg}
		case <-ctx.Done():
			return nil
		}
	}
}
