// Package humanfmt is how lmx writes numbers and times for people, and reads
// the times they type: short, fixed vocabulary, shared by the CLI's tables and
// the dashboard so an operator sees the same words in both.
package humanfmt

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lmx-video/lmx/api"
)

// None is what a cell shows when there is nothing to show.
const None = "-"

// ShortDuration rounds d down to its largest unit: "45s", "5m", "2h", "3d".
// Tables only need the order of magnitude.
func ShortDuration(d time.Duration) string {
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

// Age says how long before now t was, as "2s ago", or "-" when t is unset.
// A t slightly in the future (clocks of two machines) reads "0s ago".
func Age(t, now time.Time) string {
	if t.IsZero() {
		return None
	}
	return ShortDuration(now.Sub(t)) + " ago"
}

// Bitrate formats bits per second in SI units, "1.2 Mbit/s", or "-" for None.
// One decimal below 10 of a unit, None above: enough to compare streams.
func Bitrate(bps int64) string {
	if bps <= 0 {
		return None
	}
	return siUnits(float64(bps), 1000, []string{"bit/s", "kbit/s", "Mbit/s", "Gbit/s"})
}

// ByteSize formats a byte count in binary units, "1.5 MiB".
func ByteSize(n int64) string {
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

// ShortID is the first 8 characters of an id: enough to tell sources apart
// in a table, and a prefix the full id can be found by.
func ShortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return OrNone(id)
}

// OrNone is s, or "-" when s is empty, so a table never has a blank cell.
func OrNone(s string) string {
	if strings.TrimSpace(s) == "" {
		return None
	}
	return s
}

// SourceEdge is the edge that pushes s (the active feed of a source fed by
// several). lmx fills Edge; a LiveMix server only
// RRTarget.
func SourceEdge(s api.Source) string {
	// A source fed by several edges is its active feed's.
	for _, f := range s.Feeds {
		if f.Active {
			return f.Edge
		}
	}
	if s.Edge != "" {
		return s.Edge
	}
	return s.RRTarget
}

// EdgeState is "online 5m" (since the edge process started, else since first
// seen) or "offline 2h" (since last seen).
func EdgeState(e api.Edge, now time.Time) string {
	if e.Online {
		since := e.StartedAt
		if since.IsZero() {
			since = e.FirstSeen
		}
		if since.IsZero() {
			return "online"
		}
		return "online " + ShortDuration(now.Sub(since))
	}
	if e.LastSeen.IsZero() {
		return "offline"
	}
	return "offline " + ShortDuration(now.Sub(e.LastSeen))
}
