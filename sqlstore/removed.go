package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// RemovedSource is a source name an operator removed while an edge still
// pushed it: auto-registration does not bring it back.
type RemovedSource struct {
	// Name is the removed source's name.
	Name string
	// Edge is the edge that pushed it when it was removed.
	Edge string
	// RemovedAt is when it was removed, in UTC.
	RemovedAt time.Time
	// RemovedBy names the API token that removed it ("" with auth off).
	RemovedBy string
}

// DeleteSourceKeepOut deletes the source with the given id, as DeleteSource
// does, and in the same write records its name as removed, so a push that
// goes on does not register it again.
func (s *Store) DeleteSourceKeepOut(ctx context.Context, id, by string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		src, err := getSourceByID(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := deleteSourceTx(ctx, tx, src); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO removed_sources (name, edge, removed_at, removed_by) VALUES (?, ?, ?, ?)
			 ON CONFLICT (name) DO UPDATE SET edge = excluded.edge, removed_at = excluded.removed_at, removed_by = excluded.removed_by`,
			src.Name, src.Edge, toNanos(s.now()), by); err != nil {
			return fmt.Errorf("sqlstore: remember removed source %q: %w", src.Name, err)
		}
		return nil
	})
}

// GetRemovedSource returns the removal record of name, or ErrNotFound.
func (s *Store) GetRemovedSource(ctx context.Context, name string) (RemovedSource, error) {
	var r RemovedSource
	var at int64
	err := s.r.QueryRowContext(ctx, `SELECT name, edge, removed_at, removed_by FROM removed_sources WHERE name = ?`, name).
		Scan(&r.Name, &r.Edge, &at, &r.RemovedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return RemovedSource{}, fmt.Errorf("removed source %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return RemovedSource{}, fmt.Errorf("sqlstore: get removed source %q: %w", name, err)
	}
	r.RemovedAt = fromNanos(at)
	return r, nil
}

// ForgetRemovedSource drops the removal record of name (an operator added
// the name again); no record is no error.
func (s *Store) ForgetRemovedSource(ctx context.Context, name string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM removed_sources WHERE name = ?`, name); err != nil {
			return fmt.Errorf("sqlstore: forget removed source %q: %w", name, err)
		}
		return nil
	})
}
