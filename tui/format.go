package tui

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/lmx-video/lmx/api"
)

// Formatting for the panels: short, fixed vocabulary, so columns stay narrow
// and read at a glance. It follows the CLI's tables (lmx source ls, lmx edge
// ls) so an operator sees the same words in both.

// none is what a cell shows when there is nothing to show.
const none = "-"

// shortDuration rounds d down to its largest unit: "45s", "5m", "2h", "3d".
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
// A t slightly in the future (two machines' clocks) reads "0s ago".
func age(t, now time.Time) string {
	if t.IsZero() {
		return none
	}
	return shortDuration(now.Sub(t)) + " ago"
}

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

// bitrate formats bits per second in SI units, "1.2 Mbit/s", or "-" for none.
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

// shortID is the first 8 characters of an id, as the CLI prints them.
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

// sourceEdge is the edge that pushes s: lmx fills Edge, a LiveMix server
// only RRTarget.
func sourceEdge(s api.Source) string {
	if s.Edge != "" {
		return s.Edge
	}
	return s.RRTarget
}

// hostOf is the host:port of a server URL, for a narrow header.
func hostOf(server string) string {
	if u, err := url.Parse(server); err == nil && u.Host != "" {
		return u.Host
	}
	return server
}

// minEpoch is the smallest number parseSince takes as epoch seconds
// (2001-09-09). Anything smaller is almost surely a duration missing its
// unit ("30" for "30s"), and is refused with a hint.
const minEpoch = 1_000_000_000

// parseSince reads where a recording should start, as an operator types it
// in the prompt, relative to now:
//
//	""  "now"  "0"            now (the server's clock decides)
//	-30s, -2m, -1h30m          that long before now
//	30s, 10m                   the same: a start can only lie in the past
//	2026-11-23T10:00:00Z       an RFC 3339 time
//	2026-11-23 10:00:00        local time (loc), as the panels print dates
//	1795428000                 Unix epoch seconds
//
// It returns the zero time for "now" so the caller sends start_time_epoch 0
// and the server picks now by its own clock. A time after now is an error.
//
// The CLI has its own parser (rec start --since); this one is kept local so
// the TUI does not depend on the command package.
func parseSince(s string, now time.Time, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "now") {
		return time.Time{}, nil
	}
	if isDigits(s) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("%s is too large for epoch seconds", s)
		}
		if n == 0 {
			return time.Time{}, nil
		}
		if n < minEpoch {
			return time.Time{}, fmt.Errorf("%s as epoch seconds is %s: for %s seconds ago type -%ss",
				s, time.Unix(n, 0).UTC().Format(time.RFC3339), s, s)
		}
		return notFuture(s, time.Unix(n, 0), now)
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d > 0 && strings.HasPrefix(s, "+") {
			return time.Time{}, fmt.Errorf("%s is in the future: a duration counts back from now, type -%s", s, s[1:])
		}
		if d < 0 {
			d = -d
		}
		if d == 0 {
			return time.Time{}, nil
		}
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return notFuture(s, t, now)
	}
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return notFuture(s, t, now)
		}
	}
	return time.Time{}, errors.New("not a time: type -30s, 10m, an RFC 3339 time, epoch seconds or now")
}

func notFuture(s string, t, now time.Time) (time.Time, error) {
	if t.After(now) {
		return time.Time{}, fmt.Errorf("%s is in the future: a recording starts now or earlier", s)
	}
	return t, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
