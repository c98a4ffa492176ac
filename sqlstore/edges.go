package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Edge is an edge agent as the control node last heard of it.
type Edge struct {
	// Name identifies the edge; it appears in its MQTT topics.
	Name string
	// Version is the edge's lmx version.
	Version string
	// IngestAddr is the address the edge listens on for ffmpeg's playlists.
	IngestAddr string
	// Online tells whether the edge is connected.
	Online bool
	// StartedAt is when the edge process started (zero if unknown), in UTC.
	StartedAt time.Time
	// FirstSeen is when the control node first heard of the edge, in UTC.
	FirstSeen time.Time
	// LastSeen is when the control node last heard from the edge, in UTC.
	LastSeen time.Time
}

// edgeCols are the columns scanEdge reads, in order.
const edgeCols = `name, version, ingest_addr, online, started_at, first_seen, last_seen`

// scanEdge reads one row of edgeCols.
func scanEdge(r rowScanner) (Edge, error) {
	var e Edge
	var started sql.NullInt64
	var first, last int64
	if err := r.Scan(&e.Name, &e.Version, &e.IngestAddr, &e.Online, &started, &first, &last); err != nil {
		return Edge{}, err
	}
	e.StartedAt, e.FirstSeen, e.LastSeen = fromNullNanos(started), fromNanos(first), fromNanos(last)
	return e, nil
}

// getEdge reads the edge called name from q.
func getEdge(ctx context.Context, q queryer, name string) (Edge, error) {
	e, err := scanEdge(q.QueryRowContext(ctx, `SELECT `+edgeCols+` FROM edges WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return Edge{}, fmt.Errorf("edge %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return Edge{}, fmt.Errorf("sqlstore: get edge %q: %w", name, err)
	}
	return e, nil
}

// UpsertEdge stores what an edge reported about itself and returns the stored
// edge. LastSeen defaults to now. A known edge keeps its FirstSeen; a new one
// takes e.FirstSeen, or LastSeen when that is zero. changedOnline tells
// whether Online flipped; a new edge counts as having been offline before.
func (s *Store) UpsertEdge(ctx context.Context, e Edge) (out Edge, changedOnline bool, err error) {
	if e.Name == "" {
		return Edge{}, false, fmt.Errorf("%w edge: name is empty", ErrInvalid)
	}
	if err := errors.Join(
		checkTime("edge "+e.Name+" started_at", e.StartedAt),
		checkTime("edge "+e.Name+" first_seen", e.FirstSeen),
		checkTime("edge "+e.Name+" last_seen", e.LastSeen),
	); err != nil {
		return Edge{}, false, err
	}
	e.StartedAt, e.FirstSeen, e.LastSeen = utc(e.StartedAt), utc(e.FirstSeen), utc(e.LastSeen)
	if e.LastSeen.IsZero() {
		e.LastSeen = s.now()
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		cur, err := getEdge(ctx, tx, e.Name)
		switch {
		case errors.Is(err, ErrNotFound):
			if e.FirstSeen.IsZero() {
				e.FirstSeen = e.LastSeen
			}
			changedOnline = e.Online
			_, err = tx.ExecContext(ctx, `INSERT INTO edges (`+edgeCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				e.Name, e.Version, e.IngestAddr, e.Online, toNullNanos(e.StartedAt), toNanos(e.FirstSeen), toNanos(e.LastSeen))
		case err != nil:
			return err
		default:
			e.FirstSeen = cur.FirstSeen
			changedOnline = cur.Online != e.Online
			_, err = tx.ExecContext(ctx,
				`UPDATE edges SET version = ?, ingest_addr = ?, online = ?, started_at = ?, last_seen = ? WHERE name = ?`,
				e.Version, e.IngestAddr, e.Online, toNullNanos(e.StartedAt), toNanos(e.LastSeen), e.Name)
		}
		if err != nil {
			return fmt.Errorf("sqlstore: upsert edge %q: %w", e.Name, err)
		}
		return nil
	})
	if err != nil {
		return Edge{}, false, err
	}
	return e, changedOnline, nil
}

// SetEdgeOnline marks a known edge online or offline as of at (now when
// zero); LastSeen moves forward to at, never back. changed tells whether
// Online flipped.
func (s *Store) SetEdgeOnline(ctx context.Context, name string, online bool, at time.Time) (changed bool, err error) {
	if err := checkTime("edge "+name+" last_seen", at); err != nil {
		return false, err
	}
	at = utc(at)
	if at.IsZero() {
		at = s.now()
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		cur, err := getEdge(ctx, tx, name)
		if err != nil {
			return err
		}
		changed = cur.Online != online
		if _, err := tx.ExecContext(ctx, `UPDATE edges SET online = ?, last_seen = max(last_seen, ?) WHERE name = ?`,
			online, toNanos(at), name); err != nil {
			return fmt.Errorf("sqlstore: set edge %q online: %w", name, err)
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	return changed, nil
}

// GetEdge returns the edge called name.
func (s *Store) GetEdge(ctx context.Context, name string) (Edge, error) {
	return getEdge(ctx, s.r, name)
}

// ListEdges returns every known edge ordered by name. It never returns a nil
// slice.
func (s *Store) ListEdges(ctx context.Context) ([]Edge, error) {
	return queryAll(ctx, s.r, scanEdge, `SELECT `+edgeCols+` FROM edges ORDER BY name`)
}

// MarkAllEdgesOffline marks every edge offline, as the control node does when
// it starts (edges that are really connected say so again), and returns how
// many were online.
func (s *Store) MarkAllEdgesOffline(ctx context.Context) (int, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE edges SET online = 0 WHERE online = 1`)
		if err != nil {
			return fmt.Errorf("sqlstore: mark edges offline: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}
