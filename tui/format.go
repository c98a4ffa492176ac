package tui

import (
	"fmt"
	"net/url"
	"time"

	"github.com/lmx-video/lmx/internal/humanfmt"
)

// The vocabulary shared with the CLI's tables lives in humanfmt.
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

// Formatting for the panels: short, fixed vocabulary, so columns stay narrow
// and read at a glance. It follows the CLI's tables (lmx source ls, lmx edge
// ls) so an operator sees the same words in both.

// staleness is age without "ago", for narrow columns: "2s", "5m".
func staleness(t, now time.Time) string {
	if t.IsZero() {
		return none
	}
	return shortDuration(now.Sub(t))
}

// elapsed is a running length with two units, so it visibly moves every
// second for the first hour: "45s", "4m05s", "1h02m", "3d04h".
func elapsed(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	d = d.Truncate(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", d/time.Second)
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", d/time.Minute, (d%time.Minute)/time.Second)
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh%02dm", d/time.Hour, (d%time.Hour)/time.Minute)
	default:
		return fmt.Sprintf("%dd%02dh", d/(24*time.Hour), (d%(24*time.Hour))/time.Hour)
	}
}

// clock is t as a wall-clock time in loc: "15:04:05" on the day of now,
// "Jan 02 15:04" before.
func clock(t, now time.Time, loc *time.Location) string {
	if t.IsZero() {
		return none
	}
	t, now = t.In(loc), now.In(loc)
	y1, m1, d1 := t.Date()
	y2, m2, d2 := now.Date()
	if y1 == y2 && m1 == m2 && d1 == d2 {
		return t.Format("15:04:05")
	}
	return t.Format("Jan 02 15:04")
}

// tableTime is clock for an 8-cell column: the date alone before today.
func tableTime(t, now time.Time, loc *time.Location) string {
	s := clock(t, now, loc)
	if len(s) > 8 {
		return t.In(loc).Format("Jan 02")
	}
	return s
}

// hostOf is the host:port of a server URL, for a narrow header.
func hostOf(server string) string {
	if u, err := url.Parse(server); err == nil && u.Host != "" {
		return u.Host
	}
	return server
}

// parseSince reads where a recording should start, as typed in the prompt
// (see humanfmt.ParseSince; the CLI's rec start --since reads the same).
func parseSince(s string, now time.Time, loc *time.Location) (time.Time, error) {
	return humanfmt.ParseSince(s, now, loc)
}
