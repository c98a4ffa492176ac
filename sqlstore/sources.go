package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Source is a camera or encoder stream, as LiveMix's API knows it.
type Source struct {
	// ID is a random UUID (version 4) assigned by CreateSource.
	ID string
	// Name is unique among sources; playback URLs accept it in place of ID.
	Name string
	// Description is free text.
	Description string
	// SegmentLen is the HLS segment length in seconds (LiveMix's segment_len);
	// 0 means unspecified.
	SegmentLen int
	// Streaming tells whether the source should be streamed to the control node.
	Streaming bool
	// Edge is the name of the edge that pushes this source; "" until known.
	Edge string
	// Public tells whether anyone may play the source without a grant.
	Public bool
	// PullURL is what the bound edge's ffmpeg reads ("" for a pushed
	// source). It may hold the camera's credentials: render it with
	// redact.URL anywhere but the edge's own desired state.
	PullURL string
	// OnDemand makes the edge upload live segments only while someone watches.
	OnDemand bool
	// Idle is how long an on-demand source keeps uploading after the last
	// playlist request; 0 is the node's default.
	Idle time.Duration
	// RecordMode is RecordOff or RecordAlways.
	RecordMode string
	// RecordChunk is the length of one continuous-recording chunk; 0 is the
	// node's default.
	RecordChunk time.Duration
	// Retain is how long the source's recordings are kept: 0 is the node's
	// default, RetainForever keeps them.
	Retain time.Duration
	// StandbyFeeds are the edges besides Edge allowed to feed the source,
	// in the operator's order (see Feeds).
	StandbyFeeds EdgeList
	// Prefer is the feed the operator prefers ("" for none): chosen when it
	// delivers, and first on every failover it can take.
	Prefer string
	// CreatedAt is when the source was created, in UTC.
	CreatedAt time.Time
	// UpdatedAt is when the source last changed, in UTC.
	UpdatedAt time.Time
}

// Source.RecordMode values.
const (
	// RecordOff records only what an operator starts.
	RecordOff = "off"
	// RecordAlways records continuously, one recording per chunk.
	RecordAlways = "always"
)

// RetainForever as Source.Retain keeps the source's recordings for good.
const RetainForever time.Duration = -1

// sourceCols are the columns scanSource reads, in order.
const sourceCols = `id, name, description, segment_len, streaming, edge, public, pull_url, on_demand, idle_ns, record_mode, record_chunk_ns, retain_ns, standby_feeds, prefer, created_at, updated_at`

// scanSource reads one row of sourceCols.
func scanSource(r rowScanner) (Source, error) {
	var s Source
	var created, updated, idle, chunk, retain int64
	if err := r.Scan(&s.ID, &s.Name, &s.Description, &s.SegmentLen, &s.Streaming, &s.Edge, &s.Public,
		&s.PullURL, &s.OnDemand, &idle, &s.RecordMode, &chunk, &retain, &s.StandbyFeeds, &s.Prefer, &created, &updated); err != nil {
		return Source{}, err
	}
	s.Idle, s.RecordChunk, s.Retain = time.Duration(idle), time.Duration(chunk), time.Duration(retain)
	s.CreatedAt, s.UpdatedAt = fromNanos(created), fromNanos(updated)
	return s, nil
}

// validateSource checks what CreateSource stores.
func validateSource(src Source) error {
	if src.Name == "" {
		return fmt.Errorf("%w source: name is empty", ErrInvalid)
	}
	if src.SegmentLen < 0 {
		return fmt.Errorf("%w source %q: segment_len %d is negative", ErrInvalid, src.Name, src.SegmentLen)
	}
	switch src.RecordMode {
	case "", RecordOff, RecordAlways:
	default:
		return fmt.Errorf("%w source %q: record mode %q is not %q or %q", ErrInvalid, src.Name, src.RecordMode, RecordOff, RecordAlways)
	}
	if src.Idle < 0 || src.RecordChunk < 0 || src.Retain < RetainForever {
		return fmt.Errorf("%w source %q: negative duration", ErrInvalid, src.Name)
	}
	if src.StandbyFeeds != "" && src.Edge == "" {
		return fmt.Errorf("%w source %q: standby feeds %s without a first feed (edge)", ErrInvalid, src.Name, src.StandbyFeeds)
	}
	feeds := src.Feeds()
	seen := map[string]bool{}
	for _, f := range feeds {
		if f == "" || seen[f] {
			return fmt.Errorf("%w source %q: feeds %v: an edge is empty or named twice", ErrInvalid, src.Name, feeds)
		}
		seen[f] = true
	}
	if src.Prefer != "" && !seen[src.Prefer] {
		return fmt.Errorf("%w source %q: preferred feed %q is not one of its feeds %v", ErrInvalid, src.Name, src.Prefer, feeds)
	}
	return nil
}

