package edged

import (
	"testing"

	"github.com/lmx-video/lmx/hls"
)

func pl(seq uint64, uris ...string) *hls.MediaPlaylist {
	p := &hls.MediaPlaylist{MediaSequence: seq}
	for _, u := range uris {
		p.Segments = append(p.Segments, hls.Segment{URI: u, Duration: 2})
	}
	return p
}

func names(ns []newSegment) (out []string) {
	for _, n := range ns {
		s := n.URI
		if n.Discontinuity {
			s += "!"
		}
		out = append(out, s)
	}
	return out
}

func TestTracker(t *testing.T) {
	var tr tracker
	steps := []struct {
		p    *hls.MediaPlaylist
		want string
	}{
		{pl(0, "a"), "[a!]"},
		{pl(0, "a", "b"), "[b]"},
		{pl(0, "a", "b"), "[]"}, // the same push again takes nothing
		{pl(1, "b", "c", "d"), "[c d]"},
		{pl(5, "f", "g"), "[f! g]"}, // seq 4 never seen: a gap
		{pl(0, "x"), "[x!]"},        // ffmpeg restarted from 0
		{pl(0, "y"), "[y!]"},        // same number, other file: restarted again
		{pl(0, "y", "z"), "[z]"},
	}
	for i, s := range steps {
		got := names(tr.next(s.p))
		if fmtList(got) != s.want {
			t.Fatalf("step %d: got %v, want %s", i, fmtList(got), s.want)
		}
	}
}

func fmtList(s []string) string {
	out := "["
	for i, v := range s {
		if i > 0 {
			out += " "
		}
		out += v
	}
	return out + "]"
}
