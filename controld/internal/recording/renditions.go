package recording

import (
	"slices"
	"strconv"
	"strings"

	"github.com/lmx-video/lmx/sqlstore"
)

// Track is what one playlist of a recording plays: the segments of one
// rendition, in seq order.
type Track struct {
	// Rendition names it: "" for a recording of a source pushed as one
	// media playlist, else the rendition's name.
	Rendition string
	// Segments are its segments. In a recording of several renditions
	// they are the rendition's own and those recorded while the source
	// had no renditions (Rendition ""), which every rendition plays.
	Segments []sqlstore.RecordedSegment
}

// Renditions are the names of the renditions segs are of ("" left out),
// in rendition order (compareRenditions).
func Renditions(segs []sqlstore.RecordedSegment) []string {
	var out []string
	for _, s := range segs {
		if s.Rendition != "" && !slices.Contains(out, s.Rendition) {
			out = append(out, s.Rendition)
		}
	}
	slices.SortFunc(out, compareRenditions)
	return out
}

// Tracks splits a recording's segments (in seq order) into what its
// playlists play: one track per rendition when there are two or more,
// replayed as a multivariant playlist; else one track of all of them,
// replayed as one media playlist, as a recording of a source without
// renditions always was.
func Tracks(segs []sqlstore.RecordedSegment) []Track {
	names := Renditions(segs)
	if len(names) < 2 {
		t := Track{Segments: segs}
		if len(names) == 1 {
			t.Rendition = names[0]
		}
		return []Track{t}
	}
	out := make([]Track, len(names))
	for i, n := range names {
		out[i].Rendition = n
	}
	for _, s := range segs {
		for i := range out {
			if s.Rendition == "" || s.Rendition == out[i].Rendition {
				out[i].Segments = append(out[i].Segments, s)
			}
		}
	}
	return out
}

// trackOf is the track of tracks named rendition.
func trackOf(tracks []Track, rendition string) (Track, bool) {
	for _, t := range tracks {
		if t.Rendition == rendition && rendition != "" {
			return t, true
		}
	}
	return Track{}, false
}

// compareRenditions orders rendition names as ffmpeg numbers them: names
// of digits by their number ("2" before "10"), before any other name;
// other names as strings.
func compareRenditions(a, b string) int {
	na, errA := strconv.ParseUint(a, 10, 64)
	nb, errB := strconv.ParseUint(b, 10, 64)
	switch {
	case errA == nil && errB == nil && na != nb:
		if na < nb {
			return -1
		}
		return 1
	case errA == nil && errB != nil:
		return -1
	case errA != nil && errB == nil:
		return 1
	}
	return strings.Compare(a, b)
}

// Bandwidth is a track's bit rates, as a multivariant playlist states
// them (RFC 8216 4.3.4.2): Peak is the highest of its segments' bytes*8
// over their duration, Average all its bytes*8 over all its duration, in
// bits per second rounded up. Segments without duration count in neither.
func Bandwidth(segs []sqlstore.RecordedSegment) (peak, average int64) {
	var bits, seconds float64
	for _, s := range segs {
		if s.Duration <= 0 {
			continue
		}
		b := float64(s.Bytes) * 8
		peak = max(peak, ceilBits(b/s.Duration))
		bits += b
		seconds += s.Duration
	}
	if seconds > 0 {
		average = ceilBits(bits / seconds)
	}
	return peak, average
}

func ceilBits(f float64) int64 {
	n := int64(f)
	if float64(n) < f {
		n++
	}
	return n
}
