package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"
	"time"
)

// RecordedSegment is one HLS segment stored as an object for recordings.
type RecordedSegment struct {
	// SourceID is the id of the source the segment belongs to.
	SourceID string
	// Seq is the per-source sequence number the control node assigned; at
	// most math.MaxInt64.
	Seq uint64
	// ObjectKey names the stored object; it is unique across all segments.
	ObjectKey string
	// Duration is the segment's length in seconds (its EXTINF).
	Duration float64
	// Bytes is the object's size.
	Bytes int64
	// StartAt is the wall-clock time of the segment's first frame, in UTC.
	StartAt time.Time
	// Discontinuity tells whether the segment follows a break in the stream
	// (an encoder restart or a gap).
	Discontinuity bool
	// CreatedAt is when the segment was first stored, in UTC; AddSegment
	// assigns it.
	CreatedAt time.Time
	// InitKey names the object of the fMP4 init segment the segment
	// follows, "" for an MPEG-TS segment. Deleting the last segment that
	// follows it releases it with the segment objects.
	InitKey string
	// Rendition names the adaptive-bitrate rendition the segment is of,
	// "" for a source of one (see broker.ValidRendition).
	Rendition string
}

// segmentCols are the columns scanSegment reads, in order.
const segmentCols = `source_id, seq, object_key, duration, bytes, start_at, discontinuity, created_at, init_key, rendition`

// scanSegment reads one row of segmentCols.
func scanSegment(r rowScanner) (RecordedSegment, error) {
	var seg RecordedSegment
	var seq, start, created int64
	if err := r.Scan(&seg.SourceID, &seq, &seg.ObjectKey, &seg.Duration, &seg.Bytes, &start, &seg.Discontinuity, &created, &seg.InitKey, &seg.Rendition); err != nil {
		return RecordedSegment{}, err
	}
	seg.Seq = uint64(seq)
	seg.StartAt, seg.CreatedAt = fromNanos(start), fromNanos(created)
	return seg, nil
}

// maxRenditionLen bounds a rendition's name (broker.ValidRendition holds
// the whole rule; the store only keeps a name from being a path).
const maxRenditionLen = 32

// validateSegment checks what AddSegment stores.
func validateSegment(seg RecordedSegment, recordingIDs []string) error {
	name := fmt.Sprintf("segment %s/%d", seg.SourceID, seg.Seq)
	switch {
	case seg.SourceID == "":
		return fmt.Errorf("%w segment: source id is empty", ErrInvalid)
	case seg.Seq > math.MaxInt64:
		return fmt.Errorf("%w %s: sequence number above %d", ErrInvalid, name, int64(math.MaxInt64))
	case seg.ObjectKey == "":
		return fmt.Errorf("%w %s: object key is empty", ErrInvalid, name)
	case seg.InitKey == seg.ObjectKey:
		return fmt.Errorf("%w %s: init key is its own object key", ErrInvalid, name)
	case math.IsNaN(seg.Duration) || math.IsInf(seg.Duration, 0) || seg.Duration < 0:
		return fmt.Errorf("%w %s: duration %v", ErrInvalid, name, seg.Duration)
	case seg.Bytes < 0:
		return fmt.Errorf("%w %s: size %d is negative", ErrInvalid, name, seg.Bytes)
	case len(seg.Rendition) > maxRenditionLen || strings.ContainsAny(seg.Rendition, "/\\\x00\n"):
		return fmt.Errorf("%w %s: rendition %q is not a name", ErrInvalid, name, seg.Rendition)
	case seg.StartAt.IsZero():
		return fmt.Errorf("%w %s: start time is missing", ErrInvalid, name)
	case len(recordingIDs) == 0:
		return fmt.Errorf("%w %s: no recording to add it to", ErrInvalid, name)
	}
	return checkTime(name+" start", seg.StartAt)
}

