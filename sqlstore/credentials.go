package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// An edge gets its credential in two steps. AddEdge registers the edge as
// pending and stores a single-use join token for it; the edge then presents
// the join token once and UseJoinToken swaps it for the edge's long-lived
// credential. Only hashes of the secrets are stored.
//
// An edge credential is in one of three states:
//
//   - pending: added, join token not used yet; JoinedAt is zero and Hash is
//     nil, so the credential authenticates nothing. ID is the join token's
//     id until the edge joins.
//   - joined: JoinedAt is set and Hash is the SHA-256 of the credential.
//   - revoked: RevokedAt is set. A revoked edge that had joined keeps its
//     credential, so RestoreEdge can let it back in with it; adding the edge
//     again replaces it instead.

// EdgeCredential is an edge's own credential, which it presents as its MQTT
// password and on its uploads.
type EdgeCredential struct {
	// Edge is the edge's name. It is not tied to the edges the control node
	// has heard of: an edge may be added before it ever reports.
	Edge string
	// ID is the credential's public id; while the edge is pending, the id of
	// its join token.
	ID string
	// Hash is the SHA-256 of the credential's secret (32 bytes); nil until
	// the edge joins.
	Hash []byte
	// CreatedAt is when the edge was (last) added, in UTC.
	CreatedAt time.Time
	// JoinedAt is when the edge used its join token, in UTC; zero while
	// pending.
	JoinedAt time.Time
	// RevokedAt is when the edge was revoked, in UTC; zero when it is not.
	RevokedAt time.Time
}

// JoinToken is a single-use token an edge exchanges for its credential.
type JoinToken struct {
	// ID is the token's public id; the caller chooses it.
	ID string
	// Edge is the name of the edge the token is for.
	Edge string
	// Hash is the SHA-256 of the token's secret (32 bytes).
	Hash []byte
	// CreatedAt is when the token was made, in UTC.
	CreatedAt time.Time
	// ExpiresAt is when the token stops working if unused, in UTC.
	ExpiresAt time.Time
	// UsedAt is when the edge used the token, in UTC; zero while unused.
	UsedAt time.Time
}

// edgeCredentialCols are the columns scanEdgeCredential reads, in order.
const edgeCredentialCols = `edge, id, hash, created_at, joined_at, revoked_at`

// scanEdgeCredential reads one row of edgeCredentialCols.
func scanEdgeCredential(r rowScanner) (EdgeCredential, error) {
	var c EdgeCredential
	var created int64
	var joined, revoked sql.NullInt64
	if err := r.Scan(&c.Edge, &c.ID, &c.Hash, &created, &joined, &revoked); err != nil {
		return EdgeCredential{}, err
	}
	c.CreatedAt, c.JoinedAt, c.RevokedAt = fromNanos(created), fromNullNanos(joined), fromNullNanos(revoked)
	return c, nil
}

// joinTokenCols are the columns scanJoinToken reads, in order.
const joinTokenCols = `id, edge, hash, created_at, expires_at, used_at`

// scanJoinToken reads one row of joinTokenCols.
func scanJoinToken(r rowScanner) (JoinToken, error) {
	var j JoinToken
	var created, expires int64
	var used sql.NullInt64
	if err := r.Scan(&j.ID, &j.Edge, &j.Hash, &created, &expires, &used); err != nil {
		return JoinToken{}, err
	}
	j.CreatedAt, j.ExpiresAt, j.UsedAt = fromNanos(created), fromNanos(expires), fromNullNanos(used)
	return j, nil
}

// getEdgeCredential reads the credential of edge from q.
func getEdgeCredential(ctx context.Context, q queryer, edge string) (EdgeCredential, error) {
	c, err := scanEdgeCredential(q.QueryRowContext(ctx, `SELECT `+edgeCredentialCols+` FROM edge_credentials WHERE edge = ?`, edge))
	if errors.Is(err, sql.ErrNoRows) {
		return EdgeCredential{}, fmt.Errorf("edge credential %q: %w", edge, ErrNotFound)
	}
	if err != nil {
		return EdgeCredential{}, fmt.Errorf("sqlstore: get edge credential %q: %w", edge, err)
	}
	return c, nil
}