// CreateSource stores a new source. It assigns ID, CreatedAt and UpdatedAt,
// ignoring any values src has for them. A source with the same name is an
// ErrConflict.
func (s *Store) CreateSource(ctx context.Context, src Source) (Source, error) {
	if err := validateSource(src); err != nil {
		return Source{}, err
	}
	var out Source
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = insertSource(ctx, tx, src, s.now())
		return err
	})
	return out, err
}

// insertSource inserts src with a new id and times set to now.
func insertSource(ctx context.Context, tx *sql.Tx, src Source, now time.Time) (Source, error) {
	src.ID = uuid.NewString()
	src.CreatedAt, src.UpdatedAt = now, now
	if src.RecordMode == "" {
		src.RecordMode = RecordOff
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO sources (`+sourceCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		src.ID, src.Name, src.Description, src.SegmentLen, src.Streaming, src.Edge, src.Public,
		src.PullURL, src.OnDemand, int64(src.Idle), src.RecordMode, int64(src.RecordChunk), int64(src.Retain),
		src.StandbyFeeds, src.Prefer, toNanos(now), toNanos(now))
	if isUniqueViolation(err) {
		return Source{}, fmt.Errorf("source %q: %w: name already exists", src.Name, ErrConflict)
	}
	if err != nil {
		return Source{}, fmt.Errorf("sqlstore: create source %q: %w", src.Name, err)
	}
	return src, nil
}

// GetSource returns the source whose ID or, failing that, whose Name is
// idOrName.
func (s *Store) GetSource(ctx context.Context, idOrName string) (Source, error) {
	return getSource(ctx, s.r, idOrName)
}

// getSource is GetSource on any queryer.
func getSource(ctx context.Context, q queryer, idOrName string) (Source, error) {
	src, err := scanSource(q.QueryRowContext(ctx,
		`SELECT `+sourceCols+` FROM sources WHERE id = ?1 OR name = ?1 ORDER BY id = ?1 DESC LIMIT 1`, idOrName))
	if errors.Is(err, sql.ErrNoRows) {
		return Source{}, fmt.Errorf("source %q: %w", idOrName, ErrNotFound)
	}
	if err != nil {
		return Source{}, fmt.Errorf("sqlstore: get source %q: %w", idOrName, err)
	}
	return src, nil
}

// getSourceByID is getSource limited to ids.
func getSourceByID(ctx context.Context, q queryer, id string) (Source, error) {
	src, err := scanSource(q.QueryRowContext(ctx, `SELECT `+sourceCols+` FROM sources WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Source{}, fmt.Errorf("source %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return Source{}, fmt.Errorf("sqlstore: get source %q: %w", id, err)
	}
	return src, nil
}

// ListSources returns the sources ordered by name; when nameFilter is not
// empty, only the source with exactly that name (if any). It never returns a
// nil slice.
func (s *Store) ListSources(ctx context.Context, nameFilter string) ([]Source, error) {
	if nameFilter != "" {
		return queryAll(ctx, s.r, scanSource, `SELECT `+sourceCols+` FROM sources WHERE name = ? ORDER BY name`, nameFilter)
	}
	return queryAll(ctx, s.r, scanSource, `SELECT `+sourceCols+` FROM sources ORDER BY name`)
}

// fedBy is the condition that edge ?1 feeds a source, first or standby.
const fedBy = `(edge = ?1 OR instr(',' || standby_feeds || ',', ',' || ?1 || ',') > 0)`

// SourcesByEdge returns the sources edge feeds (as first feed or standby),
// ordered by name.
func (s *Store) SourcesByEdge(ctx context.Context, edge string) ([]Source, error) {
	return queryAll(ctx, s.r, scanSource, `SELECT `+sourceCols+` FROM sources WHERE `+fedBy+` ORDER BY name`, edge)
}

// StreamingSourcesByEdge returns the sources edge feeds that are
// streaming, ordered by name.
func (s *Store) StreamingSourcesByEdge(ctx context.Context, edge string) ([]Source, error) {
	return queryAll(ctx, s.r, scanSource,
		`SELECT `+sourceCols+` FROM sources WHERE `+fedBy+` AND streaming = 1 ORDER BY name`, edge)
}

// DeleteSource deletes the source with the given id. While any recording
// references the source it is an ErrConflict: delete the recordings first.
func (s *Store) DeleteSource(ctx context.Context, id string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		src, err := getSourceByID(ctx, tx, id)
		if err != nil {
			return err
		}
		return deleteSourceTx(ctx, tx, src)
	})
}

