// Package recording keeps what the control node records: recorded segments
// spooled durably to the data dir, copied to the object store in the
// background, linked to their recordings in SQLite; and replay, which
// renders a recording's playlist and serves its segments through a bounded
// cache with one store read per object however many players ask.
package recording

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/objstore"
	"github.com/lmx-video/lmx/sqlstore"
)

// Errors of recording and replay.
var (
	// ErrNotFound means no such recording or no such segment in it.
	ErrNotFound = errors.New("not found")
	// ErrUnavailable means the object store did not give a segment back.
	ErrUnavailable = errors.New("recorded segment unavailable: the recordings store did not answer")
	// ErrBadRendition means a segment names a rendition that is not a
	// rendition's name (broker.ValidRendition).
	ErrBadRendition = errors.New("not a rendition name")
)

// Store is the state recording and replay read and write.
type Store interface {
	GetRecording(ctx context.Context, id string) (sqlstore.Recording, error)
	AddSegment(ctx context.Context, seg sqlstore.RecordedSegment, recordingIDs []string) error
	RecordingSegments(ctx context.Context, id string) ([]sqlstore.RecordedSegment, error)
	InitKeyInUse(ctx context.Context, key string) (bool, error)
}

// Config sizes recording and replay.
type Config struct {
	// SpoolDir is where segments wait for the object store.
	SpoolDir string
	// CacheSize bounds the replay cache.
	CacheSize int64
	// Prober, when not nil, tells the RESOLUTION and CODECS of a
	// multivariant playlist's renditions; without one they are left out.
	Prober Prober
}

// Series are the metrics recording and replay keep.
type Series struct {
	Gauges
	// Recorded counts segments stored for recordings.
	Recorded prometheus.Counter
	// CacheHits, CacheMisses and CacheRejected count replay cache use.
	CacheHits, CacheMisses, CacheRejected prometheus.Counter
}

// prefetchAhead is how many segments past the one asked for are pulled into
// the cache, so a player never waits on the store for the next one.
const prefetchAhead = 3

// Recordings records segments and replays recordings.
type Recordings struct {
	store   Store
	objects objstore.Store
	spool   *spool
	cache   *segmentCache
	series  Series
	logger  *slog.Logger
	loads   singleflight.Group
	// prefetch takes object keys to pull into the cache; Run's workers
	// drain it, and a full queue drops the hint (it is only a hint).
	prefetch chan string
	// chunkEnds, when set, bounds active chunks of continuous recording.
	chunkEnds atomic.Pointer[ChunkEnds]
	// initMu orders linking fMP4 segments to their init objects against
	// deleting init objects nothing follows any more (see recordInit);
	// inits are the init objects spooled since start, which need not be
	// spooled again.
	initMu sync.Mutex
	inits  map[string]bool
	// prober probes renditions for the multivariant playlist (nil: none);
	// probed keeps what it said.
	prober Prober
	probed probes
}

// New opens the spool. objects is where recordings go.
func New(cfg Config, store Store, objects objstore.Store, series Series, logger *slog.Logger) (*Recordings, error) {
	sp, err := newSpool(objects, cfg.SpoolDir, logger, series.Gauges)
	if err != nil {
		return nil, fmt.Errorf("recording spool: %w", err)
	}
	return &Recordings{
		store: store, objects: objects, spool: sp, cache: newSegmentCache(cfg.CacheSize),
		series: series, logger: logger, prefetch: make(chan string, 64), inits: map[string]bool{},
		prober: cfg.Prober,
	}, nil
}

// StoreName describes the object store without credentials.
func (r *Recordings) StoreName() string { return r.objects.String() }

// Pending is how many segments wait in the spool for the store.
func (r *Recordings) Pending() int { return r.spool.pending() }

// Run copies spooled segments to the store and prefetches for replay until
// ctx ends, and returns once every worker has stopped.
func (r *Recordings) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { r.spool.run(ctx) })
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case key := <-r.prefetch:
					if r.cache.has(objectCacheKey(key)) {
						continue
					}
					lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
					if _, err := r.load(lctx, key); err != nil && ctx.Err() == nil {
						r.logger.Debug("prefetch", "key", key, "err", err)
					}
					cancel()
				}
			}
		})
	}
	wg.Wait()
	return nil
}

// Segment is what an edge's upload says about a recorded segment.
type Segment struct {
	// SourceID is the source it is of.
	SourceID string
	// Edge, Boot and EdgeSeq name it in its edge's run (its object key).
	Edge, Boot string
	EdgeSeq    uint64
	// Duration and Start place it in time.
	Duration float64
	Start    time.Time
	// Discontinuity is the edge's flag that the media does not follow the
	// previous segment (an ffmpeg restart, a skipped file).
	Discontinuity bool
	// Arrived is when its upload reached the control node.
	Arrived time.Time
	// Rendition is the adaptive-bitrate rendition it is of ("" for a
	// source of one), and RenditionSeq its number within it in the edge's
	// run (broker.HeaderRendition, HeaderRenditionSeq).
	Rendition    string
	RenditionSeq uint64
	// Init is the fMP4 init segment it follows, nil for MPEG-TS.
	Init *Init
}