// getJoinToken reads the join token with the given id from q.
func getJoinToken(ctx context.Context, q queryer, id string) (JoinToken, error) {
	j, err := scanJoinToken(q.QueryRowContext(ctx, `SELECT `+joinTokenCols+` FROM join_tokens WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return JoinToken{}, fmt.Errorf("join token %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return JoinToken{}, fmt.Errorf("sqlstore: get join token %q: %w", id, err)
	}
	return j, nil
}

// AddEdge registers edge as pending with the join token join, as of at (now
// when zero), in one transaction: the edge's unused join tokens are deleted,
// join is stored, and the edge's credential becomes pending. Adding an edge
// that has joined, or was revoked, replaces its credential: the old one stops
// working at once.
//
// join.Edge may be empty or must equal edge; join.CreatedAt defaults to at;
// join.ExpiresAt is required and must lie after at; join.UsedAt is ignored.
// A join.ID already used by a join token or credential is an ErrConflict.
func (s *Store) AddEdge(ctx context.Context, edge string, join JoinToken, at time.Time) error {
	what := fmt.Sprintf("join token for edge %q", edge)
	switch {
	case edge == "":
		return fmt.Errorf("%w edge credential: edge name is empty", ErrInvalid)
	case join.Edge != "" && join.Edge != edge:
		return fmt.Errorf("%w %s: the token is for edge %q", ErrInvalid, what, join.Edge)
	case join.ID == "":
		return fmt.Errorf("%w %s: id is empty", ErrInvalid, what)
	case join.ExpiresAt.IsZero():
		return fmt.Errorf("%w %s: expiry is missing", ErrInvalid, what)
	}
	if err := errors.Join(
		checkHash(what, join.Hash),
		checkTime(what+" created_at", join.CreatedAt),
		checkTime(what+" expires_at", join.ExpiresAt),
		checkTime("edge credential "+edge+" created_at", at),
	); err != nil {
		return err
	}
	at = utc(at)
	if at.IsZero() {
		at = s.now()
	}
	join.Edge, join.CreatedAt, join.ExpiresAt = edge, utc(join.CreatedAt), utc(join.ExpiresAt)
	if join.CreatedAt.IsZero() {
		join.CreatedAt = at
	}
	if !join.ExpiresAt.After(at) {
		return fmt.Errorf("%w %s: it expires at %s, not after %s", ErrInvalid, what,
			join.ExpiresAt.Format(time.RFC3339Nano), at.Format(time.RFC3339Nano))
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM join_tokens WHERE edge = ? AND used_at IS NULL`, edge); err != nil {
			return fmt.Errorf("sqlstore: add edge %q: %w", edge, err)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO join_tokens (`+joinTokenCols+`) VALUES (?, ?, ?, ?, ?, NULL)`,
			join.ID, edge, join.Hash, toNanos(join.CreatedAt), toNanos(join.ExpiresAt))
		if isUniqueViolation(err) {
			return fmt.Errorf("join token %q: %w: id is taken", join.ID, ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("sqlstore: add edge %q: %w", edge, err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO edge_credentials (`+edgeCredentialCols+`) VALUES (?, ?, NULL, ?, NULL, NULL)
			ON CONFLICT (edge) DO UPDATE SET id = excluded.id, hash = NULL, created_at = excluded.created_at, joined_at = NULL, revoked_at = NULL`,
			edge, join.ID, toNanos(at))
		if isUniqueViolation(err) {
			return fmt.Errorf("edge credential %q: %w: id %q is taken", edge, ErrConflict, join.ID)
		}
		if err != nil {
			return fmt.Errorf("sqlstore: add edge %q: %w", edge, err)
		}
		return nil
	})
}

// GetJoinToken returns the join token with the given id, used or not, so
// that the caller can compare its hash before calling UseJoinToken.
func (s *Store) GetJoinToken(ctx context.Context, id string) (JoinToken, error) {
	return getJoinToken(ctx, s.r, id)
}

