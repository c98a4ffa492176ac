package edged

import "github.com/lmx-video/lmx/hls"

// tracker finds the segments of a pushed playlist that the edge has not
// taken yet. ffmpeg re-sends its whole sliding playlist after every segment,
// so the same segment appears in several pushes.
type tracker struct {
	seen    bool
	lastSeq uint64 // ffmpeg's media sequence number of the newest segment taken
	lastURI string
}

// newSegment is a segment to take, with whether it breaks continuity.
type newSegment struct {
	hls.Segment
	// Discontinuity is true when the segment does not follow the last one taken:
	// first push, ffmpeg restarted, or segments were skipped.
	Discontinuity bool
}

// next returns the segments of p newer than those already taken.
func (t *tracker) next(p *hls.MediaPlaylist) []newSegment {
	n := len(p.Segments)
	if n == 0 {
		return nil
	}
	last := p.MediaSequence + uint64(n-1)
	restart := false
	if t.seen {
		switch {
		case last < t.lastSeq:
			restart = true // ffmpeg started again from a lower sequence
		case t.lastSeq >= p.MediaSequence && p.Segments[t.lastSeq-p.MediaSequence].URI != t.lastURI:
			restart = true // same number, another file: a new ffmpeg run
		}
	}
	var out []newSegment
	for i, s := range p.Segments {
		seq := p.MediaSequence + uint64(i)
		if t.seen && !restart && seq <= t.lastSeq {
			continue
		}
		disc := s.Discontinuity
		if len(out) == 0 {
			// The first new segment breaks continuity unless it directly follows
			// the last one taken from the same ffmpeg run.
			disc = disc || !t.seen || restart || seq != t.lastSeq+1
		}
		out = append(out, newSegment{Segment: s, Discontinuity: disc})
	}
	t.seen, t.lastSeq, t.lastURI = true, last, p.Segments[n-1].URI
	return out
}
