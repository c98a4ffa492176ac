// Package live holds the live window of every streaming source: the
// playlist, rendered once per new segment, and the segments it lists, kept
// in memory outside the replay cache so that a segment a playlist lists is
// always servable until it leaves the window (and a while after, for
// players that fetched the playlist just before).
//
// Memory is bounded: a window holds its listed segments plus as many that
// slid out, so at most sources × 2 × live segments × the largest segment;
// Config.MemoryLimit caps the total. Past the cap, segments that slid out
// go first; a new segment that would still not fit is refused with
// ErrMemoryFull, which the caller reports loudly.
package live

import (
	"errors"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lmx-video/lmx/hls"
)

// Errors of the live registry.
var (
	// ErrStreamingOff means the window was closed (streaming turned off)
	// while an upload was on its way.
	ErrStreamingOff = errors.New("streaming was turned off")
	// ErrMemoryFull means the live windows' memory limit is reached by
	// segments that are all still listed.
	ErrMemoryFull = errors.New("live memory limit reached by listed segments")
	// ErrGone means a segment left the window and its memory was released.
	ErrGone = errors.New("segment has left the live window")
	// ErrAlreadyListed means the edge sent a segment of its run again (its
	// answer was lost): the window has it, or newer, already.
	ErrAlreadyListed = errors.New("segment already listed")
)

// Config bounds the live windows.
type Config struct {
	// Segments is how many segments a playlist lists (at least three
	// target durations are always covered).
	Segments int
	// MemoryLimit caps the bytes of segments held across all windows.
	MemoryLimit int64
}

// Gauges are the series the registry keeps current.
type Gauges struct {
	// Bytes is the memory held by segments.
	Bytes prometheus.Gauge
	// Segments is how many segments are held.
	Segments prometheus.Gauge
}

// Registry is every source's live window.
type Registry struct {
	cfg      Config
	gauges   Gauges
	logger   *slog.Logger
	useMemfd bool

	heldBytes atomic.Int64
	heldSegs  atomic.Int64

	mu      sync.RWMutex
	streams map[string]*Stream // by source id
	byName  map[string]*Stream
	off     map[string]bool // sources whose streaming was turned off
	// renditionsOf are the windows of named renditions, by source id and
	// rendition.
	renditionsOf map[string]map[string]*Stream
	// renditionSource is the id of a source with rendition windows, by name.
	renditionSource map[string]string
	// floor is above every sequence number a closed window used, so a
	// window reopened within the same millisecond never reuses one.
	floor uint64

	// inits are the fMP4 init segments of each source (see init.go).
	inits initStore
}

// New returns an empty registry. It keeps segments in memfds where the
// kernel allows, else on the heap (and says so).
func New(cfg Config, gauges Gauges, logger *slog.Logger) *Registry {
	r := &Registry{cfg: cfg, gauges: gauges, logger: logger, streams: map[string]*Stream{}, byName: map[string]*Stream{}, off: map[string]bool{},
		renditionsOf: map[string]map[string]*Stream{}, renditionSource: map[string]string{}}
	if err := memfdWorks(); err != nil {
		logger.Info("live segments kept on the heap, served with a copy", "reason", err)
	} else {
		r.useMemfd = true
	}
	return r
}

// Get returns the live stream of a source by id or name.
func (r *Registry) Get(idOrName string) (*Stream, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if ls, ok := r.streams[idOrName]; ok {
		return ls, true
	}
	ls, ok := r.byName[idOrName]
	return ls, ok
}

