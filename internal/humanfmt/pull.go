package humanfmt

import (
	"strconv"
	"strings"

	"github.com/lmx-video/lmx/api"
)

// PullState is a pulled source's ffmpeg in a word or two, the same in the
// CLI's tables and the dashboard: "running", "backoff ×3", "refused",
// "starting", "stopped"; "pending" until the edge reports it, and None for
// a pushed source.
func PullState(s api.Source) string {
	if s.PullURL == "" {
		return None
	}
	p := s.Pull
	if p == nil || p.State == "" {
		return "pending"
	}
	out := p.State
	if p.State == api.PullBackoff && p.Restarts > 0 {
		out += " ×" + strconv.Itoa(p.Restarts)
	}
	return out
}

// PullCodecs is what a pulled camera sends, "h264/aac", "h264" (no audio,
// or audio dropped), or None before the edge knows.
func PullCodecs(p *api.PullState) string {
	if p == nil || p.Video == "" && p.Audio == "" {
		return None
	}
	var parts []string
	for _, c := range []string{p.Video, p.Audio} {
		if c != "" {
			parts = append(parts, c)
		}
	}
	return strings.Join(parts, "/")
}
