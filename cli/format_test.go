package cli

import (
	"testing"
	"time"

	"github.com/lmx-video/lmx/api"
)

func TestStreamingState(t *testing.T) {
	for _, tc := range []struct {
		streaming int
		edge      bool
		want      string
	}{
		{api.StreamingOn, true, "on"},
		{api.StreamingOn, false, "on (pending)"},
		{api.StreamingOff, false, "off"},
		{api.StreamingOff, true, "off (pending)"},
	} {
		s := api.Source{Streaming: tc.streaming, EdgeStreaming: tc.edge}
		if got := streamingState(s); got != tc.want {
			t.Errorf("streaming %d, edge %v: %q, want %q", tc.streaming, tc.edge, got, tc.want)
		}
	}
}

func TestEdgeState(t *testing.T) {
	now := testNow
	for _, tc := range []struct {
		e    api.Edge
		want string
	}{
		{api.Edge{Online: true, StartedAt: now.Add(-5 * time.Minute), FirstSeen: now.Add(-time.Hour)}, "online 5m"},
		{api.Edge{Online: true, FirstSeen: now.Add(-3 * time.Hour)}, "online 3h"},
		{api.Edge{Online: true}, "online"},
		{api.Edge{LastSeen: now.Add(-2 * time.Hour)}, "offline 2h"},
		{api.Edge{}, "offline"},
	} {
		if got := edgeState(tc.e, now); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.e, got, tc.want)
		}
	}
}

func TestEdgeLabel(t *testing.T) {
	for _, tc := range []struct {
		s    api.Source
		want string
	}{
		{api.Source{}, "-"},
		{api.Source{Edge: "gw", EdgeOnline: true}, "gw"},
		{api.Source{RRTarget: "gw", EdgeOnline: true}, "gw"}, // a LiveMix server fills only rr_target
		{api.Source{Edge: "gw"}, "gw (offline)"},
	} {
		if got := edgeLabel(tc.s); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.s, got, tc.want)
		}
	}
}

func TestTimestamp(t *testing.T) {
	if got := timestamp(time.Time{}, testNow); got != "-" {
		t.Errorf("zero: %q", got)
	}
	if got, want := timestamp(testNow.Add(-26*time.Hour), testNow), "2025-02-28 10:00:00 (26h ago)"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
}