// Record stores data for the recordings (ids) that want it: spooled
// durably, then linked to each in the store. It returns the recordings that
// now hold it and those that never will.
func (r *Recordings) Record(ctx context.Context, seg Segment, ids []string, data []byte) (acked, rejected []string, err error) {
	if seg.Rendition != "" && !broker.ValidRendition(seg.Rendition) {
		return nil, nil, fmt.Errorf("recording a segment: %w: %q", ErrBadRendition, seg.Rendition)
	}
	end := seg.Start.Add(time.Duration(seg.Duration * float64(time.Second)))
	var want []string
	for _, id := range ids {
		rec, err := r.store.GetRecording(ctx, id)
		switch {
		case errors.Is(err, sqlstore.ErrNotFound):
			rejected = append(rejected, id)
			continue
		case err != nil:
			return nil, nil, err
		}
		if rec.SourceID != seg.SourceID || !r.belongs(rec, seg.Start, end) {
			rejected = append(rejected, id)
			continue
		}
		want = append(want, id)
	}
	if len(want) == 0 {
		return nil, rejected, nil
	}
	key := objectKey(seg)
	if err := r.spool.put(ctx, key, data, seg.Arrived); err != nil {
		return nil, nil, err
	}
	row := sqlstore.RecordedSegment{
		SourceID: seg.SourceID, ObjectKey: key, Duration: seg.Duration, Bytes: int64(len(data)),
		StartAt: seg.Start, Discontinuity: seg.Discontinuity, Rendition: seg.Rendition,
		// Sequence numbers order a recording's segments by time: the start in
		// milliseconds, moved up a step if another segment already has it.
		Seq: uint64(seg.Start.UnixMilli()),
	}
	if seg.Init != nil {
		row.InitKey = InitKey(seg.SourceID, seg.Init.ID)
		r.initMu.Lock()
		defer r.initMu.Unlock()
		if err := r.recordInit(ctx, row.InitKey, seg.Init.Data, seg.Arrived); err != nil {
			return nil, nil, err
		}
	}
	for try := 0; ; try++ {
		err = r.store.AddSegment(ctx, row, want)
		if err == nil || !errors.Is(err, sqlstore.ErrConflict) || try == 8 {
			break
		}
		row.Seq++
	}
	if err != nil {
		return nil, nil, err
	}
	// Not cached here: recordings are replayed later if at all.
	r.series.Recorded.Inc()
	return want, rejected, nil
}

// belongs reports whether a segment from start to end belongs to rec. An
// operator's recording takes every segment any of which falls inside it.
// A chunk of continuous recording takes the segments that start inside
// it, so a segment straddling the boundary between two chunks lands in
// exactly one; an active chunk refuses what starts at or after where it
// will stop even before the stop is written.
func (r *Recordings) belongs(rec sqlstore.Recording, start, end time.Time) bool {
	if !rec.Continuous {
		return end.After(rec.StartAt) && (rec.EndAt.IsZero() || start.Before(rec.EndAt))
	}
	stop := rec.EndAt
	if ce := r.chunkEnds.Load(); stop.IsZero() && ce != nil {
		if t, ok := (*ce).ChunkEnd(rec); ok {
			stop = t
		}
	}
	return !start.Before(rec.StartAt) && (stop.IsZero() || start.Before(stop))
}

// ChunkEnds says where active chunks of continuous recording will stop.
type ChunkEnds interface {
	ChunkEnd(rec sqlstore.Recording) (time.Time, bool)
}

// SetChunkEnds tells Record where active chunks will stop.
func (r *Recordings) SetChunkEnds(c ChunkEnds) { r.chunkEnds.Store(&c) }

// RemoveObjects deletes objects no recording links to any more, from the
// spool and the store; it returns how many went.
func (r *Recordings) RemoveObjects(ctx context.Context, keys []string) int {
	n := 0
	for _, key := range keys {
		if isInitKey(key) {
			if r.removeInit(ctx, key) {
				n++
			}
			continue
		}
		if err := r.spool.remove(ctx, key); err != nil {
			r.logger.Warn("could not delete recorded object", "key", key, "err", err)
			continue
		}
		n++
	}
	return n
}

// objectKey is the object key of a recorded segment. It names the
// segment by its edge run and the edge's sequence, never by ffmpeg's file
// name, which a restarted ffmpeg reuses: {source}/{edge}-{boot}-{seq}.ts
// (.m4s for fMP4). A rendition's segment is under the rendition, numbered
// within it, {source}/{rendition}/{edge}-{boot}-{renditionSeq}.ts, so
// that GapAfter sees consecutive numbers between a rendition's segments.
func objectKey(seg Segment) string {
	if seg.Rendition != "" {
		return fmt.Sprintf("%s/%s/%s-%s-%d%s", seg.SourceID, seg.Rendition, seg.Edge, safeBoot(seg.Boot), seg.RenditionSeq, segmentExt(seg.Init))
	}
	return fmt.Sprintf("%s/%s-%s-%d%s", seg.SourceID, seg.Edge, safeBoot(seg.Boot), seg.EdgeSeq, segmentExt(seg.Init))
}

func safeBoot(b string) string {
	if b == "" {
		return "0"
	}
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '_'
	}, b)
}

// objectCacheKey is the cache key of a recorded segment.
func objectCacheKey(key string) string { return "obj/" + key }
