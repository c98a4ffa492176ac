package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// StorageTotals sums up what the recordings store holds, for retention's
// size cap and its metrics. A segment shared by several recordings counts
// once.
type StorageTotals struct {
	// Objects and Bytes are every stored segment object and their size.
	Objects int64
	// Bytes is the size of every stored segment object.
	Bytes int64
	// PinnedBytes is the size of the segments a pinned recording links.
	PinnedBytes int64
	// ProtectedBytes is the size of the segments a pinned or an active
	// recording links: what retention may never delete.
	ProtectedBytes int64
	// Pinned counts pinned recordings.
	Pinned int
}

// StorageTotals returns the store's totals in one read.
func (s *Store) StorageTotals(ctx context.Context) (StorageTotals, error) {
	var t StorageTotals
	err := s.read(ctx, func(tx *sql.Tx) error {
		// The pinned and protected sums start from those recordings' own
		// links (the recording_segments key leads with the recording; CROSS
		// JOIN keeps SQLite from scanning every link instead), so they cost
		// what those recordings hold, not the whole table; a segment two of
		// them share is counted once by IN.
		err := tx.QueryRowContext(ctx, `
			SELECT count(*), coalesce(sum(bytes), 0),
			  coalesce((SELECT sum(s.bytes) FROM segments s WHERE (s.source_id, s.seq) IN (
			    SELECT rs.source_id, rs.seq FROM recordings r CROSS JOIN recording_segments rs ON rs.recording_id = r.id
			    WHERE r.pinned = 1)), 0),
			  coalesce((SELECT sum(s.bytes) FROM segments s WHERE (s.source_id, s.seq) IN (
			    SELECT rs.source_id, rs.seq FROM recordings r CROSS JOIN recording_segments rs ON rs.recording_id = r.id
			    WHERE r.pinned = 1 OR r.active = 1)), 0),
			  (SELECT count(*) FROM recordings WHERE pinned = 1)
			FROM segments`).Scan(&t.Objects, &t.Bytes, &t.PinnedBytes, &t.ProtectedBytes, &t.Pinned)
		if err != nil {
			return fmt.Errorf("sqlstore: storage totals: %w", err)
		}
		return nil
	})
	return t, err
}

// RetentionCandidate is a recording retention may delete: stopped and not
// pinned.
type RetentionCandidate struct {
	Recording
	// FreeBytes is what deleting it alone would free now: the size of the
	// segments no other recording links.
	FreeBytes int64
	// Objects counts those segments.
	Objects int
}

// CandidateFilter narrows RetentionCandidates.
type CandidateFilter struct {
	// SourceID, when not empty, keeps only that source's recordings.
	SourceID string
	// EndedBefore, when not zero, keeps only recordings that ended before it.
	EndedBefore time.Time
	// Limit bounds how many are returned (0: 100).
	Limit int
}

// RetentionCandidates returns the stopped, unpinned recordings f selects,
// the one that ended first first (ties by id, so by creation).
func (s *Store) RetentionCandidates(ctx context.Context, f CandidateFilter) ([]RetentionCandidate, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	before := int64(-1)
	if !f.EndedBefore.IsZero() {
		before = toNanos(f.EndedBefore)
	}
	var out []RetentionCandidate
	err := s.read(ctx, func(tx *sql.Tx) error {
		recs, err := queryAll(ctx, tx, scanRecording, `
			SELECT `+recordingCols+` FROM recordings
			WHERE active = 0 AND pinned = 0
			  AND (?1 = '' OR source_id = ?1) AND (?2 < 0 OR end_at < ?2)
			ORDER BY end_at, id LIMIT ?3`, f.SourceID, before, f.Limit)
		if err != nil {
			return fmt.Errorf("sqlstore: retention candidates: %w", err)
		}
		out = make([]RetentionCandidate, 0, len(recs))
		for _, rec := range recs {
			c := RetentionCandidate{Recording: rec}
			if err := tx.QueryRowContext(ctx, `
				SELECT count(*), coalesce(sum(s.bytes), 0)
				FROM recording_segments rs
				JOIN segments s ON s.source_id = rs.source_id AND s.seq = rs.seq
				WHERE rs.recording_id = ?1
				  AND NOT EXISTS (
					SELECT 1 FROM recording_segments o
					WHERE o.source_id = rs.source_id AND o.seq = rs.seq AND o.recording_id <> ?1)`,
				rec.ID).Scan(&c.Objects, &c.FreeBytes); err != nil {
				return fmt.Errorf("sqlstore: retention candidate %q: %w", rec.ID, err)
			}
			out = append(out, c)
		}
		return nil
	})
	return out, err
}

// ExpireRecording deletes the recording with the given id for retention,
// as DeleteRecording does, but only while it is still stopped and unpinned
// (an operator may have pinned it since it was chosen): otherwise it is an
// ErrConflict and nothing changes. It returns the object keys no recording
// links any more and their total size.
func (s *Store) ExpireRecording(ctx context.Context, id string) (orphanKeys []string, freed int64, err error) {
	err = s.write(ctx, func(tx *sql.Tx) error {
		rec, err := getRecording(ctx, tx, id)
		if err != nil {
			return err
		}
		switch {
		case rec.Active:
			return fmt.Errorf("recording %q: %w: it is active", id, ErrConflict)
		case rec.Pinned:
			return fmt.Errorf("recording %q: %w: it is pinned", id, ErrConflict)
		}
		orphanKeys, freed, err = deleteRecordingTx(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return orphanKeys, freed, nil
}

// ExpiresAt is when retention by age deletes r, a recording of src, with
// nodeRetain the node's default: zero when never, or not known yet (active
// or pinned).
func (r Recording) ExpiresAt(src Source, nodeRetain time.Duration) time.Time {
	if r.Active || r.Pinned || r.EndAt.IsZero() {
		return time.Time{}
	}
	keep := src.Retain
	if keep == 0 {
		keep = nodeRetain
	}
	if keep <= 0 {
		return time.Time{}
	}
	return r.EndAt.Add(keep)
}

// RecordModeSources returns the sources with the given record mode, by name.
func (s *Store) RecordModeSources(ctx context.Context, mode string) ([]Source, error) {
	return queryAll(ctx, s.r, scanSource, `SELECT `+sourceCols+` FROM sources WHERE record_mode = ? ORDER BY name`, mode)
}