// UseJoinToken spends the join token with the given id as of at (now when
// zero) and makes credID and credHash (the SHA-256 of the credential's
// secret) the credential of the token's edge, in one transaction; it returns
// the edge's name. The caller checks the join token's hash first (see
// GetJoinToken).
//
// An unknown token is ErrNotFound (an edge's unused join tokens are deleted
// when it is added again or revoked), a used one ErrConflict, and one whose
// ExpiresAt is not after at ErrExpired. The edge is joined from then on, and
// not revoked. A credID already used by another credential is an
// ErrConflict.
func (s *Store) UseJoinToken(ctx context.Context, id string, at time.Time, credID string, credHash []byte) (edge string, err error) {
	what := fmt.Sprintf("credential from join token %q", id)
	if credID == "" {
		return "", fmt.Errorf("%w %s: id is empty", ErrInvalid, what)
	}
	if err := errors.Join(checkHash(what, credHash), checkTime("join token "+id+" used_at", at)); err != nil {
		return "", err
	}
	at = utc(at)
	if at.IsZero() {
		at = s.now()
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		j, err := getJoinToken(ctx, tx, id)
		if err != nil {
			return err
		}
		switch {
		case !j.UsedAt.IsZero():
			return fmt.Errorf("join token %q: %w: already used at %s", id, ErrConflict, j.UsedAt.Format(time.RFC3339Nano))
		case !at.Before(j.ExpiresAt):
			return fmt.Errorf("join token %q: %w at %s", id, ErrExpired, j.ExpiresAt.Format(time.RFC3339Nano))
		}
		cred, err := getEdgeCredential(ctx, tx, j.Edge)
		if err != nil {
			return err
		}
		if cred.ID != j.ID {
			// AddEdge and RevokeEdge delete unused join tokens, so this is a
			// token the edge's pending credential no longer waits for.
			return fmt.Errorf("join token %q: %w: edge %q no longer waits for it", id, ErrConflict, j.Edge)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE join_tokens SET used_at = ? WHERE id = ?`, toNanos(at), id); err != nil {
			return fmt.Errorf("sqlstore: use join token %q: %w", id, err)
		}
		_, err = tx.ExecContext(ctx, `UPDATE edge_credentials SET id = ?, hash = ?, joined_at = ?, revoked_at = NULL WHERE edge = ?`,
			credID, credHash, toNanos(at), j.Edge)
		if isUniqueViolation(err) {
			return fmt.Errorf("edge credential %q: %w: id %q is taken", j.Edge, ErrConflict, credID)
		}
		if err != nil {
			return fmt.Errorf("sqlstore: join edge %q: %w", j.Edge, err)
		}
		edge = j.Edge
		return nil
	})
	if err != nil {
		return "", err
	}
	return edge, nil
}

// GetEdgeCredential returns the credential of edge, whatever its state.
func (s *Store) GetEdgeCredential(ctx context.Context, edge string) (EdgeCredential, error) {
	return getEdgeCredential(ctx, s.r, edge)
}

// GetEdgeCredentialByID returns the credential whose public id is id,
// whatever its state. A pending credential has no Hash and so matches no
// secret.
func (s *Store) GetEdgeCredentialByID(ctx context.Context, id string) (EdgeCredential, error) {
	c, err := scanEdgeCredential(s.r.QueryRowContext(ctx, `SELECT `+edgeCredentialCols+` FROM edge_credentials WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return EdgeCredential{}, fmt.Errorf("edge credential with id %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return EdgeCredential{}, fmt.Errorf("sqlstore: get edge credential with id %q: %w", id, err)
	}
	return c, nil
}

// ListEdgeCredentials returns every edge credential ordered by edge name. It
// never returns a nil slice.
func (s *Store) ListEdgeCredentials(ctx context.Context) ([]EdgeCredential, error) {
	return queryAll(ctx, s.r, scanEdgeCredential, `SELECT `+edgeCredentialCols+` FROM edge_credentials ORDER BY edge`)
}

// RevokeEdge cuts edge off as of at (now when zero) and returns its
// credential. The edge's unused join tokens are deleted with it, so a pending
// edge cannot join while revoked. An edge already revoked is an ErrConflict.
func (s *Store) RevokeEdge(ctx context.Context, edge string, at time.Time) (EdgeCredential, error) {
	if err := checkTime("edge credential "+edge+" revoked_at", at); err != nil {
		return EdgeCredential{}, err
	}
	at = utc(at)
	if at.IsZero() {
		at = s.now()
	}
	var out EdgeCredential
	err := s.write(ctx, func(tx *sql.Tx) error {
		c, err := getEdgeCredential(ctx, tx, edge)
		if err != nil {
			return err
		}
		if !c.RevokedAt.IsZero() {
			return fmt.Errorf("edge credential %q: %w: already revoked at %s", edge, ErrConflict, c.RevokedAt.Format(time.RFC3339Nano))
		}
		if _, err := tx.ExecContext(ctx, `UPDATE edge_credentials SET revoked_at = ? WHERE edge = ?`, toNanos(at), edge); err != nil {
			return fmt.Errorf("sqlstore: revoke edge %q: %w", edge, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM join_tokens WHERE edge = ? AND used_at IS NULL`, edge); err != nil {
			return fmt.Errorf("sqlstore: revoke edge %q: %w", edge, err)
		}
		c.RevokedAt = at
		out = c
		return nil
	})
	if err != nil {
		return EdgeCredential{}, err
	}
	return out, nil
}

// RestoreEdge lets a revoked edge back in with the credential it had and
// returns the credential. An edge that is not revoked is an ErrConflict, and
// so is one that never joined: it has no credential to restore (its join
// token went with the revocation), so add it again instead.
func (s *Store) RestoreEdge(ctx context.Context, edge string) (EdgeCredential, error) {
	var out EdgeCredential
	err := s.write(ctx, func(tx *sql.Tx) error {
		c, err := getEdgeCredential(ctx, tx, edge)
		if err != nil {
			return err
		}
		switch {
		case c.RevokedAt.IsZero():
			return fmt.Errorf("edge credential %q: %w: not revoked", edge, ErrConflict)
		case c.JoinedAt.IsZero():
			return fmt.Errorf("edge credential %q: %w: the edge never joined, so there is no credential to restore; add it again", edge, ErrConflict)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE edge_credentials SET revoked_at = NULL WHERE edge = ?`, edge); err != nil {
			return fmt.Errorf("sqlstore: restore edge %q: %w", edge, err)
		}
		c.RevokedAt = time.Time{}
		out = c
		return nil
	})
	if err != nil {
		return EdgeCredential{}, err
	}
	return out, nil
}