// deleteSourceTx deletes src unless a recording references it.
func deleteSourceTx(ctx context.Context, tx *sql.Tx, src Source) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM recordings WHERE source_id = ?`, src.ID).Scan(&n); err != nil {
		return fmt.Errorf("sqlstore: delete source %q: %w", src.Name, err)
	}
	if n > 0 {
		return fmt.Errorf("source %q: %w: %d recording(s) reference it; delete them first", src.Name, ErrConflict, n)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM sources WHERE id = ?`, src.ID); err != nil {
		return fmt.Errorf("sqlstore: delete source %q: %w", src.Name, err)
	}
	return nil
}

// SetStreaming turns streaming of the source with the given id on or off and
// returns the source. UpdatedAt changes only when Streaming does.
func (s *Store) SetStreaming(ctx context.Context, id string, on bool) (Source, error) {
	return s.updateSource(ctx, id, func(src *Source) { src.Streaming = on })
}

// SetSourceEdge records which edge pushes the source with the given id and
// returns the source. UpdatedAt changes only when Edge does.
func (s *Store) SetSourceEdge(ctx context.Context, id, edge string) (Source, error) {
	return s.updateSource(ctx, id, func(src *Source) { src.Edge = edge })
}

// updateSource applies change to the source with the given id and stores the
// result if it differs.
func (s *Store) updateSource(ctx context.Context, id string, change func(*Source)) (Source, error) {
	var out Source
	err := s.write(ctx, func(tx *sql.Tx) error {
		src, err := getSourceByID(ctx, tx, id)
		if err != nil {
			return err
		}
		out, err = saveSource(ctx, tx, src, change, s.now())
		return err
	})
	return out, err
}

// saveSource applies change to src and, if anything changed, writes the
// mutable fields back with UpdatedAt set to now.
func saveSource(ctx context.Context, tx *sql.Tx, src Source, change func(*Source), now time.Time) (Source, error) {
	next := src
	change(&next)
	if next == src {
		return src, nil
	}
	if err := validateSource(next); err != nil {
		return Source{}, err
	}
	next.UpdatedAt = now
	if _, err := tx.ExecContext(ctx,
		`UPDATE sources SET description = ?, segment_len = ?, streaming = ?, edge = ?, public = ?,
		    pull_url = ?, on_demand = ?, idle_ns = ?, record_mode = ?, record_chunk_ns = ?, retain_ns = ?,
		    standby_feeds = ?, prefer = ?, updated_at = ? WHERE id = ?`,
		next.Description, next.SegmentLen, next.Streaming, next.Edge, next.Public,
		next.PullURL, next.OnDemand, int64(next.Idle), next.RecordMode, int64(next.RecordChunk), int64(next.Retain),
		next.StandbyFeeds, next.Prefer, toNanos(now), next.ID); err != nil {
		return Source{}, fmt.Errorf("sqlstore: update source %q: %w", src.Name, err)
	}
	return next, nil
}

// EnsureSource returns the source named name, creating it (pushed by edge,
// with segmentLen) when there is none; created tells which. An existing
// source whose Edge is "" takes edge; one already tied to another edge keeps
// it, so the caller can compare src.Edge with edge and decide.
func (s *Store) EnsureSource(ctx context.Context, name, edge string, segmentLen int) (src Source, created bool, err error) {
	want := Source{Name: name, Edge: edge, SegmentLen: segmentLen}
	if err := validateSource(want); err != nil {
		return Source{}, false, err
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		cur, err := scanSource(tx.QueryRowContext(ctx, `SELECT `+sourceCols+` FROM sources WHERE name = ?`, name))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			src, err = insertSource(ctx, tx, want, s.now())
			created = err == nil
			return err
		case err != nil:
			return fmt.Errorf("sqlstore: get source %q: %w", name, err)
		}
		src, err = saveSource(ctx, tx, cur, func(x *Source) {
			if x.Edge == "" {
				x.Edge = edge
			}
		}, s.now())
		return err
	})
	if err != nil {
		return Source{}, false, err
	}
	return src, created, nil
}
