package live

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lmx-video/lmx/hls"
)

// Arrival is what the uploading edge says of a segment.
type Arrival struct {
	// Edge, Boot and EdgeSeq name the segment in its edge's run.
	Edge, Boot string
	EdgeSeq    uint64
	// Duration is its length in seconds.
	Duration float64
	// Start is its wall-clock start.
	Start time.Time
	// Discontinuity is the edge's flag: the media does not follow the
	// previous segment.
	Discontinuity bool
	// Init is the id of the fMP4 init segment the segment follows (held
	// with PutInit before), "" for MPEG-TS.
	Init string
	// Rendition is the adaptive-bitrate rendition the segment is of (""
	// for a source of one), RenditionSeq its number within it in the
	// edge's run, Variant what ffmpeg's multivariant playlist said of the
	// rendition (zero when it said nothing).
	Rendition    string
	RenditionSeq uint64
	Variant      Variant
}

// runSeq is the number continuity is judged by: the rendition's own for a
// rendition's segment, else the edge's.
func (a Arrival) runSeq() uint64 {
	if a.Rendition != "" {
		return a.RenditionSeq
	}
	return a.EdgeSeq
}

// Stream is one source's live window and the segments it holds.
type Stream struct {
	// SourceID and Name identify the source.
	SourceID, Name string
	// Rendition is the adaptive-bitrate rendition the window lists (""
	// for a source of one).
	Rendition string

	reg          *Registry
	window       *hls.LiveWindow
	cacheControl []byte
	views        viewCounter
	// held is what players may fetch, replaced whole on every change so a
	// request finds its segment without a lock.
	held atomic.Pointer[heldSet]

	mu      sync.Mutex // serialises appends and releases
	closed  bool       // Close released the window: it takes no more segments
	nextSeq uint64
	listed  int // how many of the newest held segments the window lists
	edge    string
	boot    string
	edgeSeq uint64
	lastAt  time.Time
	// recent are the newest segments' times and sizes, for a rendition's
	// bandwidth and for lining up a sibling rendition's numbers.
	recent []recentSegment
	// variant is what ffmpeg said of the rendition, probed what one of its
	// first segments showed (read without a lock), probes how many were
	// tried.
	variant atomic.Pointer[Variant]
	probed  atomic.Pointer[Variant]
	probes  int
}

// heldSet is a run of held segments with consecutive sequence numbers.
type heldSet struct {
	first uint64
	segs  []*Segment
}

// Playlist is the rendered live playlist, nil before the first segment. It
// is immutable: hand it out without a copy.
func (ls *Stream) Playlist() []byte { return ls.window.Playlist() }

// CacheControl is the playlist's Cache-Control value (immutable).
func (ls *Stream) CacheControl() []byte { return ls.cacheControl }

// Segment returns a held segment by media sequence number.
func (ls *Stream) Segment(seq uint64) (*Segment, bool) {
	h := ls.held.Load()
	if seq < h.first || seq-h.first >= uint64(len(h.segs)) {
		return nil, false
	}
	return h.segs[seq-h.first], true
}

// Viewed counts a playlist request at now.
func (ls *Stream) Viewed(now time.Time) { ls.views.hit(now) }

// Stats are what the management API shows of a window.
type Stats struct {
	// LastSegmentAt is when the newest segment arrived.
	LastSegmentAt time.Time
	// Listed is how many segments the playlist lists.
	Listed int
	// PlaylistRequestsPerMin is the last full minute's playlist requests.
	PlaylistRequestsPerMin int64
}

// Stats reports the window's state.
func (ls *Stream) Stats(now time.Time) Stats {
	ls.mu.Lock()
	last := ls.lastAt
	ls.mu.Unlock()
	return Stats{LastSegmentAt: last, Listed: ls.window.Len(), PlaylistRequestsPerMin: ls.views.perMinute(now)}
}

// append stores data and lists it. A discontinuity is marked when the edge
// flags one, or the uploading edge, its run or its sequence continuity
// changes.
func (ls *Stream) append(a Arrival, data []byte) (uint64, error) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	// An upload that found the window just before Close: what it added
	// would never be released.
	if ls.closed {
		return 0, ErrStreamingOff
	}
	if !ls.lastAt.IsZero() && a.Edge == ls.edge && a.Boot == ls.boot && a.runSeq() <= ls.edgeSeq {
		// A re-sent upload would be listed twice, with a discontinuity.
		return 0, ErrAlreadyListed
	}
	if err := ls.reg.reserve(ls, int64(len(data))); err != nil {
		return 0, err
	}
	mem, err := newMemory(data, ls.reg.useMemfd)
	if err != nil {
		ls.reg.heldBytes.Add(-int64(len(data)))
		return 0, err
	}
	ls.reg.account(0, 1)
	seq := ls.nextSeq
	seg := &Segment{Seq: seq, Size: int64(len(data)), Init: a.Init, mem: mem}
	old := ls.held.Load()
	next := &heldSet{first: old.first, segs: append(old.segs[:len(old.segs):len(old.segs)], seg)}
	if len(old.segs) == 0 {
		next.first = seq
	}
	ls.held.Store(next)
	// Listed only now that its bytes are all held.
	disc := a.Discontinuity || a.Edge != ls.edge || a.Boot != ls.boot || a.runSeq() != ls.edgeSeq+1
	evicted := ls.window.Append(hls.LiveSegment{
		URI:             strconv.FormatUint(seq, 10) + segmentExt(a.Init),
		Map:             initURI(a.Init),
		Duration:        a.Duration,
		Discontinuity:   disc && ls.edge != "",
		ProgramDateTime: a.Start,
		Bytes:           int64(len(data)),
	})
	ls.listed = ls.listed + 1 - len(evicted)
	ls.nextSeq++
	ls.edge, ls.boot, ls.edgeSeq, ls.lastAt = a.Edge, a.Boot, a.runSeq(), time.Now()
	ls.noteRecentLocked(seq, a, int64(len(data)))
	ls.probeLocked(a, data)
	// Segments that slid out stay for as many again, for players that
	// fetched the playlist just before the slide.
	ls.trimTailLocked(max(ls.reg.cfg.Segments, ls.listed))
	return seq, nil
}

// trimTailLocked releases slid-out segments beyond keep; ls.mu is held.
func (ls *Stream) trimTailLocked(keep int) {
	h := ls.held.Load()
	tail := len(h.segs) - ls.listed
	drop := tail - keep
	if drop <= 0 {
		return
	}
	gone := h.segs[:drop]
	ls.held.Store(&heldSet{first: h.first + uint64(drop), segs: h.segs[drop:]})
	var bytes int64
	for _, s := range gone {
		bytes += s.Size
		s.release()
	}
	ls.reg.account(-bytes, -int64(drop))
}

// releaseAll frees every held segment (the window is gone), refuses any
// later append, and returns the next sequence number the window would
// have used.
func (ls *Stream) releaseAll() uint64 {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	ls.closed = true
	h := ls.held.Load()
	ls.held.Store(&heldSet{first: ls.nextSeq})
	ls.listed = 0
	var bytes int64
	for _, s := range h.segs {
		bytes += s.Size
		s.release()
	}
	ls.reg.account(-bytes, -int64(len(h.segs)))
	return ls.nextSeq
}
