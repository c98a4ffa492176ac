package cli

import (
	"fmt"
	"time"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/internal/humanfmt"
)

// Formatting for tables and details: short, fixed vocabulary, so columns stay
// narrow and operators learn to read them at a glance.

// The shared vocabulary lives in humanfmt, so the dashboard says the same.
const none = humanfmt.None

var (
	shortDuration = humanfmt.ShortDuration
	age           = humanfmt.Age
	bitrate       = humanfmt.Bitrate
	byteSize      = humanfmt.ByteSize
	shortID       = humanfmt.ShortID
	orNone        = humanfmt.OrNone
	sourceEdge    = humanfmt.SourceEdge
	edgeState     = humanfmt.EdgeState
)

// timestamp is t in local time with its age, for detail views.
func timestamp(t, now time.Time) string {
	if t.IsZero() {
		return none
	}
	return t.Local().Format("2006-01-02 15:04:05") + " (" + age(t, now) + ")"
}

// streamingState says whether a source streams: "on" or "off" as asked for,
// with "(pending)" while its edge has not yet confirmed that state.
func streamingState(s api.Source) string {
	state := "off"
	if s.IsStreaming() {
		state = "on"
	}
	// An on-demand source's edge uploads only while it is awake.
	want := s.IsStreaming()
	if want && s.OnDemand {
		want = s.Awake
		state = "on demand: asleep"
		if s.Awake {
			state = "on demand: awake"
		}
	}
	if want != s.EdgeStreaming {
		state += " (pending)"
	}
	return state
}

// edgeLabel is an edge name with "(offline)" when the edge is not connected,
// or "-" when the source has no edge yet.
func edgeLabel(s api.Source) string {
	name := sourceEdge(s)
	more := ""
	if len(s.Feeds) > 1 {
		// A multi-feed source shows its active feed and how many others.
		if a := activeFeed(s); a != "" {
			name = a
		}
		more = fmt.Sprintf(" +%d", len(s.Feeds)-1)
	}
	switch {
	case name == "":
		return none
	case !s.EdgeOnline:
		return name + more + " (offline)"
	default:
		return name + more
	}
}
