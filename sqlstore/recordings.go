package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/google/uuid"
)

// Recording is a stretch of one source's stream kept in object storage.
type Recording struct {
	// ID is a UUIDv7 assigned by CreateRecording: ids sort in creation order.
	ID string
	// SourceID is the id of the recorded source.
	SourceID string
	// Alias is a short human name for the recording.
	Alias string
	// Description is free text.
	Description string
	// StartAt is when the recording starts, in UTC; it may lie in the past
	// (segments the edge still buffers are pulled in).
	StartAt time.Time
	// EndAt is when the recording stopped, in UTC; zero while it is active.
	EndAt time.Time
	// Active tells whether the recording is still taking segments; it is true
	// exactly when EndAt is zero.
	Active bool
	// CreatedAt is when the recording was created, in UTC.
	CreatedAt time.Time
	// UpdatedAt is when the recording last changed, in UTC.
	UpdatedAt time.Time
	// Pinned recordings are never deleted by retention.
	Pinned bool
	// Continuous marks a chunk of continuous recording (--record always).
	Continuous bool
}

// RecordingFilter narrows ListRecordings.
type RecordingFilter struct {
	// SourceID, when not empty, keeps only recordings of that source.
	SourceID string
	// ActiveOnly keeps only recordings that are still active.
	ActiveOnly bool
}

// recordingCols are the columns scanRecording reads, in order.
const recordingCols = `id, source_id, alias, description, start_at, end_at, active, created_at, updated_at, pinned, continuous`

// scanRecording reads one row of recordingCols.
func scanRecording(r rowScanner) (Recording, error) {
	var rec Recording
	var start, created, updated int64
	var end sql.NullInt64
	if err := r.Scan(&rec.ID, &rec.SourceID, &rec.Alias, &rec.Description, &start, &end, &rec.Active, &created, &updated, &rec.Pinned, &rec.Continuous); err != nil {
		return Recording{}, err
	}
	rec.StartAt, rec.EndAt = fromNanos(start), fromNullNanos(end)
	rec.CreatedAt, rec.UpdatedAt = fromNanos(created), fromNanos(updated)
	return rec, nil
}

// getRecording reads the recording with the given id from q.
func getRecording(ctx context.Context, q queryer, id string) (Recording, error) {
	rec, err := scanRecording(q.QueryRowContext(ctx, `SELECT `+recordingCols+` FROM recordings WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Recording{}, fmt.Errorf("recording %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return Recording{}, fmt.Errorf("sqlstore: get recording %q: %w", id, err)
	}
	return rec, nil
}

// CreateRecording stores a new recording of rec.SourceID (an id, not a name)
// and returns it. It assigns ID, CreatedAt and UpdatedAt; StartAt defaults
// to now. Active is derived: a recording created with a non-zero EndAt (a
// finished snippet) is inactive, otherwise it is active.
func (s *Store) CreateRecording(ctx context.Context, rec Recording) (Recording, error) {
	if rec.SourceID == "" {
		return Recording{}, fmt.Errorf("%w recording: source id is empty", ErrInvalid)
	}
	if err := errors.Join(checkTime("recording start", rec.StartAt), checkTime("recording end", rec.EndAt)); err != nil {
		return Recording{}, err
	}
	now := s.now()
	rec.StartAt, rec.EndAt = utc(rec.StartAt), utc(rec.EndAt)
	if rec.StartAt.IsZero() {
		rec.StartAt = now
	}
	if !rec.EndAt.IsZero() && rec.EndAt.Before(rec.StartAt) {
		return Recording{}, fmt.Errorf("%w recording: end %s is before start %s", ErrInvalid,
			rec.EndAt.Format(time.RFC3339Nano), rec.StartAt.Format(time.RFC3339Nano))
	}
	rec.Active = rec.EndAt.IsZero()
	rec.CreatedAt, rec.UpdatedAt = now, now
	id, err := uuid.NewV7()
	if err != nil {
		return Recording{}, fmt.Errorf("sqlstore: recording id: %w", err)
	}
	rec.ID = id.String()
	err = s.write(ctx, func(tx *sql.Tx) error {
		if _, err := getSourceByID(ctx, tx, rec.SourceID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO recordings (`+recordingCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			rec.ID, rec.SourceID, rec.Alias, rec.Description, toNanos(rec.StartAt), toNullNanos(rec.EndAt),
			rec.Active, toNanos(rec.CreatedAt), toNanos(rec.UpdatedAt), rec.Pinned, rec.Continuous); err != nil {
			return fmt.Errorf("sqlstore: create recording of %q: %w", rec.SourceID, err)
		}
		return nil
	})
	if err != nil {
		return Recording{}, err
	}
	return rec, nil
}

// GetRecording returns the recording with the given id.
func (s *Store) GetRecording(ctx context.Context, id string) (Recording, error) {
	return getRecording(ctx, s.r, id)
}

// ListRecordings returns the recordings f selects, newest (most recently
// created) first. It never returns a nil slice.
func (s *Store) ListRecordings(ctx context.Context, f RecordingFilter) ([]Recording, error) {
	return queryAll(ctx, s.r, scanRecording,
		`SELECT `+recordingCols+` FROM recordings
		 WHERE (?1 = '' OR source_id = ?1) AND (?2 = 0 OR active = 1)
		 ORDER BY id DESC`, f.SourceID, f.ActiveOnly)
}

// ActiveRecordings returns the active recordings of the source with the given
// id, newest first; an unknown source has none.
func (s *Store) ActiveRecordings(ctx context.Context, sourceID string) ([]Recording, error) {
	return queryAll(ctx, s.r, scanRecording,
		`SELECT `+recordingCols+` FROM recordings WHERE source_id = ? AND active = 1 ORDER BY id DESC`, sourceID)
}

