package tui

import (
	"testing"

	"github.com/muesli/termenv"

	"github.com/lmx-video/lmx/api"
)

func TestStreamingStateOnDemand(t *testing.T) {
	st := newStyles(renderer(termenv.Ascii))
	for _, c := range []struct {
		src  api.Source
		want string
	}{
		{api.Source{Streaming: api.StreamingOn, OnDemand: true}, "asleep"},
		{api.Source{Streaming: api.StreamingOn, OnDemand: true, Awake: true, EdgeStreaming: true}, "awake"},
		{api.Source{Streaming: api.StreamingOn, OnDemand: true, Awake: true}, "starting"}, // woken, the edge not there yet
		{api.Source{Streaming: api.StreamingOff, OnDemand: true}, "off"},
		{api.Source{Streaming: api.StreamingOn, EdgeStreaming: true}, "on"},
	} {
		if got := streamingState(c.src, st).text; got != c.want {
			t.Errorf("%+v: %q, want %q", c.src, got, c.want)
		}
	}
}
