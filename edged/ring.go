package edged

import (
	"sync"
	"time"
)

// segment is one media segment held at the edge.
type segment struct {
	// Seq is the edge's sequence number for the source, rising by one per segment.
	Seq uint64
	// Name is the file name ffmpeg gave it.
	Name string
	// Duration is its length in seconds.
	Duration float64
	// Start is its wall-clock start.
	Start time.Time
	// Discontinuity is true when it does not follow the previous one.
	Discontinuity bool
	// Data is the segment's bytes.
	Data []byte
	// Init is the fMP4 init segment it follows, nil for MPEG-TS. It is
	// not counted in the ring's bytes: one is shared by a whole run.
	Init *initSegment
	// Rendition is the adaptive-bitrate rendition it is of ("" for a
	// source pushed as one playlist), RSeq its number within it and
	// Variant what ffmpeg's multivariant playlist said of the rendition.
	Rendition string
	RSeq      uint64
	Variant   string

	// pending are the recordings that want this segment and have not
	// acknowledged it; a segment with any is kept past the ring's bounds.
	pending map[string]bool
	// acked are the recordings that have it (so a repeated desired state
	// does not send it again).
	acked map[string]bool
}

func (s *segment) end() time.Time {
	return s.Start.Add(time.Duration(s.Duration * float64(time.Second)))
}

// recWindow is a recording as the edge needs it: its id and time range.
type recWindow struct {
	ID    string
	Since time.Time
	Until time.Time // zero while active
}

func (w recWindow) covers(s *segment) bool {
	return s.end().After(w.Since) && (w.Until.IsZero() || s.Start.Before(w.Until))
}

// ring keeps the recent segments of every source, bounded per source by
// media duration and across sources by bytes. A segment a recording still
// waits for is kept beyond those bounds, up to a hard limit of twice the
// byte bound, past which the oldest go even so (and are reported). All
// methods are safe for concurrent use.
type ring struct {
	mu       sync.Mutex
	maxAge   time.Duration
	maxBytes int64
	bytes    int64
	sources  map[string][]*segment
	recs     map[string][]recWindow
}

func newRing(maxAge time.Duration, maxBytes int64) *ring {
	return &ring{maxAge: maxAge, maxBytes: maxBytes, sources: map[string][]*segment{}, recs: map[string][]recWindow{}}
}

// add appends seg to source's buffer, marks the recordings that want it, and
// evicts what falls out of the bounds. It returns segments that recordings
// still wanted but the hard limit forced out.
func (r *ring) add(source string, seg *segment) (lost []*segment) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, w := range r.recs[source] {
		if w.covers(seg) {
			if seg.pending == nil {
				seg.pending = map[string]bool{}
			}
			seg.pending[w.ID] = true
		}
	}
	segs := append(r.sources[source], seg)
	r.bytes += int64(len(seg.Data))
	// Duration bound: drop unpinned segments from the front while the rest
	// still cover maxAge.
	var total float64
	for _, s := range segs {
		total += s.Duration
	}
	cut := 0
	for cut < len(segs)-1 && total-segs[cut].Duration >= r.maxAge.Seconds() && len(segs[cut].pending) == 0 {
		total -= segs[cut].Duration
		r.bytes -= int64(len(segs[cut].Data))
		segs[cut] = nil
		cut++
	}
	r.sources[source] = segs[cut:]
	// Byte bound: drop the oldest unpinned segment across all sources; past
	// twice the bound, the oldest of any kind. Never the one just added.
	for r.bytes > r.maxBytes {
		hard := r.bytes > 2*r.maxBytes
		name, idx := r.oldest(source, seg, hard)
		if name == "" {
			break
		}
		ss := r.sources[name]
		victim := ss[idx]
		if len(victim.pending) > 0 {
			lost = append(lost, victim)
		}
		r.bytes -= int64(len(victim.Data))
		r.sources[name] = append(ss[:idx:idx], ss[idx+1:]...)
	}
	return lost
}

