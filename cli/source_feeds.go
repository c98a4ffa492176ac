package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/lmx-video/lmx/api"
)

// activeFeed is a multi-feed source's active feed ("" for none, or one feed).
func activeFeed(s api.Source) string {
	for _, f := range s.Feeds {
		if f.Active {
			return f.Edge
		}
	}
	return ""
}

// feedRows are a multi-feed source's detail lines: each feed with its role
// and health, the preferred one, and the last switches, newest first.
func feedRows(s api.Source, now time.Time) [][2]string {
	if len(s.Feeds) == 0 {
		return nil
	}
	var rows [][2]string
	for i, f := range s.Feeds {
		label := ""
		if i == 0 {
			label = "Feeds"
		}
		rows = append(rows, [2]string{label, feedLine(f, s.Prefer, now)})
	}
	for i := len(s.Switches) - 1; i >= 0 && len(s.Switches)-i <= 5; i-- {
		label := ""
		if i == len(s.Switches)-1 {
			label = "Switches"
		}
		rows = append(rows, [2]string{label, switchLine(s.Switches[i], now)})
	}
	return rows
}

// feedLine is one feed: "cam-gw-1  active, healthy, online, preferred,
// 4 held, last segment 1s ago".
func feedLine(f api.Feed, prefer string, now time.Time) string {
	role := "standby"
	switch {
	case f.Active:
		role = "active"
	case f.Fenced:
		role = "standby (fenced: failed over from; listed again on the next failure or --prefer)"
	}
	parts := []string{role}
	switch {
	case f.LastSegmentAt.IsZero():
		parts = append(parts, "no segment yet")
	case f.Healthy:
		parts = append(parts, "healthy")
	default:
		parts = append(parts, "stalled")
	}
	if f.EdgeOnline {
		parts = append(parts, "online")
	} else {
		parts = append(parts, "offline")
	}
	if f.Edge == prefer {
		parts = append(parts, "preferred")
	}
	if !f.LastSegmentAt.IsZero() {
		parts = append(parts, "last segment "+age(f.LastSegmentAt, now))
	}
	return f.Edge + "  " + strings.Join(parts, ", ")
}

// switchLine is one switch: "12:00:01 (3s ago) cam-gw-1 → cam-gw-2: why".
func switchLine(sw api.FeedSwitch, now time.Time) string {
	from := sw.From
	if from == "" {
		from = none
	}
	line := fmt.Sprintf("%s %s → %s: %s", timestamp(sw.At, now), from, sw.To, sw.Detail)
	if sw.Reason == "missed" {
		line += fmt.Sprintf(" (listed %d ms after it was due", sw.LateByMS)
		if sw.Listed > 0 {
			line += fmt.Sprintf(", %d held segment(s) at once", sw.Listed)
		}
		line += ")"
	}
	return line
}
