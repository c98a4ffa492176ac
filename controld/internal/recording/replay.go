package recording

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/lmx-video/lmx/hls"
	"github.com/lmx-video/lmx/sqlstore"
)

// Playlist is a recording's rendered playlist.
type Playlist struct {
	// Body is the playlist: EVENT while the recording is active, VOD with
	// EXT-X-ENDLIST once it stopped.
	Body []byte
	// Active says which.
	Active bool
}

// Playlist renders recording id's playlist from the store (recordings are
// small) and asks for its first segments to be prefetched.
func (r *Recordings) Playlist(ctx context.Context, id string) (Playlist, error) {
	rec, segs, err := r.segments(ctx, id)
	if err != nil {
		return Playlist{}, err
	}
	list := make([]hls.LiveSegment, len(segs))
	for i, seg := range segs {
		disc := seg.Discontinuity
		if i > 0 {
			_, gap := GapAfter(segs[i-1], seg)
			disc = disc || gap
		}
		list[i] = hls.LiveSegment{Seq: seg.Seq, URI: strconv.FormatUint(seg.Seq, 10) + ".ts", Duration: seg.Duration, Discontinuity: disc && i > 0, ProgramDateTime: seg.StartAt, Bytes: seg.Bytes}
		if seg.InitKey != "" {
			// A change of init segment is a discontinuity: RenderRecording
			// marks it.
			list[i].URI = strconv.FormatUint(seg.Seq, 10) + ".m4s"
			list[i].Map = InitURI(seg.InitKey)
		}
	}
	r.hint(segs[:min(len(segs), prefetchAhead)])
	return Playlist{Body: hls.RenderRecording(list, !rec.Active), Active: rec.Active}, nil
}

// Body is a recorded segment's bytes, to be closed once written.
type Body struct {
	*bytes.Reader
	// Size is the segment's length.
	Size int
	// FMP4 is true for an fMP4 media segment (or init segment).
	FMP4    bool
	release func()
	once    sync.Once
}

// Close gives a pooled buffer back.
func (b *Body) Close() error {
	if b.release != nil {
		b.once.Do(b.release)
	}
	return nil
}

var _ io.ReadCloser = (*Body)(nil)

// Segment returns segment seq of recording id, from the cache, else the
// spool or the store, and prefetches the ones after it.
func (r *Recordings) Segment(ctx context.Context, id string, seq uint64) (*Body, error) {
	_, segs, err := r.segments(ctx, id)
	if err != nil {
		return nil, err
	}
	i := -1
	for j, seg := range segs {
		if seg.Seq == seq {
			i = j
			break
		}
	}
	if i < 0 {
		return nil, fmt.Errorf("%w: recording has no segment %d", ErrNotFound, seq)
	}
	r.hint(segs[i+1 : min(len(segs), i+1+prefetchAhead)])
	b, err := r.object(ctx, segs[i].ObjectKey)
	if err == nil {
		b.FMP4 = segs[i].InitKey != ""
	}
	return b, err
}

// object returns a recorded object from the cache, else the spool or the
// store.
func (r *Recordings) object(ctx context.Context, key string) (*Body, error) {
	if bp, ok := r.cache.get(objectCacheKey(key)); ok {
		r.series.CacheHits.Inc()
		return &Body{Reader: bytes.NewReader(*bp), Size: len(*bp), release: func() { r.cache.release(bp) }}, nil
	}
	r.series.CacheMisses.Inc()
	data, err := r.load(ctx, key)
	if err != nil {
		r.logger.Error("recorded segment unavailable", "key", key, "err", err)
		return nil, ErrUnavailable
	}
	return &Body{Reader: bytes.NewReader(data), Size: len(data)}, nil
}

// load reads an object from the spool or the store, once however many ask
// at the same time, and caches it (a segment too large for the cache is
// served anyway, and counted).
func (r *Recordings) load(ctx context.Context, key string) ([]byte, error) {
	v, err, _ := r.loads.Do(key, func() (any, error) {
		b, err := r.spool.get(ctx, key)
		if err != nil {
			return nil, err
		}
		if err := r.cache.put(objectCacheKey(key), b, 10*time.Minute); err != nil {
			r.series.CacheRejected.Inc()
		}
		return b, nil
	})
	if err != nil {
		return nil, err
	}
	return v.([]byte), nil
}

// hint queues segments for prefetch, dropping what a full queue cannot take.
func (r *Recordings) hint(segs []sqlstore.RecordedSegment) {
	for _, seg := range segs {
		if r.cache.has(objectCacheKey(seg.ObjectKey)) {
			continue
		}
		select {
		case r.prefetch <- seg.ObjectKey:
		default:
		}
	}
}

// segments returns a recording and its segments.
func (r *Recordings) segments(ctx context.Context, id string) (sqlstore.Recording, []sqlstore.RecordedSegment, error) {
	rec, err := r.store.GetRecording(ctx, id)
	if errors.Is(err, sqlstore.ErrNotFound) {
		return rec, nil, fmt.Errorf("%w: recording %q", ErrNotFound, id)
	}
	if err != nil {
		return rec, nil, err
	}
	segs, err := r.store.RecordingSegments(ctx, rec.ID)
	return rec, segs, err
}
