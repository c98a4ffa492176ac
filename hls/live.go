package hls

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultLiveSize is the number of segments a LiveWindow lists when
// LiveConfig.Size is not set; it matches ffmpeg's -hls_list_size 5.
const DefaultLiveSize = 5

// MaxLiveSegments bounds how many segments a LiveWindow keeps, whatever
// the three-target-duration rule asks. Only zero or near-zero durations can
// reach it, and without it they would grow the window without end.
const MaxLiveSegments = 1024

// LiveConfig configures a LiveWindow.
type LiveConfig struct {
	// Size is the minimum number of segments listed (DefaultLiveSize when
	// <= 0, at most MaxLiveSegments). More are listed when needed to cover
	// three target durations.
	Size int
	// TargetDuration is EXT-X-TARGETDURATION in seconds. 0 derives it from
	// the first segment: its duration rounded up, at least 1.
	TargetDuration int
	// FirstSequence is the media sequence number of the first segment.
	FirstSequence uint64
}

// LiveSegment is a segment in a LiveWindow or a recording.
type LiveSegment struct {
	// Seq is the media sequence number. LiveWindow.Append assigns it.
	Seq uint64
	// URI is written as the segment's URI line. It must not contain line
	// breaks; URIs from ParseMediaPlaylist never do.
	URI string
	// Duration is the EXTINF duration in seconds. NaN, infinite and
	// negative values are written as 0.
	Duration float64
	// Discontinuity puts EXT-X-DISCONTINUITY before the segment (an ffmpeg
	// restart or a gap).
	Discontinuity bool
	// ProgramDateTime, when not zero, is written as EXT-X-PROGRAM-DATE-TIME.
	ProgramDateTime time.Time
	// Bytes is the segment's size; the window only carries it along.
	Bytes int64
	// Map, when not "", is the URI of the segment's fMP4 init segment,
	// written as EXT-X-MAP before the first segment that has it and again
	// where it changes. A change is a discontinuity: Append and
	// RenderRecording mark it so. Like URI it must not hold line breaks,
	// nor '"'.
	Map string
}

// LiveWindow is the sliding live playlist of one stream. Append adds a
// segment and renders the playlist once; Playlist hands out that rendering
// without locking, so serving players costs no rendering and never waits
// for an Append. It is safe for concurrent use.
//
// EXT-X-TARGETDURATION is fixed for the life of the window, as RFC 8216
// 6.2.1 requires. A segment whose rounded duration exceeds it is still
// listed with its true duration and counted in Overlong: raising the target
// would break the RFC for every player already polling, and clamping the
// EXTINF would lie about timing and make players drift. The caller decides
// whether to log or alert.
type LiveWindow struct {
	size     int
	overlong atomic.Uint64
	snap     atomic.Pointer[liveSnapshot]

	mu      sync.Mutex
	segs    []LiveSegment // listed segments, oldest first
	nextSeq uint64
	target  int    // 0 until the first segment when derived
	discSeq uint64 // EXT-X-DISCONTINUITY tags that slid out
	// lastMap is the newest segment's Map, appended is whether there is
	// one: a segment whose init segment differs from the one before it
	// starts new media, so it is a discontinuity.
	lastMap  string
	appended bool
}

// liveSnapshot is what readers see, replaced whole on each Append.
type liveSnapshot struct {
	playlist []byte
	target   int
	n        int
}

// NewLiveWindow returns an empty window.
func NewLiveWindow(cfg LiveConfig) *LiveWindow {
	size := cfg.Size
	if size <= 0 {
		size = DefaultLiveSize
	}
	w := &LiveWindow{
		size:    min(size, MaxLiveSegments),
		nextSeq: cfg.FirstSequence,
		target:  max(cfg.TargetDuration, 0),
	}
	w.snap.Store(&liveSnapshot{target: w.target})
	return w
}

// Append adds seg as the newest segment, giving it the next sequence number
// (seg.Seq is ignored), and returns the segments that slid out of the
// window, oldest first, so the caller can release them.
func (w *LiveWindow) Append(seg LiveSegment) (evicted []LiveSegment) {
	w.mu.Lock()
	defer w.mu.Unlock()

	seg.Seq = w.nextSeq
	w.nextSeq++
	if w.appended && seg.Map != w.lastMap {
		seg.Discontinuity = true
	}
	w.lastMap, w.appended = seg.Map, true
	seg.Duration = sane(seg.Duration)
	d := servedDuration(seg.Duration)
	if w.target == 0 {
		w.target = ceilSeconds(d)
	}
	if roundedSeconds(d) > w.target {
		w.overlong.Add(1)
	}
	w.segs = append(w.segs, seg)

	if drop := len(w.segs) - w.keep(); drop > 0 {
		evicted = slices.Clone(w.segs[:drop])
		for _, s := range evicted {
			if s.Discontinuity {
				w.discSeq++
			}
		}
		// Shift down rather than reslice so the backing array does not
		// creep forward and get reallocated on every append.
		n := copy(w.segs, w.segs[drop:])
		clear(w.segs[n:])
		w.segs = w.segs[:n]
	}
	w.snap.Store(&liveSnapshot{playlist: w.render(), target: w.target, n: len(w.segs)})
	return evicted
}

// keep returns how many of the newest segments stay listed: at least size,
// and enough to cover three target durations (RFC 8216 6.2.2), capped by
// MaxLiveSegments.
func (w *LiveWindow) keep() int {
	need := 3 * int64(w.target) * 1000
	var covered int64
	n := 0
	for i := len(w.segs) - 1; i >= 0 && n < MaxLiveSegments; i-- {
		if n >= w.size && covered >= need {
			break
		}
		covered += millis(servedDuration(w.segs[i].Duration))
		n++
	}
	return n
}

func (w *LiveWindow) render() []byte {
	r := newWriter(len(w.segs))
	r.header(header{
		version:     versionFor(w.segs),
		target:      w.target,
		mediaSeq:    w.segs[0].Seq,
		discSeq:     w.discSeq,
		independent: true,
	})
	for _, s := range w.segs {
		r.segment(s.URI, s.Map, "", s.Duration, s.Discontinuity, s.ProgramDateTime, servedFormat)
	}
	return r.bytes()
}

// Playlist returns the rendered playlist, or nil before the first segment
// (the caller answers that itself, say with 404 or 503). The bytes are
// shared with every other caller and must not be modified.
func (w *LiveWindow) Playlist() []byte { return w.snap.Load().playlist }

// Segments returns a copy of the listed segments, oldest first.
func (w *LiveWindow) Segments() []LiveSegment {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.segs)
}

// TargetDuration returns EXT-X-TARGETDURATION, or 0 when it is to be
// derived and no segment has arrived yet.
func (w *LiveWindow) TargetDuration() int { return w.snap.Load().target }

// Len returns the number of listed segments.
func (w *LiveWindow) Len() int { return w.snap.Load().n }

// Overlong returns how many appended segments had a rounded duration above
// the target duration. See LiveWindow for why they are kept as they are.
func (w *LiveWindow) Overlong() uint64 { return w.overlong.Load() }
