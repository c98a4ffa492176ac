package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"time"
)

// GrantKey is a key playback grants are signed with. Unlike the secrets
// clients present, it is stored as it is: checking a signature needs it.
type GrantKey struct {
	// ID names the key; grants say which key signed them.
	ID string
	// Key is the key's bytes; never empty.
	Key []byte
	// CreatedAt is when the key was made, in UTC.
	CreatedAt time.Time
}

// grantKeyCols are the columns scanGrantKey reads, in order.
const grantKeyCols = `id, key, created_at`

// scanGrantKey reads one row of grantKeyCols.
func scanGrantKey(r rowScanner) (GrantKey, error) {
	var k GrantKey
	var created int64
	if err := r.Scan(&k.ID, &k.Key, &created); err != nil {
		return GrantKey{}, err
	}
	k.CreatedAt = fromNanos(created)
	return k, nil
}

// prepareGrantKey checks k and returns it as it will be stored: a copy of
// Key, CreatedAt in UTC and defaulting to now.
func prepareGrantKey(k GrantKey, now func() time.Time) (GrantKey, error) {
	switch {
	case k.ID == "":
		return GrantKey{}, fmt.Errorf("%w grant key: id is empty", ErrInvalid)
	case len(k.Key) == 0:
		return GrantKey{}, fmt.Errorf("%w grant key %q: key is empty", ErrInvalid, k.ID)
	}
	if err := checkTime(fmt.Sprintf("grant key %q created_at", k.ID), k.CreatedAt); err != nil {
		return GrantKey{}, err
	}
	k.Key, k.CreatedAt = bytes.Clone(k.Key), utc(k.CreatedAt)
	if k.CreatedAt.IsZero() {
		k.CreatedAt = now()
	}
	return k, nil
}

// insertGrantKey inserts k; an id already taken is an ErrConflict.
func insertGrantKey(ctx context.Context, tx *sql.Tx, k GrantKey) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO grant_keys (`+grantKeyCols+`) VALUES (?, ?, ?)`, k.ID, k.Key, toNanos(k.CreatedAt))
	if isUniqueViolation(err) {
		return fmt.Errorf("grant key %q: %w: id is taken", k.ID, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("sqlstore: add grant key %q: %w", k.ID, err)
	}
	return nil
}

// GrantKeys returns every grant key, newest (by CreatedAt) first. It never
// returns a nil slice.
func (s *Store) GrantKeys(ctx context.Context) ([]GrantKey, error) {
	return queryAll(ctx, s.r, scanGrantKey, `SELECT `+grantKeyCols+` FROM grant_keys ORDER BY created_at DESC, id DESC`)
}

// AddGrantKey stores k beside the keys already there. CreatedAt defaults to
// now. An id already taken is an ErrConflict.
func (s *Store) AddGrantKey(ctx context.Context, k GrantKey) error {
	k, err := prepareGrantKey(k, s.now)
	if err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error { return insertGrantKey(ctx, tx, k) })
}

// RotateGrantKeys replaces every grant key with k, in one transaction: the
// grants the old keys signed stop working. CreatedAt defaults to now.
func (s *Store) RotateGrantKeys(ctx context.Context, k GrantKey) error {
	k, err := prepareGrantKey(k, s.now)
	if err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM grant_keys`); err != nil {
			return fmt.Errorf("sqlstore: rotate grant keys: %w", err)
		}
		return insertGrantKey(ctx, tx, k)
	})
}
