package tui

import (
	"context"
	"errors"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/lmx-video/lmx/api"
)

// TestFollowReconnectsWithBackoff breaks the stream a few times, then
// lets it through: the follower says reconnecting with a doubling wait
// capped at max, goes live on hello, and starts over from min after.
func TestFollowReconnectsWithBackoff(t *testing.T) {
	fake := newFake()
	attempts := 0
	fake.follow = func(ctx context.Context, fn func(api.StreamEvent)) error {
		attempts++
		switch attempts {
		case 1, 2, 3, 4:
			return errors.New("connection refused")
		case 5:
			fn(api.StreamEvent{Kind: "hello", Data: []byte(`{"version":"dev"}`)})
			fn(api.StreamEvent{Kind: "source.added", Data: []byte(`{"source":"cam-new"}`)})
			return errors.New("event stream broke: unexpected EOF")
		default:
			<-ctx.Done()
			return ctx.Err()
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan tea.Msg, 32)
	done := make(chan tea.Msg)
	go func() { done <- follow(ctx, fake, ch, backoff{min: time.Millisecond, max: 4 * time.Millisecond})() }()

	var got []tea.Msg
	for len(got) < 8 {
		select {
		case m := <-ch:
			got = append(got, m)
		case <-time.After(5 * time.Second):
			t.Fatalf("follower stalled after %d messages: %v", len(got), got)
		}
	}
	waits := []time.Duration{time.Millisecond, 2 * time.Millisecond, 4 * time.Millisecond, 4 * time.Millisecond}
	for i, w := range waits {
		c, ok := got[i].(connMsg)
		if !ok || c.state != connReconnecting || c.retryIn != w || c.err == nil {
			t.Fatalf("message %d = %#v, want reconnecting in %s", i, got[i], w)
		}
	}
	if c, ok := got[4].(connMsg); !ok || c.state != connLive {
		t.Fatalf("message 4 = %#v, want live", got[4])
	}
	if e, ok := got[5].(eventMsg); !ok || e.ev.Kind != "hello" {
		t.Fatalf("message 5 = %#v, want the hello event", got[5])
	}
	if e, ok := got[6].(eventMsg); !ok || e.ev.Kind != "source.added" {
		t.Fatalf("message 6 = %#v", got[6])
	}
	if c, ok := got[7].(connMsg); !ok || c.state != connReconnecting || c.retryIn != time.Millisecond {
		t.Fatalf("message 7 = %#v, want reconnecting from the minimum again", got[7])
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("follower did not return when its context ended")
	}
}

// TestNextStopsWithContext: the reader of the follower's channel must not
// outlive the dashboard.
func TestNextStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan tea.Msg)
	done := make(chan tea.Msg)
	go func() { done <- next(ctx, ch)() }()
	cancel()
	select {
	case m := <-done:
		if m != nil {
			t.Fatalf("got %#v, want nil", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("next did not return")
	}
}

func TestAllocate(t *testing.T) {
	for _, tc := range []struct {
		avail int
		wants [panelCount]int
		focus panelID
		want  [panelCount]int
	}{
		// Enough room: each gets what it wants, the rest is left over.
		{20, [panelCount]int{2, 3, 1}, panelSources, [panelCount]int{4, 5, 3}},
		// Tight: one row at a time, focused panel first.
		{12, [panelCount]int{5, 5, 5}, panelRecordings, [panelCount]int{4, 4, 4}},
		{11, [panelCount]int{5, 5, 5}, panelRecordings, [panelCount]int{4, 3, 4}},
		// Too small for all: the focused panel keeps its rows.
		{5, [panelCount]int{5, 5, 5}, panelSources, [panelCount]int{1, 3, 1}},
		{2, [panelCount]int{5, 5, 5}, panelSources, [panelCount]int{1, 1, 0}},
		{0, [panelCount]int{5, 5, 5}, panelSources, [panelCount]int{}},
	} {
		if got := allocate(tc.avail, tc.wants, tc.focus); got != tc.want {
			t.Errorf("allocate(%d, %v, %d) = %v, want %v", tc.avail, tc.wants, tc.focus, got, tc.want)
		}
	}
}
