package tui

import (
	"fmt"
	"strings"

	"github.com/lmx-video/lmx/api"
)

// feedsHealthy reports whether every feed of a multi-feed source delivers.
func feedsHealthy(s api.Source) bool {
	for _, f := range s.Feeds {
		if !f.Healthy {
			return false
		}
	}
	return true
}

// feedsLine is a multi-feed source's feeds for the status line while it
// is selected: "cam-lobby: feeds gw-a active ✓ · gw-b standby ✗ (fenced) ·
// last switch 10:00:01 gw-a → gw-b: why (500 ms)"; "" for one feed.
func feedsLine(s api.Source) string {
	if len(s.Feeds) < 2 {
		return ""
	}
	parts := make([]string, 0, len(s.Feeds)+1)
	for _, f := range s.Feeds {
		role := "standby"
		if f.Active {
			role = "active"
		}
		mark := "✓"
		if !f.Healthy {
			mark = "✗"
		}
		p := f.Edge + " " + role + " " + mark
		if f.Fenced {
			p += " (fenced)"
		}
		if f.Edge == s.Prefer {
			p += " (preferred)"
		}
		parts = append(parts, p)
	}
	line := s.Name + ": feeds " + strings.Join(parts, " · ")
	if n := len(s.Switches); n > 0 {
		sw := s.Switches[n-1]
		if sw.From != "" {
			line += fmt.Sprintf(" · last switch %s %s → %s: %s", sw.At.Local().Format("15:04:05"), sw.From, sw.To, sw.Detail)
			if sw.LateByMS > 0 {
				line += fmt.Sprintf(" (%d ms)", sw.LateByMS)
			}
		}
	}
	return line
}
