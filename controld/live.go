package controld

import (
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lmx-video/lmx/hls"
)

// liveRegistry holds the live window of every streaming source, built
// incrementally as segments arrive; playlists are never re-queried.
type liveRegistry struct {
	size int

	mu      sync.RWMutex
	streams map[string]*liveStream // by source id
	byName  map[string]string      // source name -> id
	off     map[string]bool        // sources whose streaming was turned off
}

// liveStream is one source's live window.
type liveStream struct {
	sourceID string
	name     string
	window   *hls.LiveWindow

	views viewCounter
	// cc is the Cache-Control of the playlist, fixed with the target duration.
	cc atomic.Pointer[[]string]
	// ccb is cc as bytes, for the fasthttp path.
	ccb atomic.Pointer[[]byte]

	mu      sync.Mutex // serialises appends
	nextSeq uint64
	edge    string
	boot    string
	edgeSeq uint64
	lastAt  time.Time
}

func newLiveRegistry(size int) *liveRegistry {
	return &liveRegistry{size: size, streams: map[string]*liveStream{}, byName: map[string]string{}, off: map[string]bool{}}
}

// get returns the live stream of a source by id or name.
func (r *liveRegistry) get(idOrName string) *liveStream {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if ls, ok := r.streams[idOrName]; ok {
		return ls
	}
	if id, ok := r.byName[idOrName]; ok {
		return r.streams[id]
	}
	return nil
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
func (r *liveRegistry) open(id, name string, targetHint int) *liveStream {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ls, ok := r.streams[id]; ok {
		return ls
	}
	if r.off[id] {
		return nil
	}
	first := uint64(time.Now().UnixMilli())
	ls := &liveStream{
		sourceID: id,
		name:     name,
		nextSeq:  first,
		window:   hls.NewLiveWindow(hls.LiveConfig{Size: r.size, TargetDuration: targetHint, FirstSequence: first}),
	}
	r.streams[id] = ls
	r.byName[name] = id
	return ls
}

// allow lets a source's live window open again (streaming turned on).
func (r *liveRegistry) allow(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.off, id)
}

// close drops a source's live window (streaming turned off or source
// removed) and keeps it closed until allow.
func (r *liveRegistry) close(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.off[id] = true
	if ls, ok := r.streams[id]; ok {
		delete(r.byName, ls.name)
		delete(r.streams, id)
	}
}

// targetHint is the target duration a new window starts with: the source's
// configured segment length or the first segment's, whichever is longer.
func targetHint(segmentLen int, firstDuration float64) int {
	return max(segmentLen, int(math.Ceil(firstDuration-0.001)), 1)
}

// liveKey is the cache key of a live segment.
func liveKey(sourceID string, seq uint64) string {
	return "live/" + sourceID + "/" + strconv.FormatUint(seq, 10)
}

// viewCounter counts playlist requests per wall-clock minute, a cheap
// stand-in for "viewers" (a player reloads the playlist every few seconds).
type viewCounter struct {
	mu        sync.Mutex
	minute    int64
	cur, prev int64
}

func (v *viewCounter) hit(now time.Time) {
	m := now.Unix() / 60
	v.mu.Lock()
	defer v.mu.Unlock()
	v.roll(m)
	v.cur++
}

// perMinute is the last full minute's count (or the current one's, if higher).
func (v *viewCounter) perMinute(now time.Time) int64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.roll(now.Unix() / 60)
	return max(v.prev, v.cur)
}

func (v *viewCounter) roll(m int64) {
	switch {
	case m == v.minute:
	case m == v.minute+1:
		v.prev, v.cur, v.minute = v.cur, 0, m
	default:
		v.prev, v.cur, v.minute = 0, 0, m
	}
}

// cacheControl is the live playlist's Cache-Control: half a target duration
// at most (RFC 8216 6.2.1 asks clients to reload about once per target
// duration; a cache must not serve an older one). The target never changes
// for a window, so the value is built once.
func (ls *liveStream) cacheControl() []string {
	if v := ls.cc.Load(); v != nil {
		return *v
	}
	v := []string{"max-age=" + strconv.Itoa(max(ls.window.TargetDuration()/2, 0))}
	ls.cc.Store(&v)
	return v
}

// cacheControlBytes is cacheControl as bytes, built once.
func (ls *liveStream) cacheControlBytes() []byte {
	if v := ls.ccb.Load(); v != nil {
		return *v
	}
	v := []byte(ls.cacheControl()[0])
	ls.ccb.Store(&v)
	return v
}
