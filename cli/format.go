package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lmx-video/lmx/api"
)

// Formatting for tables and details: short, fixed vocabulary, so columns stay
// narrow and operators learn to read them at a glance.

// none is what a cell shows when there is nothing to show.
const none = "-"

// shortDuration rounds d down to its largest unit: "45s", "5m", "2h", "3d".
// Tables only need the order of magnitude.
func shortDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + "s"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + "m"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + "h"
	default:
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	}
}

// age says how long before now t was, as "2s ago", or "-" when t is unset.
// A t slightly in the future (clocks of two machines) reads "0s ago".
func age(t, now time.Time) string {
	if t.IsZero() {
		return none
	}
	return shortDuration(now.Sub(t)) + " ago"
}

// bitrate formats bits per second in SI units, "1.2 Mbit/s", or "-" for none.
// One decimal below 10 of a unit, none above: enough to compare streams.
func bitrate(bps int64) string {
	if bps <= 0 {
		return none
	}
	return siUnits(float64(bps), 1000, []string{"bit/s", "kbit/s", "Mbit/s", "Gbit/s"})
}

// byteSize formats a byte count in binary units, "1.5 MiB".
func byteSize(n int64) string {
	if n < 0 {
		n = 0
	}
	return siUnits(float64(n), 1024, []string{"B", "KiB", "MiB", "GiB", "TiB"})
}

func siUnits(v, base float64, units []string) string {
	i := 0
	for v >= base && i < len(units)-1 {
		v /= base
		i++
	}
	switch {
	case i == 0:
		return fmt.Sprintf("%.0f %s", v, units[i])
	case v < 9.95:
		return fmt.Sprintf("%.1f %s", v, units[i])
	default:
		return fmt.Sprintf("%.0f %s", v, units[i])
	}
}

// shortID is the first 8 characters of an id: enough to tell sources apart
// in a table, and a prefix the full id can be found by.
func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return orNone(id)
}

// orNone is s, or "-" when s is empty, so a table never has a blank cell.
func orNone(s string) string {
	if strings.TrimSpace(s) == "" {
		return none
	}
	return s
}

// timestamp is t in local time with its age, for detail views.
func timestamp(t, now time.Time) string {
	if t.IsZero() {
		return none
	}
	return t.Local().Format("2006-01-02 15:04:05") + " (" + age(t, now) + ")"
}

// sourceEdge is the edge that pushes s. lmx fills Edge; a LiveMix server only
// RRTarget.
func sourceEdge(s api.Source) string {
	if s.Edge != "" {
		return s.Edge
	}
	return s.RRTarget
}

// streamingState says whether a source streams: "on" or "off" as asked for,
// with "(pending)" while its edge has not yet confirmed that state.
func streamingState(s api.Source) string {
	state := "off"
	if s.IsStreaming() {
		state = "on"
	}
	if s.IsStreaming() != s.EdgeStreaming {
		state += " (pending)"
	}
	return state
}

// edgeState is "online 5m" (since the edge process started, else since first
// seen) or "offline 2h" (since last seen).
func edgeState(e api.Edge, now time.Time) string {
	if e.Online {
		since := e.StartedAt
		if since.IsZero() {
			since = e.FirstSeen
		}
		if since.IsZero() {
			return "online"
		}
		return "online " + shortDuration(now.Sub(since))
	}
	if e.LastSeen.IsZero() {
		return "offline"
	}
	return "offline " + shortDuration(now.Sub(e.LastSeen))
}

// edgeLabel is an edge name with "(offline)" when the edge is not connected,
// or "-" when the source has no edge yet.
func edgeLabel(s api.Source) string {
	name := sourceEdge(s)
	switch {
	case name == "":
		return none
	case !s.EdgeOnline:
		return name + " (offline)"
	default:
		return name
	}
}