// open returns the source's live stream, starting one when there is none,
// or nil when streaming was turned off meanwhile (an upload that raced the
// switch must not bring the window back).
//
// A new window's media sequence starts at the current Unix time in
// milliseconds and rises by one per segment: a window would need a thousand
// segments a second to run ahead of the clock, so numbers after a restart of
// the control node or a quick off/on are higher than any served before,
// segment URIs are never reused, and players that kept the old playlist
// never see the sequence go back. (The numbers stay below 2^53, so
// JavaScript players read them exactly.)
func (r *Registry) open(id, name, rendition string, target int, start time.Time, duration float64) *Stream {
	key := streamKey(id, rendition)
	r.mu.RLock()
	ls, ok := r.streams[key]
	var sibs []*Stream
	for name, sib := range r.renditionsOf[id] {
		if name != rendition {
			sibs = append(sibs, sib)
		}
	}
	r.mu.RUnlock()
	if ok {
		return ls
	}
	// Lined up with a sibling rendition (see rendition.go), found without
	// r.mu: an appending window takes its own lock, then r.mu.
	aligned, hasSib := firstSeqOf(sibs, start, duration)
	r.mu.Lock()
	defer r.mu.Unlock()
	if ls, ok := r.streams[key]; ok {
		return ls
	}
	if r.off[id] {
		return nil
	}
	first := max(uint64(time.Now().UnixMilli()), r.floor)
	if hasSib {
		first = aligned
	}
	ls = &Stream{
		SourceID:  id,
		Name:      name,
		Rendition: rendition,
		reg:       r,
		nextSeq:   first,
		window:    hls.NewLiveWindow(hls.LiveConfig{Size: r.cfg.Segments, TargetDuration: target, FirstSequence: first}),
		// RFC 8216 6.2.1 asks clients to reload about once per target
		// duration; a cache must not serve an older playlist for longer
		// than half of one. The target never changes for a window.
		cacheControl: []byte("max-age=" + strconv.Itoa(max(target/2, 0))),
	}
	ls.held.Store(&heldSet{first: first})
	r.streams[key] = ls
	r.byName[streamKey(name, rendition)] = ls
	if rendition != "" {
		if r.renditionsOf[id] == nil {
			r.renditionsOf[id] = map[string]*Stream{}
		}
		r.renditionsOf[id][rendition] = ls
		r.renditionSource[name] = id
	}
	return ls
}

// Allow lets a source's live window open again (streaming turned on).
func (r *Registry) Allow(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.off, id)
}

// Close drops a source's live window (streaming turned off or source
// removed), releases its segments and keeps it closed until Allow.
func (r *Registry) Close(id string) {
	r.mu.Lock()
	r.off[id] = true
	var gone []*Stream
	if ls, ok := r.streams[id]; ok {
		gone = append(gone, ls)
	}
	for _, ls := range r.renditionsOf[id] {
		gone = append(gone, ls)
	}
	delete(r.renditionsOf, id)
	for _, ls := range gone {
		delete(r.renditionSource, ls.Name)
		delete(r.byName, streamKey(ls.Name, ls.Rendition))
		delete(r.streams, streamKey(id, ls.Rendition))
	}
	r.mu.Unlock()
	for _, ls := range gone {
		next := ls.releaseAll()
		r.mu.Lock()
		r.floor = max(r.floor, next)
		r.mu.Unlock()
	}
}

// Append caches a segment of source id (named name, configured segment
// length segmentLen) and then lists it in its live window, returning its
// media sequence number.
func (r *Registry) Append(id, name string, segmentLen int, a Arrival, data []byte) (uint64, error) {
	ls := r.open(id, name, a.Rendition, TargetHint(segmentLen, a.Duration), a.Start, a.Duration)
	if ls == nil {
		return 0, ErrStreamingOff
	}
	return ls.append(a, data)
}

// Held is the memory and the number of segments the windows hold now.
func (r *Registry) Held() (bytes, segments int64) { return r.heldBytes.Load(), r.heldSegs.Load() }

// reserve accounts for n more bytes, making room by releasing segments that
// slid out of windows (the appending stream's first, then others'), or
// fails with ErrMemoryFull. The caller holds self.mu.
func (r *Registry) reserve(self *Stream, n int64) error {
	if r.heldBytes.Add(n) <= r.cfg.MemoryLimit {
		return nil
	}
	self.trimTailLocked(0)
	if r.heldBytes.Load() <= r.cfg.MemoryLimit {
		return nil
	}
	r.mu.RLock()
	others := make([]*Stream, 0, len(r.streams))
	for _, ls := range r.streams {
		if ls != self {
			others = append(others, ls)
		}
	}
	r.mu.RUnlock()
	for _, ls := range others {
		// Another stream may be appending and trimming for itself; its
		// tail is then someone else's job, never a lock-order deadlock.
		if ls.mu.TryLock() {
			ls.trimTailLocked(0)
			ls.mu.Unlock()
		}
		if r.heldBytes.Load() <= r.cfg.MemoryLimit {
			return nil
		}
	}
	r.heldBytes.Add(-n)
	return ErrMemoryFull
}

func (r *Registry) account(bytes, segs int64) {
	b, s := r.heldBytes.Add(bytes), r.heldSegs.Add(segs)
	if r.gauges.Bytes != nil {
		r.gauges.Bytes.Set(float64(b))
		r.gauges.Segments.Set(float64(s))
	}
}

// TargetHint is the target duration a new window starts with: the source's
// configured segment length or the first segment's, whichever is longer.
func TargetHint(segmentLen int, firstDuration float64) int {
	return max(segmentLen, int(math.Ceil(firstDuration-0.001)), 1)
}
