package tui

import (
	"bytes"
	"encoding/json"
	"io"
	"slices"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"

	"github.com/lmx-video/lmx/api"
)

// TestFlow runs the real program loop: the model starts, follows the
// event stream, takes a heartbeat, survives the control node going away
// and coming back, turns streaming on from the keyboard, sees the edge
// confirm it, and quits.
func TestFlow(t *testing.T) {
	fake := newFake()
	clk := &testClock{t: t0}
	m := New(fake, Options{
		Server:     "http://127.0.0.1:8080",
		Now:        clk.Now,
		Location:   time.UTC,
		Renderer:   renderer(termenv.Ascii),
		Output:     io.Discard,
		Debounce:   5 * time.Millisecond,
		MinBackoff: 10 * time.Millisecond,
		MaxBackoff: 20 * time.Millisecond,
	})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 24))
	t.Cleanup(func() { _ = tm.Quit() })

	send := func(ch chan api.StreamEvent, kind string, v any) {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		ch <- api.StreamEvent{Kind: kind, Data: b}
	}
	waitFor := func(what ...string) {
		t.Helper()
		teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
			for _, w := range what {
				if !bytes.Contains(b, []byte(w)) {
					return false
				}
			}
			return true
		}, teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(5*time.Millisecond))
	}

	// The stream opens: live, and the lists are on screen.
	stream := fake.events
	send(stream, "hello", map[string]any{"version": "v0.5.0"})
	waitFor("● live", "cam-door", "gw-lobby", "delivery")

	// A heartbeat changes a bitrate in place. (The control node's lists
	// say the same, as they would: a refetch may follow the heartbeat.)
	fake.setSource(idLobby, func(s *api.Source) { s.BitrateBPS = 3_100_000 })
	send(stream, "edge.status", lobbyStatus(false, 3_100_000, 1_100_000, t0))
	waitFor("3.1 Mbit/s")

	// The control node goes away, then comes back.
	stream = fake.restart()
	waitFor("reconnecting")
	send(stream, "hello", map[string]any{"version": "v0.5.0"})
	waitFor("● live", "reconnected to http://127.0.0.1:8080")

	// s on the selected source (cam-door, off) turns it on; the edge
	// confirms with its next heartbeat.
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("s")})
	waitFor("waiting for edge gw-lobby to confirm")
	fake.setSource(idDoor, func(s *api.Source) { s.EdgeStreaming = true })
	send(stream, "edge.status", lobbyStatus(true, 3_100_000, 1_300_000, t0))
	waitFor("edge gw-lobby confirms streaming on")

	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")})
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))

	final := tm.FinalModel(t).(Model)
	if final.ctx.Err() == nil {
		t.Error("quitting did not stop the event follower")
	}
	if !slices.Contains(fake.called(), "SetStreaming "+idDoor+" true") {
		t.Errorf("streaming not asked for: %q", fake.called())
	}
	if n := fake.count("FollowEvents"); n < 2 {
		t.Errorf("FollowEvents called %d times, want a reconnect", n)
	}
	src, _ := final.sources.find(idDoor, "")
	if !src.IsStreaming() || !src.EdgeStreaming {
		t.Errorf("cam-door at the end: %+v", src)
	}
}
