package feeds

import (
	"bytes"
	"slices"
	"time"
)

// offsetSamples is how many recent segments a feed's clock offset is the
// smallest of: one late upload (a retry, a backlog after an outage) does
// not move it, a drifting clock does within a few segments.
const offsetSamples = 16

// feedState is one feed of a source.
type feedState struct {
	edge string
	// offsets are recent (arrival - stated end) gaps: the smallest is the
	// feed's clock offset plus its quickest delivery.
	offsets [offsetSamples]time.Duration
	nOffset int
	// newestEnd is the latest stated end seen (edge clock), lastDur the
	// length of that segment.
	newestEnd time.Time
	lastDur   float64
	lastAt    time.Time
	segments  uint64
	fenced    bool
	// held are its newest segments while it is not active, by start.
	held []Segment
}

// observe notes an upload of the feed.
func (f *feedState) observe(seg Segment) {
	f.offsets[f.nOffset%offsetSamples] = seg.Arrived.Sub(seg.end())
	f.nOffset++
	if end := seg.end(); end.After(f.newestEnd) {
		f.newestEnd, f.lastDur = end, seg.Duration
	}
	f.lastAt = seg.Arrived
	f.segments++
}

// offset is the feed's edge clock → control node clock correction.
func (f *feedState) offset() time.Duration {
	n := min(f.nOffset, offsetSamples)
	if n == 0 {
		return 0
	}
	return slices.Min(f.offsets[:n])
}

// end is where the feed's newest media ends, on the control node's clock.
func (f *feedState) end() time.Time { return f.newestEnd.Add(f.offset()) }

// hold keeps a copy of seg among the feed's newest keep segments.
func (f *feedState) hold(seg Segment, keep int) {
	seg.Data = bytes.Clone(seg.Data)
	seg.Recordings = slices.Clone(seg.Recordings)
	i, found := slices.BinarySearchFunc(f.held, seg, func(a, b Segment) int { return a.Start.Compare(b.Start) })
	if found && f.held[i].Boot == seg.Boot && f.held[i].EdgeSeq == seg.EdgeSeq {
		// The same segment again: sent after a lost answer, or once by
		// the edge's recorder and once by its live upload. What it is for
		// is what both say.
		h := &f.held[i]
		h.Live = h.Live || seg.Live
		for _, id := range seg.Recordings {
			if !slices.Contains(h.Recordings, id) {
				h.Recordings = append(h.Recordings, id)
			}
		}
		return
	}
	f.held = slices.Insert(f.held, i, seg)
	if len(f.held) > keep {
		f.held = slices.Delete(f.held, 0, len(f.held)-keep)
	}
}

// firstAfter is the index of the first held segment that starts no earlier
// than half its length before end (control node clock), or -1.
func (f *feedState) firstAfter(end time.Time) int {
	off := f.offset()
	for i, s := range f.held {
		if !s.Start.Add(off).Before(end.Add(-seconds(s.Duration) / 2)) {
			return i
		}
	}
	return -1
}

// healthy tells whether the feed delivered lately: within two segments and
// a second.
func (f *feedState) healthy(now time.Time) bool {
	if f.lastAt.IsZero() {
		return false
	}
	return now.Sub(f.lastAt) <= 2*seconds(max(f.lastDur, 1))+time.Second
}

func (f *feedState) heldBytes() (n int64) {
	for _, s := range f.held {
		n += int64(len(s.Data))
	}
	return n
}