// oldest finds the oldest evictable segment: unpinned unless hard.
func (r *ring) oldest(source string, keep *segment, hard bool) (string, int) {
	var name string
	var idx int
	var at time.Time
	for n, ss := range r.sources {
		for i, s := range ss {
			if s == keep || (!hard && len(s.pending) > 0) {
				continue
			}
			if name == "" || s.Start.Before(at) {
				name, idx, at = n, i, s.Start
			}
			break // segments are in time order: the first candidate is the source's oldest
		}
	}
	return name, idx
}

// setRecordings replaces source's recordings and re-marks its buffered
// segments: those a recording covers and has not acknowledged become pending.
func (r *ring) setRecordings(source string, recs []recWindow) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(recs) == 0 {
		delete(r.recs, source)
	} else {
		r.recs[source] = recs
	}
	ids := map[string]bool{}
	for _, w := range recs {
		ids[w.ID] = true
	}
	for _, s := range r.sources[source] {
		for id := range s.pending {
			if !ids[id] {
				delete(s.pending, id)
			}
		}
		for id := range s.acked {
			if !ids[id] {
				delete(s.acked, id)
			}
		}
		for _, w := range recs {
			if w.covers(s) && !s.acked[w.ID] {
				if s.pending == nil {
					s.pending = map[string]bool{}
				}
				s.pending[w.ID] = true
			}
		}
	}
}

// hasRecordings reports whether source has recordings to feed.
func (r *ring) hasRecordings(source string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.recs[source]) > 0
}

// nextPending returns source's oldest segment a recording waits for, with
// the ids of those recordings.
func (r *ring) nextPending(source string) (*segment, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.sources[source] {
		if len(s.pending) > 0 {
			return s, keys(s.pending)
		}
	}
	return nil, nil
}

// pendingFor returns the recordings waiting for one segment.
func (r *ring) pendingFor(s *segment) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return keys(s.pending)
}

// ack records that the recordings ids have the segment (or never will).
func (r *ring) ack(s *segment, ids []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, id := range ids {
		delete(s.pending, id)
		if s.acked == nil {
			s.acked = map[string]bool{}
		}
		s.acked[id] = true
	}
}

// pendingCount is how many segments of source recordings still wait for.
func (r *ring) pendingCount(source string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, s := range r.sources[source] {
		if len(s.pending) > 0 {
			n++
		}
	}
	return n
}

func keys(m map[string]bool) []string {
	if len(m) == 0 {
		return nil
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// newest returns the newest segment of source, or nil.
func (r *ring) newest(source string) *segment {
	r.mu.Lock()
	defer r.mu.Unlock()
	ss := r.sources[source]
	if len(ss) == 0 {
		return nil
	}
	return ss[len(ss)-1]
}

// seqBefore returns the sequence number just before source's oldest
// buffered segment that ends after t (the newest's when none does), so
// that uploading what follows it sends the media since t.
func (r *ring) seqBefore(source string, t time.Time) uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	ss := r.sources[source]
	if len(ss) == 0 {
		return 0
	}
	for _, s := range ss {
		if s.end().After(t) {
			return s.Seq - 1
		}
	}
	return ss[len(ss)-1].Seq
}

// after returns the oldest segment of source with Seq > seq, or nil.
func (r *ring) after(source string, seq uint64) *segment {
	r.mu.Lock()
	defer r.mu.Unlock()
	ss := r.sources[source]
	// Segments are in Seq order; search from the end because callers are
	// usually close to the newest.
	var found *segment
	for i := len(ss) - 1; i >= 0 && ss[i].Seq > seq; i-- {
		found = ss[i]
	}
	return found
}

// stats summarises source's buffer.
func (r *ring) stats(source string) (segments int, bytes int64, seconds float64, bitrate int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ss := r.sources[source]
	for _, s := range ss {
		bytes += int64(len(s.Data))
		seconds += s.Duration
	}
	// Bitrate over the newest ~30 s, so it follows changes quickly.
	var rb int64
	var rs float64
	for i := len(ss) - 1; i >= 0 && rs < 30; i-- {
		rb += int64(len(ss[i].Data))
		rs += ss[i].Duration
	}
	if rs > 0 {
		bitrate = int64(float64(rb*8) / rs)
	}
	return len(ss), bytes, seconds, bitrate
}

// totalBytes is the memory the buffer holds.
func (r *ring) totalBytes() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.bytes
}
