package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/internal/secret"
	"github.com/lmx-video/lmx/sqlstore"
)

// AddEdge registers an edge (or replaces the credential of a known one)
// and returns its single-use join secret and when that expires. A replaced
// credential stops working at once.
func (a *Authority) AddEdge(ctx context.Context, by Principal, name string, ttl time.Duration) (secret.Secret, time.Time, error) {
	if err := Allow(by, PermEdges); err != nil {
		return secret.Secret{}, time.Time{}, err
	}
	if err := validName(name); err != nil {
		return secret.Secret{}, time.Time{}, fmt.Errorf("%w: edge name: %v", ErrInvalid, err)
	}
	if ttl < 0 {
		return secret.Secret{}, time.Time{}, fmt.Errorf("%w: ttl %s: must not be negative", ErrInvalid, ttl)
	}
	if ttl == 0 {
		ttl = a.cfg.DefaultJoinTTL
	}
	s, err := secret.New(secret.KindJoin)
	if err != nil {
		return secret.Secret{}, time.Time{}, err
	}
	now := a.now()
	exp := now.Add(ttl)
	if err := a.store.AddEdge(ctx, name, sqlstore.JoinToken{ID: s.ID, Edge: name, Hash: secret.Hash(s), CreatedAt: now, ExpiresAt: exp}, now); err != nil {
		return secret.Secret{}, time.Time{}, err
	}
	a.mu.Lock()
	had := a.edges[name] != nil && a.edges[name].hash != nil
	a.putEdge(sqlstore.EdgeCredential{Edge: name, CreatedAt: now})
	a.mu.Unlock()
	if had {
		a.edgeRevoked(name)
	}
	return s, exp, nil
}

// Join exchanges a join secret for the edge's credential, once.
func (a *Authority) Join(ctx context.Context, joinSecret string) (edge, credential string, err error) {
	js, err := secret.ParseKind(joinSecret, secret.KindJoin)
	if err != nil {
		return "", "", fmt.Errorf("%w: %v", ErrBadCredential, err)
	}
	jt, err := a.store.GetJoinToken(ctx, js.ID)
	if errors.Is(err, sqlstore.ErrNotFound) || (err == nil && !secret.Matches(js, jt.Hash)) {
		return "", "", fmt.Errorf("%w: the join token is not known to this control node (run lmx edge add NAME again)", ErrBadCredential)
	}
	if err != nil {
		return "", "", err
	}
	now := a.now()
	if !jt.UsedAt.IsZero() {
		return "", "", fmt.Errorf("%w: the join token was already used at %s; join tokens work once (run lmx edge add %s again)", ErrBadCredential, jt.UsedAt.UTC().Format(time.RFC3339), jt.Edge)
	}
	if !now.Before(jt.ExpiresAt) {
		return "", "", fmt.Errorf("%w: the join token expired at %s (run lmx edge add %s again)", ErrBadCredential, jt.ExpiresAt.UTC().Format(time.RFC3339), jt.Edge)
	}
	cred, err := secret.New(secret.KindEdge)
	if err != nil {
		return "", "", err
	}
	edge, err = a.store.UseJoinToken(ctx, js.ID, now, cred.ID, secret.Hash(cred))
	if err != nil {
		if errors.Is(err, sqlstore.ErrConflict) || errors.Is(err, sqlstore.ErrNotFound) || errors.Is(err, sqlstore.ErrInvalid) || errors.Is(err, sqlstore.ErrExpired) {
			return "", "", fmt.Errorf("%w: %v", ErrBadCredential, err)
		}
		return "", "", err
	}
	a.mu.Lock()
	a.putEdge(sqlstore.EdgeCredential{Edge: edge, ID: cred.ID, Hash: secret.Hash(cred), CreatedAt: now, JoinedAt: now})
	a.mu.Unlock()
	return edge, cred.String(), nil
}

// AuthenticateEdge checks an edge credential and says which edge it is.
func (a *Authority) AuthenticateEdge(credential string) (string, error) {
	if credential == "" {
		return "", fmt.Errorf("%w: this control node wants the edge's credential (start the edge with --join from lmx edge add NAME)", ErrNoCredential)
	}
	s, err := secret.ParseKind(credential, secret.KindEdge)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadCredential, err)
	}
	a.mu.RLock()
	e, ok := a.edgeCreds[s.ID]
	a.mu.RUnlock()
	if !ok || e.hash == nil || !secret.Matches(s, e.hash) {
		return "", fmt.Errorf("%w: the edge credential is not known to this control node (was the edge added again?)", ErrBadCredential)
	}
	if e.revoked {
		return "", stale(fmt.Errorf("%w: edge %q was revoked (lmx edge restore %s lets it back in)", ErrBadCredential, e.edge, e.edge))
	}
	return e.edge, nil
}

// RevokeEdge cuts an edge off: its uploads are refused from the next one
// on and its MQTT session is closed.
func (a *Authority) RevokeEdge(ctx context.Context, by Principal, name string) error {
	if err := Allow(by, PermEdges); err != nil {
		return err
	}
	c, err := a.store.RevokeEdge(ctx, name, a.now())
	if err != nil {
		return err
	}
	a.mu.Lock()
	a.putEdge(c)
	a.mu.Unlock()
	a.edgeRevoked(name)
	return nil
}

// RestoreEdge lets a revoked edge back in with its same credential.
func (a *Authority) RestoreEdge(ctx context.Context, by Principal, name string) error {
	if err := Allow(by, PermEdges); err != nil {
		return err
	}
	c, err := a.store.RestoreEdge(ctx, name)
	if err != nil {
		return err
	}
	a.mu.Lock()
	a.putEdge(c)
	a.mu.Unlock()
	return nil
}

func (a *Authority) edgeRevoked(name string) {
	a.hooksMu.Lock()
	hooks := append([]func(string){}, a.onEdgeRevoke...)
	a.hooksMu.Unlock()
	for _, f := range hooks {
		f(name)
	}
}

// EdgeCredential is the state of an edge's credential (api.Credential*),
// "" for an edge never added.
func (a *Authority) EdgeCredential(name string) string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	e, ok := a.edges[name]
	switch {
	case !ok:
		return ""
	case e.revoked:
		return api.CredentialRevoked
	case e.hash == nil:
		return api.CredentialPending
	}
	return api.CredentialJoined
}

// EdgeNames lists the edges that were added, whatever their state.
func (a *Authority) EdgeNames() []string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	out := make([]string, 0, len(a.edges))
	for n := range a.edges {
		out = append(out, n)
	}
	return out
}
