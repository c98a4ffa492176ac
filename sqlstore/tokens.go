package sqlstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"
)

// Token is an API token. Its secret is never stored: only Hash, the SHA-256
// of the secret, is.
type Token struct {
	// ID is the public part of the token, 16 lowercase hex digits; the
	// caller chooses it.
	ID string
	// Name is what operators call the token. It is unique among all tokens,
	// revoked ones included: a revoked token keeps its name for good, so that
	// what the name did in the past stays unambiguous.
	Name string
	// Role is "viewer", "operator" or "admin".
	Role string
	// Hash is the SHA-256 of the token's secret (32 bytes).
	Hash []byte
	// CreatedAt is when the token was made, in UTC.
	CreatedAt time.Time
	// CreatedBy names the token that made this one; "" for the first admin
	// token.
	CreatedBy string
	// ExpiresAt is when the token stops working, in UTC; zero means never.
	ExpiresAt time.Time
	// RevokedAt is when the token was revoked, in UTC; zero means it was not.
	RevokedAt time.Time
	// LastUsedAt is when the token last authenticated a request, in UTC, as
	// of the last TouchTokens; zero means never.
	LastUsedAt time.Time
}

// tokenRoles are the roles a token may have, from least to most allowed.
var tokenRoles = []string{"viewer", "operator", "admin"}

// tokenID is the shape of a token's id.
var tokenID = regexp.MustCompile(`^[0-9a-f]{16}$`)

// tokenCols are the columns scanToken reads, in order.
const tokenCols = `id, name, role, hash, created_at, created_by, expires_at, revoked_at, last_used_at`

// scanToken reads one row of tokenCols.
func scanToken(r rowScanner) (Token, error) {
	var t Token
	var created int64
	var expires, revoked, used sql.NullInt64
	if err := r.Scan(&t.ID, &t.Name, &t.Role, &t.Hash, &created, &t.CreatedBy, &expires, &revoked, &used); err != nil {
		return Token{}, err
	}
	t.CreatedAt = fromNanos(created)
	t.ExpiresAt, t.RevokedAt, t.LastUsedAt = fromNullNanos(expires), fromNullNanos(revoked), fromNullNanos(used)
	return t, nil
}

// checkHash returns an ErrInvalid error unless h has the length of a SHA-256.
func checkHash(what string, h []byte) error {
	if len(h) != sha256.Size {
		return fmt.Errorf("%w %s: hash is %d bytes, want the %d of a SHA-256", ErrInvalid, what, len(h), sha256.Size)
	}
	return nil
}

// validateToken checks what CreateToken stores.
func validateToken(t Token) error {
	what := fmt.Sprintf("token %q", t.Name)
	switch {
	case t.Name == "":
		return fmt.Errorf("%w token: name is empty", ErrInvalid)
	case !tokenID.MatchString(t.ID):
		return fmt.Errorf("%w %s: id %q is not 16 lowercase hex digits", ErrInvalid, what, t.ID)
	case !slices.Contains(tokenRoles, t.Role):
		return fmt.Errorf("%w %s: role %q is none of viewer, operator, admin", ErrInvalid, what, t.Role)
	}
	return errors.Join(
		checkHash(what, t.Hash),
		checkTime(what+" created_at", t.CreatedAt),
		checkTime(what+" expires_at", t.ExpiresAt),
		checkTime(what+" revoked_at", t.RevokedAt),
		checkTime(what+" last_used_at", t.LastUsedAt),
	)
}

// CreateToken stores a new token as given and returns it; CreatedAt defaults
// to now. A name already taken, even by a revoked token, is an ErrConflict,
// and so is an id already taken.
func (s *Store) CreateToken(ctx context.Context, t Token) (Token, error) {
	if err := validateToken(t); err != nil {
		return Token{}, err
	}
	t.Hash = bytes.Clone(t.Hash)
	t.CreatedAt, t.ExpiresAt, t.RevokedAt, t.LastUsedAt = utc(t.CreatedAt), utc(t.ExpiresAt), utc(t.RevokedAt), utc(t.LastUsedAt)
	if t.CreatedAt.IsZero() {
		t.CreatedAt = s.now()
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		var revoked sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT revoked_at FROM tokens WHERE name = ?`, t.Name).Scan(&revoked)
		switch {
		case err == nil && revoked.Valid:
			return fmt.Errorf("token %q: %w: name is taken by a revoked token (names are never reused)", t.Name, ErrConflict)
		case err == nil:
			return fmt.Errorf("token %q: %w: name is taken", t.Name, ErrConflict)
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("sqlstore: create token %q: %w", t.Name, err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO tokens (`+tokenCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			t.ID, t.Name, t.Role, t.Hash, toNanos(t.CreatedAt), t.CreatedBy,
			toNullNanos(t.ExpiresAt), toNullNanos(t.RevokedAt), toNullNanos(t.LastUsedAt))
		if isUniqueViolation(err) {
			return fmt.Errorf("token %q: %w: id %q is taken", t.Name, ErrConflict, t.ID)
		}
		if err != nil {
			return fmt.Errorf("sqlstore: create token %q: %w", t.Name, err)
		}
		return nil
	})
	if err != nil {
		return Token{}, err
	}
	return t, nil
}

