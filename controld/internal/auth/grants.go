package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/controld/internal/grant"
	"github.com/lmx-video/lmx/sqlstore"
)

func validName(s string) error { return broker.ValidateName(s) }

func newGrantKey(now time.Time) (sqlstore.GrantKey, error) {
	id, key, err := grant.NewKey()
	if err != nil {
		return sqlstore.GrantKey{}, err
	}
	return sqlstore.GrantKey{ID: id, Key: key, CreatedAt: now}, nil
}

// GrantKey gives grant.Verify the key with id (grant.KeyRing).
func (a *Authority) GrantKey(id string) ([]byte, bool) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	k, ok := a.keys[id]
	return k, ok
}

// MintGrant signs a playback grant for scope on behalf of by, valid for ttl
// (DefaultGrantTTL when 0) and never beyond by's own expiry. It returns ""
// when auth is off (by has no token): playback is open then.
func (a *Authority) MintGrant(by Principal, scope grant.Scope, ttl time.Duration) (string, time.Time, error) {
	if by.TokenID == "" {
		return "", time.Time{}, nil
	}
	if err := Allow(by, PermWatch); err != nil {
		return "", time.Time{}, err
	}
	if ttl < 0 {
		return "", time.Time{}, fmt.Errorf("%w: ttl %s: must not be negative", ErrInvalid, ttl)
	}
	if ttl == 0 {
		ttl = a.cfg.DefaultGrantTTL
	}
	// Whole seconds: the grant carries unix seconds.
	exp := a.now().Add(ttl).Truncate(time.Second)
	if !by.Expires.IsZero() && exp.After(by.Expires) {
		exp = by.Expires.Truncate(time.Second)
	}
	a.mu.RLock()
	kid, key := a.keyID, a.keys[a.keyID]
	a.mu.RUnlock()
	g, err := grant.Sign(grant.Claims{KeyID: kid, Scope: scope, Issuer: by.TokenID, Expires: exp}, key)
	if err != nil {
		return "", time.Time{}, err
	}
	return g, exp, nil
}

// VerifyGrant checks a playback grant for scope: well formed, signed with a
// current key, for this scope, unexpired, and issued by a token that still
// works (revoking a token revokes its grants).
func (a *Authority) VerifyGrant(g string, scope grant.Scope) error {
	now := a.now()
	c, err := grant.Verify(g, a, scope, now)
	if err != nil {
		refusal := fmt.Errorf("%w: %v", ErrBadGrant, err)
		if errors.Is(err, grant.ErrExpired) {
			// Genuine: Verify checks the signature and the scope first.
			return stale(refusal)
		}
		return refusal
	}
	if _, ok := a.live(c.Issuer, now); !ok {
		return stale(fmt.Errorf("%w: the token that issued it was revoked or has expired", ErrBadGrant))
	}
	return nil
}

// RotateGrantKey replaces every grant key with a new one: every playback
// URL signed before stops working.
func (a *Authority) RotateGrantKey(ctx context.Context) error {
	k, err := newGrantKey(a.now())
	if err != nil {
		return err
	}
	if err := a.store.RotateGrantKeys(ctx, k); err != nil {
		return err
	}
	a.mu.Lock()
	a.keys = map[string][]byte{k.ID: k.Key}
	a.keyID = k.ID
	a.mu.Unlock()
	return nil
}
