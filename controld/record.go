package controld

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lmx-video/lmx/sqlstore"
)

// recordSegment stores an uploaded segment for the recordings that want it:
// spooled durably, then rows linking it to each recording. It returns the
// recordings that now hold it and those that never will.
func (s *Server) recordSegment(ctx context.Context, src sqlstore.Source, up segmentUpload, data []byte, arrived time.Time) (acked, rejected []string, err error) {
	end := up.start.Add(time.Duration(up.duration * float64(time.Second)))
	var want []string
	for _, id := range up.recordings {
		rec, err := s.store.GetRecording(ctx, id)
		switch {
		case errors.Is(err, sqlstore.ErrNotFound):
			rejected = append(rejected, id)
			continue
		case err != nil:
			return nil, nil, err
		}
		// A segment belongs to a recording when any of it falls inside it.
		if rec.SourceID != src.ID || !end.After(rec.StartAt) || (!rec.EndAt.IsZero() && !up.start.Before(rec.EndAt)) {
			rejected = append(rejected, id)
			continue
		}
		want = append(want, id)
	}
	if len(want) == 0 {
		return nil, rejected, nil
	}
	// The key names the segment by its edge run and the edge's sequence, never
	// by ffmpeg's file name, which a restarted ffmpeg reuses.
	key := fmt.Sprintf("%s/%s-%s-%d.ts", src.ID, up.edge, safeBoot(up.boot), up.seq)
	if err := s.rec.spoolPut(ctx, key, data, arrived); err != nil {
		return nil, nil, err
	}
	seg := sqlstore.RecordedSegment{
		SourceID: src.ID, ObjectKey: key, Duration: up.duration, Bytes: int64(len(data)),
		StartAt: up.start, Discontinuity: up.discontinuity,
		// Sequence numbers order a recording's segments by time: the start in
		// milliseconds, moved up a step if another segment already has it.
		Seq: uint64(up.start.UnixMilli()),
	}
	for try := 0; ; try++ {
		err = s.store.AddSegment(ctx, seg, want)
		if err == nil || !errors.Is(err, sqlstore.ErrConflict) || try == 8 {
			break
		}
		seg.Seq++
	}
	if err != nil {
		return nil, nil, err
	}
	// Not cached here: recordings are replayed later if at all, and a backlog
	// arriving after an outage would push live segments out of the cache.
	s.metrics.recordedIn.Inc()
	return want, rejected, nil
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