// getToken reads the token whose column col (name or id) is key from q.
func getToken(ctx context.Context, q queryer, col, key string) (Token, error) {
	t, err := scanToken(q.QueryRowContext(ctx, `SELECT `+tokenCols+` FROM tokens WHERE `+col+` = ?`, key))
	if errors.Is(err, sql.ErrNoRows) {
		if col == "id" {
			return Token{}, fmt.Errorf("token with id %q: %w", key, ErrNotFound)
		}
		return Token{}, fmt.Errorf("token %q: %w", key, ErrNotFound)
	}
	if err != nil {
		return Token{}, fmt.Errorf("sqlstore: get token %q: %w", key, err)
	}
	return t, nil
}

// GetTokenByName returns the token called name, revoked or not.
func (s *Store) GetTokenByName(ctx context.Context, name string) (Token, error) {
	return getToken(ctx, s.r, "name", name)
}

// GetTokenByID returns the token whose public id is id, revoked or not.
func (s *Store) GetTokenByID(ctx context.Context, id string) (Token, error) {
	return getToken(ctx, s.r, "id", id)
}

// ListTokens returns every token, revoked and expired ones included, ordered
// by name. It never returns a nil slice.
func (s *Store) ListTokens(ctx context.Context) ([]Token, error) {
	return queryAll(ctx, s.r, scanToken, `SELECT `+tokenCols+` FROM tokens ORDER BY name`)
}

// CountTokens returns how many tokens are stored, revoked and expired ones
// included.
func (s *Store) CountTokens(ctx context.Context) (int, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM tokens`).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlstore: count tokens: %w", err)
	}
	return n, nil
}

// RevokeToken revokes the token called name as of at (now when zero) and
// returns it. A token already revoked is an ErrConflict. The name stays
// taken.
func (s *Store) RevokeToken(ctx context.Context, name string, at time.Time) (Token, error) {
	if err := checkTime(fmt.Sprintf("token %q revoked_at", name), at); err != nil {
		return Token{}, err
	}
	at = utc(at)
	if at.IsZero() {
		at = s.now()
	}
	var out Token
	err := s.write(ctx, func(tx *sql.Tx) error {
		t, err := getToken(ctx, tx, "name", name)
		if err != nil {
			return err
		}
		if !t.RevokedAt.IsZero() {
			return fmt.Errorf("token %q: %w: already revoked at %s", name, ErrConflict, t.RevokedAt.Format(time.RFC3339Nano))
		}
		if _, err := tx.ExecContext(ctx, `UPDATE tokens SET revoked_at = ? WHERE id = ?`, toNanos(at), t.ID); err != nil {
			return fmt.Errorf("sqlstore: revoke token %q: %w", name, err)
		}
		t.RevokedAt = at
		out = t
		return nil
	})
	if err != nil {
		return Token{}, err
	}
	return out, nil
}

// TouchTokens records, in one transaction, when each token (by id) last
// authenticated a request, as a periodic flush of what the caller gathered
// in memory. LastUsedAt only moves forward; zero times and ids of no token
// are skipped.
func (s *Store) TouchTokens(ctx context.Context, lastUsed map[string]time.Time) error {
	for id, at := range lastUsed {
		if err := checkTime(fmt.Sprintf("token with id %q last_used_at", id), at); err != nil {
			return err
		}
	}
	if len(lastUsed) == 0 {
		return nil
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx,
			`UPDATE tokens SET last_used_at = ?1 WHERE id = ?2 AND (last_used_at IS NULL OR last_used_at < ?1)`)
		if err != nil {
			return fmt.Errorf("sqlstore: touch tokens: %w", err)
		}
		defer stmt.Close()
		for id, at := range lastUsed {
			if at.IsZero() {
				continue
			}
			if _, err := stmt.ExecContext(ctx, toNanos(at), id); err != nil {
				return fmt.Errorf("sqlstore: touch token with id %q: %w", id, err)
			}
		}
		return nil
	})
}
