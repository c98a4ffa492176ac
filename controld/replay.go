package controld

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lmx-video/lmx/hls"
	"github.com/lmx-video/lmx/sqlstore"
)

// prefetchAhead is how many segments past the one asked for are pulled into
// the cache, so a player never waits on the store for the next one.
const prefetchAhead = 3

// fetcher makes sure one object is read from the store once at a time, however
// many players and prefetches want it.
type fetcher struct {
	mu       sync.Mutex
	inflight map[string]*fetchCall
}

type fetchCall struct {
	done chan struct{}
	data []byte
	err  error
}

func newFetcher() *fetcher { return &fetcher{inflight: map[string]*fetchCall{}} }

// do runs load for key unless a load of key is already running, in which
// case it waits for that one's result.
func (f *fetcher) do(key string, load func() ([]byte, error)) ([]byte, error) {
	f.mu.Lock()
	if c, ok := f.inflight[key]; ok {
		f.mu.Unlock()
		<-c.done
		return c.data, c.err
	}
	c := &fetchCall{done: make(chan struct{})}
	f.inflight[key] = c
	f.mu.Unlock()
	c.data, c.err = load()
	close(c.done)
	f.mu.Lock()
	delete(f.inflight, key)
	f.mu.Unlock()
	return c.data, c.err
}

// loadObject returns a recorded segment, from the cache when it is there,
// else from the spool or the store (then caching it).
func (s *Server) loadObject(ctx context.Context, key string) ([]byte, error) {
	ck := objectCacheKey(key)
	if bp, ok := s.cache.get(ck); ok {
		b := append([]byte(nil), (*bp)...)
		s.cache.release(bp)
		return b, nil
	}
	return s.fetches.do(key, func() ([]byte, error) {
		b, err := s.rec.get(ctx, key)
		if err != nil {
			return nil, err
		}
		if err := s.cache.put(ck, b, 10*time.Minute); err != nil {
			s.metrics.cacheRejected.Inc()
		}
		return b, nil
	})
}

// prefetch pulls segments into the cache in the background.
func (s *Server) prefetch(segs []sqlstore.RecordedSegment) {
	for _, seg := range segs {
		if s.cache.has(objectCacheKey(seg.ObjectKey)) {
			continue
		}
		go func(key string) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if _, err := s.loadObject(ctx, key); err != nil {
				s.logger.Debug("prefetch", "key", key, "err", err)
			}
		}(seg.ObjectKey)
	}
}

// recordingSegments returns a recording and its segments, answering 404 itself.
func (s *Server) recordingSegments(w http.ResponseWriter, r *http.Request) (sqlstore.Recording, []sqlstore.RecordedSegment, bool) {
	ctx := r.Context()
	rec, err := s.store.GetRecording(ctx, r.PathValue("recording"))
	if errors.Is(err, sqlstore.ErrNotFound) {
		fail(w, r, http.StatusNotFound, fmt.Sprintf("recording %q not found", r.PathValue("recording")), "see `lmx rec ls`")
		return rec, nil, false
	}
	if err != nil {
		s.internalError(w, r, err)
		return rec, nil, false
	}
	segs, err := s.store.RecordingSegments(ctx, rec.ID)
	if err != nil {
		s.internalError(w, r, err)
		return rec, nil, false
	}
	return rec, segs, true
}

// handleRecordingPlaylist serves a recording: EVENT while it records (a
// viewer can follow it), VOD with EXT-X-ENDLIST once stopped.
func (s *Server) handleRecordingPlaylist(w http.ResponseWriter, r *http.Request) {
	rec, segs, ok := s.recordingSegments(w, r)
	if !ok {
		return
	}
	list := make([]hls.LiveSegment, len(segs))
	for i, seg := range segs {
		disc := seg.Discontinuity
		if i > 0 {
			_, gap := gapAfter(segs[i-1], seg)
			disc = disc || gap
		}
		list[i] = hls.LiveSegment{Seq: seg.Seq, URI: strconv.FormatUint(seg.Seq, 10) + ".ts", Duration: seg.Duration, Discontinuity: disc && i > 0, ProgramDateTime: seg.StartAt, Bytes: seg.Bytes}
	}
	pl := hls.RenderRecording(list, !rec.Active)
	// Prime the cache with the start, as the player will ask for it next.
	s.prefetch(segs[:min(len(segs), prefetchAhead)])
	h := w.Header()
	h.Set("Content-Type", playlistType)
	if rec.Active {
		h.Set("Cache-Control", "max-age=1")
	} else {
		h.Set("Cache-Control", "max-age=60")
	}
	h.Set("Content-Length", strconv.Itoa(len(pl)))
	s.metrics.playlistsServed.WithLabelValues("recording").Inc()
	if r.Method != http.MethodHead {
		_, _ = w.Write(pl)
	}
}

// handleRecordingSegment serves one recorded segment and prefetches the next.
func (s *Server) handleRecordingSegment(w http.ResponseWriter, r *http.Request) {
	file := r.PathValue("segment")
	numStr, ok := strings.CutSuffix(file, ".ts")
	seq, err := strconv.ParseUint(numStr, 10, 64)
	if !ok || err != nil {
		fail(w, r, http.StatusNotFound, fmt.Sprintf("no segment %q: recorded segments are named {sequence}.ts", file), "")
		return
	}
	_, segs, ok := s.recordingSegments(w, r)
	if !ok {
		return
	}
	i := -1
	for j, seg := range segs {
		if seg.Seq == seq {
			i = j
			break
		}
	}
	if i < 0 {
		fail(w, r, http.StatusNotFound, fmt.Sprintf("recording has no segment %d", seq), "reload the playlist")
		return
	}
	key := segs[i].ObjectKey
	if !s.cache.has(objectCacheKey(key)) {
		if _, err := s.loadObject(r.Context(), key); err != nil {
			s.logger.Error("recorded segment unavailable", "key", key, "err", err)
			fail(w, r, http.StatusServiceUnavailable, "recorded segment unavailable: the recordings store did not answer", "try again shortly")
			return
		}
	}
	s.prefetch(segs[i+1 : min(len(segs), i+1+prefetchAhead)])
	s.serveSegment(w, r, objectCacheKey(key), "recording")
}
