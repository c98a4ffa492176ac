package recording

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lmx-video/lmx/hls"
	"github.com/lmx-video/lmx/sqlstore"
)

// Playlist is a recording's rendered playlist.
type Playlist struct {
	// Body is the playlist: EVENT while the recording is active, VOD with
	// EXT-X-ENDLIST once it stopped; for a recording of several
	// renditions, the multivariant playlist naming theirs.
	Body []byte
	// Active says which.
	Active bool
	// Multivariant says Body lists renditions, not segments.
	Multivariant bool
}

// playlistName is the name of a playlist under a recording's path, and
// under its renditions' (api.PlaylistName).
const playlistName = "vid.m3u8"

// Playlist renders recording id's playlist from the store (recordings are
// small) and asks for its first segments to be prefetched. A recording of
// two renditions or more (see Tracks) answers with a multivariant
// playlist: one variant per rendition, {rendition}/vid.m3u8, in rendition
// order.
func (r *Recordings) Playlist(ctx context.Context, id string) (Playlist, error) {
	rec, segs, err := r.segments(ctx, id)
	if err != nil {
		return Playlist{}, err
	}
	tracks := Tracks(segs)
	if len(tracks) == 1 {
		r.hint(segs[:min(len(segs), prefetchAhead)])
		return Playlist{Body: renderTrack(tracks[0].Segments, !rec.Active), Active: rec.Active}, nil
	}
	vs := make([]hls.RecordingVariant, len(tracks))
	for i, t := range tracks {
		peak, avg := Bandwidth(t.Segments)
		res, codecs := r.probeTrack(ctx, t)
		vs[i] = hls.RecordingVariant{URI: t.Rendition + "/" + playlistName, Bandwidth: peak, AverageBandwidth: avg, Resolution: res, Codecs: codecs}
		// Which one the player starts with is its choice: the first
		// segment of each.
		r.hint(t.Segments[:min(len(t.Segments), 1)])
	}
	return Playlist{Body: hls.RenderRecordingMultivariant(vs), Active: rec.Active, Multivariant: true}, nil
}

// RenditionPlaylist renders the media playlist of one rendition of
// recording id: its segments only, with their discontinuities and gaps.
// Segment URIs are relative, {seq}.ts, so they resolve under the
// rendition's path. A rendition the recording does not have is
// ErrNotFound, naming those it has.
func (r *Recordings) RenditionPlaylist(ctx context.Context, id, rendition string) (Playlist, error) {
	rec, t, err := r.track(ctx, id, rendition)
	if err != nil {
		return Playlist{}, err
	}
	r.hint(t.Segments[:min(len(t.Segments), prefetchAhead)])
	return Playlist{Body: renderTrack(t.Segments, !rec.Active), Active: rec.Active}, nil
}

// renderTrack renders one track's media playlist: a segment after a gap
// (GapAfter) or one the edge flagged follows an EXT-X-DISCONTINUITY.
func renderTrack(segs []sqlstore.RecordedSegment, ended bool) []byte {
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
	return hls.RenderRecording(list, ended)
}

// track returns a recording and its track of rendition.
func (r *Recordings) track(ctx context.Context, id, rendition string) (sqlstore.Recording, Track, error) {
	rec, segs, err := r.segments(ctx, id)
	if err != nil {
		return rec, Track{}, err
	}
	tracks := Tracks(segs)
	t, ok := trackOf(tracks, rendition)
	if !ok {
		names := Renditions(segs)
		if len(names) == 0 {
			return rec, Track{}, fmt.Errorf("%w: recording %s has no renditions (its source pushed one media playlist): play %s", ErrNotFound, rec.ID, playlistName)
		}
		return rec, Track{}, fmt.Errorf("%w: recording %s has no rendition %q: it has %s", ErrNotFound, rec.ID, rendition, strings.Join(names, ", "))
	}
	return rec, t, nil
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
// spool or the store, and prefetches the ones after it (of its rendition).
func (r *Recordings) Segment(ctx context.Context, id string, seq uint64) (*Body, error) {
	_, segs, err := r.segments(ctx, id)
	if err != nil {
		return nil, err
	}
	i := indexOfSeq(segs, seq)
	if i < 0 {
		return nil, fmt.Errorf("%w: recording has no segment %d", ErrNotFound, seq)
	}
	var next []sqlstore.RecordedSegment
	for _, s := range segs[i+1:] {
		if len(next) == prefetchAhead {
			break
		}
		if s.Rendition == "" || s.Rendition == segs[i].Rendition {
			next = append(next, s)
		}
	}
	r.hint(next)
	return r.segmentBody(ctx, segs[i])
}

// RenditionSegment returns segment seq of rendition's track of recording
// id; a segment of another rendition is ErrNotFound.
func (r *Recordings) RenditionSegment(ctx context.Context, id, rendition string, seq uint64) (*Body, error) {
	_, t, err := r.track(ctx, id, rendition)
	if err != nil {
		return nil, err
	}
	i := indexOfSeq(t.Segments, seq)
	if i < 0 {
		return nil, fmt.Errorf("%w: rendition %q of the recording has no segment %d", ErrNotFound, rendition, seq)
	}
	r.hint(t.Segments[i+1 : min(len(t.Segments), i+1+prefetchAhead)])
	return r.segmentBody(ctx, t.Segments[i])
}

// RenditionInitSegment returns init segment initID of rendition's track
// of recording id.
func (r *Recordings) RenditionInitSegment(ctx context.Context, id, rendition, initID string) (*Body, error) {
	_, t, err := r.track(ctx, id, rendition)
	if err != nil {
		return nil, err
	}
	return r.initIn(ctx, t.Segments, initID)
}

// indexOfSeq is the index of segment seq in segs, -1 if none.
func indexOfSeq(segs []sqlstore.RecordedSegment, seq uint64) int {
	for j, seg := range segs {
		if seg.Seq == seq {
			return j
		}
	}
	return -1
}

// segmentBody returns a recorded segment's bytes.
func (r *Recordings) segmentBody(ctx context.Context, seg sqlstore.RecordedSegment) (*Body, error) {
	b, err := r.object(ctx, seg.ObjectKey)
	if err == nil {
		b.FMP4 = seg.InitKey != ""
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