// StopRecording ends the active recording with the given id as of at (now
// when zero) and returns it. An at before the recording's StartAt (a
// recording scheduled to start later, stopped early) ends it at StartAt.
// Stopping a recording that is already stopped is an ErrConflict.
func (s *Store) StopRecording(ctx context.Context, id string, at time.Time) (Recording, error) {
	if err := checkTime("recording end", at); err != nil {
		return Recording{}, err
	}
	var out Recording
	err := s.write(ctx, func(tx *sql.Tx) error {
		rec, err := getRecording(ctx, tx, id)
		if err != nil {
			return err
		}
		if !rec.Active {
			return fmt.Errorf("recording %q: %w: already stopped at %s", id, ErrConflict, rec.EndAt.Format(time.RFC3339Nano))
		}
		now := s.now()
		end := utc(at)
		if end.IsZero() {
			end = now
		}
		if end.Before(rec.StartAt) {
			end = rec.StartAt
		}
		rec.EndAt, rec.Active, rec.UpdatedAt = end, false, now
		if _, err := tx.ExecContext(ctx, `UPDATE recordings SET end_at = ?, active = 0, updated_at = ? WHERE id = ?`,
			toNanos(rec.EndAt), toNanos(rec.UpdatedAt), id); err != nil {
			return fmt.Errorf("sqlstore: stop recording %q: %w", id, err)
		}
		out = rec
		return nil
	})
	return out, err
}

// SetRecordingPinned pins or unpins the recording with the given id and
// returns it. UpdatedAt changes only when Pinned does.
func (s *Store) SetRecordingPinned(ctx context.Context, id string, pinned bool) (Recording, error) {
	var out Recording
	err := s.write(ctx, func(tx *sql.Tx) error {
		rec, err := getRecording(ctx, tx, id)
		if err != nil {
			return err
		}
		if rec.Pinned == pinned {
			out = rec
			return nil
		}
		rec.Pinned, rec.UpdatedAt = pinned, s.now()
		if _, err := tx.ExecContext(ctx, `UPDATE recordings SET pinned = ?, updated_at = ? WHERE id = ?`,
			rec.Pinned, toNanos(rec.UpdatedAt), id); err != nil {
			return fmt.Errorf("sqlstore: pin recording %q: %w", id, err)
		}
		out = rec
		return nil
	})
	return out, err
}

// DeleteRecording deletes the recording with the given id and its links to
// segments, and deletes the segments no other recording links to. It returns
// the object keys of those deleted segments, in sequence order, so the caller
// can delete the objects; segments shared with other recordings stay.
func (s *Store) DeleteRecording(ctx context.Context, id string) (orphanKeys []string, err error) {
	err = s.write(ctx, func(tx *sql.Tx) error {
		if _, err := getRecording(ctx, tx, id); err != nil {
			return err
		}
		orphanKeys, _, err = deleteRecordingTx(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return orphanKeys, nil
}

// deleteRecordingTx deletes the recording id, its links, and the segments
// no other recording links to; it returns their object keys in sequence
// order and their total size.
func deleteRecordingTx(ctx context.Context, tx *sql.Tx, id string) (orphanKeys []string, freed int64, err error) {
	orphanKeys = []string{}
	rows, err := tx.QueryContext(ctx, `
		SELECT s.source_id, s.seq, s.object_key, s.bytes, s.init_key
		FROM recording_segments rs
		JOIN segments s ON s.source_id = rs.source_id AND s.seq = rs.seq
		WHERE rs.recording_id = ?1
		  AND NOT EXISTS (
			SELECT 1 FROM recording_segments o
			WHERE o.source_id = rs.source_id AND o.seq = rs.seq AND o.recording_id <> ?1)
		ORDER BY s.seq`, id)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlstore: delete recording %q: %w", id, err)
	}
	type segKey struct {
		source string
		seq    int64
	}
	var orphans []segKey
	inits := map[string]bool{}
	for rows.Next() {
		var k segKey
		var key, initKey string
		var n int64
		if err := rows.Scan(&k.source, &k.seq, &key, &n, &initKey); err != nil {
			rows.Close()
			return nil, 0, fmt.Errorf("sqlstore: delete recording %q: %w", id, err)
		}
		orphans = append(orphans, k)
		orphanKeys = append(orphanKeys, key)
		freed += n
		if initKey != "" {
			inits[initKey] = true
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("sqlstore: delete recording %q: %w", id, err)
	}
	// ON DELETE CASCADE removes the recording's links.
	if _, err := tx.ExecContext(ctx, `DELETE FROM recordings WHERE id = ?`, id); err != nil {
		return nil, 0, fmt.Errorf("sqlstore: delete recording %q: %w", id, err)
	}
	for _, k := range orphans {
		if _, err := tx.ExecContext(ctx, `DELETE FROM segments WHERE source_id = ? AND seq = ?`, k.source, k.seq); err != nil {
			return nil, 0, fmt.Errorf("sqlstore: delete recording %q: segment %d: %w", id, k.seq, err)
		}
	}
	// An init object goes with the last segment that follows it.
	for _, key := range slices.Sorted(maps.Keys(inits)) {
		var used bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM segments WHERE init_key = ?)`, key).Scan(&used); err != nil {
			return nil, 0, fmt.Errorf("sqlstore: delete recording %q: init object %q: %w", id, key, err)
		}
		if !used {
			orphanKeys = append(orphanKeys, key)
		}
	}
	return orphanKeys, freed, nil
}
