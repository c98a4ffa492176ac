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
	// Discontinuity is true when it does not follow the previous segment.
	Discontinuity bool
	// Data is the segment's bytes.
	Data []byte
}

// ring keeps the recent segments of every source, bounded per source by
// media duration and across sources by bytes. All methods are safe for
// concurrent use.
type ring struct {
	mu       sync.Mutex
	maxAge   time.Duration
	maxBytes int64
	bytes    int64
	sources  map[string][]*segment
}

func newRing(maxAge time.Duration, maxBytes int64) *ring {
	return &ring{maxAge: maxAge, maxBytes: maxBytes, sources: map[string][]*segment{}}
}

// add appends seg to source's buffer and evicts what falls out of the bounds.
func (r *ring) add(source string, seg *segment) {
	r.mu.Lock()
	defer r.mu.Unlock()
	segs := append(r.sources[source], seg)
	r.bytes += int64(len(seg.Data))
	// Duration bound: keep the newest segments covering maxAge.
	var total float64
	cut := 0
	for i := len(segs) - 1; i >= 0; i-- {
		total += segs[i].Duration
		if total > r.maxAge.Seconds() && i < len(segs)-1 {
			cut = i + 1
			break
		}
	}
	for _, s := range segs[:cut] {
		r.bytes -= int64(len(s.Data))
	}
	r.sources[source] = segs[cut:]
	// Byte bound: drop the oldest segment across all sources, but never the
	// one just added.
	for r.bytes > r.maxBytes {
		var oldest string
		var at time.Time
		for name, ss := range r.sources {
			if len(ss) == 0 || (name == source && len(ss) == 1) {
				continue
			}
			if oldest == "" || ss[0].Start.Before(at) {
				oldest, at = name, ss[0].Start
			}
		}
		if oldest == "" {
			break
		}
		r.bytes -= int64(len(r.sources[oldest][0].Data))
		r.sources[oldest][0] = nil
		r.sources[oldest] = r.sources[oldest][1:]
	}
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