// AddSegment stores seg, unless the source already has a segment with that
// Seq, and links it to each recording in recordingIDs, all in one
// transaction. Adding the same segment (same source, Seq and ObjectKey) again,
// to the same or other recordings, is not an error. It is an ErrConflict when
// the source's Seq is stored under another object key, when ObjectKey is
// already used by another segment, or when a recording belongs to another
// source; an unknown source or recording is ErrNotFound.
func (s *Store) AddSegment(ctx context.Context, seg RecordedSegment, recordingIDs []string) error {
	if err := validateSegment(seg, recordingIDs); err != nil {
		return err
	}
	name := fmt.Sprintf("segment %s/%d", seg.SourceID, seg.Seq)
	seq := int64(seg.Seq)
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := getSourceByID(ctx, tx, seg.SourceID); err != nil {
			return err
		}
		seen := make(map[string]bool, len(recordingIDs))
		for _, id := range recordingIDs {
			if seen[id] {
				continue
			}
			seen[id] = true
			rec, err := getRecording(ctx, tx, id)
			if err != nil {
				return err
			}
			if rec.SourceID != seg.SourceID {
				return fmt.Errorf("recording %q: %w: it records source %q, not %q", id, ErrConflict, rec.SourceID, seg.SourceID)
			}
		}

		res, err := tx.ExecContext(ctx, `INSERT INTO segments (`+segmentCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (source_id, seq) DO NOTHING`,
			seg.SourceID, seq, seg.ObjectKey, seg.Duration, seg.Bytes, toNanos(seg.StartAt), seg.Discontinuity, toNanos(s.now()), seg.InitKey, seg.Rendition)
		if isUniqueViolation(err) {
			return fmt.Errorf("%s: %w: object key %q is already used by another segment", name, ErrConflict, seg.ObjectKey)
		}
		if err != nil {
			return fmt.Errorf("sqlstore: add %s: %w", name, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("sqlstore: add %s: %w", name, err)
		} else if n == 0 {
			var key string
			if err := tx.QueryRowContext(ctx, `SELECT object_key FROM segments WHERE source_id = ? AND seq = ?`,
				seg.SourceID, seq).Scan(&key); err != nil {
				return fmt.Errorf("sqlstore: add %s: %w", name, err)
			}
			if key != seg.ObjectKey {
				return fmt.Errorf("%s: %w: already stored as object %q, not %q", name, ErrConflict, key, seg.ObjectKey)
			}
		}

		for id := range seen {
			if _, err := tx.ExecContext(ctx, `INSERT INTO recording_segments (recording_id, source_id, seq) VALUES (?, ?, ?)
				ON CONFLICT DO NOTHING`, id, seg.SourceID, seq); err != nil {
				return fmt.Errorf("sqlstore: add %s to recording %q: %w", name, id, err)
			}
		}
		return nil
	})
}

// RecordingSegments returns the segments of the recording with the given id,
// ordered by Seq. It never returns a nil slice for a known recording.
func (s *Store) RecordingSegments(ctx context.Context, id string) ([]RecordedSegment, error) {
	var out []RecordedSegment
	err := s.read(ctx, func(tx *sql.Tx) error {
		if _, err := getRecording(ctx, tx, id); err != nil {
			return err
		}
		var err error
		out, err = queryAll(ctx, tx, scanSegment, `
			SELECT s.source_id, s.seq, s.object_key, s.duration, s.bytes, s.start_at, s.discontinuity, s.created_at, s.init_key, s.rendition
			FROM recording_segments rs
			JOIN segments s ON s.source_id = rs.source_id AND s.seq = rs.seq
			WHERE rs.recording_id = ?
			ORDER BY s.seq`, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RecordingStats sums up the recording with the given id: how many segments
// it has, their total duration in seconds and size in bytes, and the StartAt
// of its first and last segment (by Seq; zero times when it has none). The
// media ends at last plus the last segment's duration.
func (s *Store) RecordingStats(ctx context.Context, id string) (segments int, duration float64, bytes int64, first, last time.Time, err error) {
	err = s.read(ctx, func(tx *sql.Tx) error {
		if _, err := getRecording(ctx, tx, id); err != nil {
			return err
		}
		var firstNs, lastNs sql.NullInt64
		err := tx.QueryRowContext(ctx, `
			SELECT count(*), coalesce(sum(s.duration), 0), coalesce(sum(s.bytes), 0),
			       (SELECT s2.start_at FROM recording_segments r2 JOIN segments s2 ON s2.source_id = r2.source_id AND s2.seq = r2.seq
			        WHERE r2.recording_id = ?1 ORDER BY s2.seq ASC LIMIT 1),
			       (SELECT s2.start_at FROM recording_segments r2 JOIN segments s2 ON s2.source_id = r2.source_id AND s2.seq = r2.seq
			        WHERE r2.recording_id = ?1 ORDER BY s2.seq DESC LIMIT 1)
			FROM recording_segments rs
			JOIN segments s ON s.source_id = rs.source_id AND s.seq = rs.seq
			WHERE rs.recording_id = ?1`, id).Scan(&segments, &duration, &bytes, &firstNs, &lastNs)
		if err != nil {
			return fmt.Errorf("sqlstore: stats of recording %q: %w", id, err)
		}
		first, last = fromNullNanos(firstNs), fromNullNanos(lastNs)
		return nil
	})
	if err != nil {
		return 0, 0, 0, time.Time{}, time.Time{}, err
	}
	return segments, duration, bytes, first, last, nil
}

// InitKeyInUse reports whether any stored segment follows the init object
// key, so that an init object is deleted only once nothing needs it.
func (s *Store) InitKeyInUse(ctx context.Context, key string) (bool, error) {
	var used bool
	err := s.read(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM segments WHERE init_key = ?)`, key).Scan(&used)
	})
	if err != nil {
		return false, fmt.Errorf("sqlstore: init object %q in use: %w", key, err)
	}
	return used, nil
}
