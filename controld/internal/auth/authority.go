// Package auth is the control node's access control: API tokens and their
// roles, edge credentials and join tokens, signed playback grants, and the
// limiter that slows down guessing. Secrets are kept only as hashes (in
// SQLite and in memory), compared in constant time, and never logged.
//
// Everything a request is checked against is held in memory, so a check
// costs no database round trip and a revocation takes effect at once: the
// store is written first, then the memory.
package auth

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/internal/secret"
	"github.com/lmx-video/lmx/sqlstore"
)

// Sentinel errors. Each is answered with its status (see Status), and its
// message says what to do.
var (
	// ErrNoCredential means the request carried no token (401).
	ErrNoCredential = errors.New("no credential")
	// ErrBadHeader means the Authorization header is not "Bearer TOKEN" (400).
	ErrBadHeader = errors.New("malformed Authorization header")
	// ErrBadCredential means the credential is unknown, malformed, revoked or expired (401).
	ErrBadCredential = errors.New("credential not accepted")
	// ErrForbidden means the credential is good but its role does not allow the call (403).
	ErrForbidden = errors.New("not allowed")
	// ErrBadGrant means a playback grant is malformed, forged, altered,
	// expired, revoked or for something else (403).
	ErrBadGrant = errors.New("playback grant not accepted")
	// ErrInvalid means the request is wrong (400).
	ErrInvalid = errors.New("invalid")
	// ErrStale marks, beside ErrBadCredential or ErrBadGrant, a credential
	// this control node issued and still recognises that no longer works:
	// an API token or edge credential that was revoked or has expired, a
	// playback grant that expired or whose token no longer works. Its
	// holder is not guessing: a revoked edge keeps retrying by design, an
	// expired URL stays open in a player. Gate.Failed counts such a refusal
	// but does not slow the address down for it.
	ErrStale = errors.New("no longer valid")
)

// staleError is a refusal of a stale credential: errors.Is(err, ErrStale)
// holds, and its message is err's.
type staleError struct{ error }

func (staleError) Is(target error) bool { return target == ErrStale }
func (e staleError) Unwrap() error      { return e.error }

// stale marks err as the refusal of a stale credential (ErrStale).
func stale(err error) error { return staleError{err} }

// Store is the state access control keeps.
type Store interface {
	CreateToken(ctx context.Context, t sqlstore.Token) (sqlstore.Token, error)
	ListTokens(ctx context.Context) ([]sqlstore.Token, error)
	RevokeToken(ctx context.Context, name string, at time.Time) (sqlstore.Token, error)
	TouchTokens(ctx context.Context, lastUsed map[string]time.Time) error
	CountTokens(ctx context.Context) (int, error)

	AddEdge(ctx context.Context, edge string, join sqlstore.JoinToken, at time.Time) error
	GetJoinToken(ctx context.Context, id string) (sqlstore.JoinToken, error)
	UseJoinToken(ctx context.Context, id string, at time.Time, credID string, credHash []byte) (string, error)
	ListEdgeCredentials(ctx context.Context) ([]sqlstore.EdgeCredential, error)
	RevokeEdge(ctx context.Context, edge string, at time.Time) (sqlstore.EdgeCredential, error)
	RestoreEdge(ctx context.Context, edge string) (sqlstore.EdgeCredential, error)

	GrantKeys(ctx context.Context) ([]sqlstore.GrantKey, error)
	AddGrantKey(ctx context.Context, k sqlstore.GrantKey) error
	RotateGrantKeys(ctx context.Context, k sqlstore.GrantKey) error
}

// Config is how access control behaves.
type Config struct {
	// DataDir is where the first admin token is written (api.AdminTokenFile).
	DataDir string
	// AdminGroup, when set, is the group that may read the admin token:
	// the file is made 0640 and the data dir 0750, both given to the group.
	AdminGroup string
	// DefaultGrantTTL is how long a playback URL plays when the caller does not say (default 2 h).
	DefaultGrantTTL time.Duration
	// DefaultJoinTTL is how long a join token can be used (default 1 h).
	DefaultJoinTTL time.Duration
}

// maxTTLSeconds is the longest token lifetime a time.Duration holds (about
// 292 years); a longer one would wrap round into the past.
const maxTTLSeconds = int64(math.MaxInt64 / time.Second)

// Authority holds the credentials and checks them.
type Authority struct {
	cfg    Config
	store  Store
	logger *slog.Logger
	now    func() time.Time

	mu        sync.RWMutex
	tokens    map[string]*tokenEntry // by token id
	byName    map[string]*tokenEntry
	edgeCreds map[string]*edgeEntry // by credential id
	edges     map[string]*edgeEntry // by edge name
	keys      map[string][]byte     // grant keys by id
	keyID     string                // the key new grants are signed with
	public    map[string]bool       // source ids anyone may watch

	usedMu   sync.Mutex
	lastUsed map[string]time.Time // token id → last use, flushed by Run

	hooksMu       sync.Mutex
	onTokenRevoke []func(tokenID string)
	onEdgeRevoke  []func(edge string)
}

type tokenEntry struct {
	id, name, role string
	hash           []byte
	expires        time.Time
	revoked        bool
}

type edgeEntry struct {
	edge, credID string
	hash         []byte // nil until joined
	revoked      bool
}

// New loads every credential into memory and makes a grant key if there is none.
func New(ctx context.Context, cfg Config, store Store, logger *slog.Logger) (*Authority, error) {
	if cfg.DefaultGrantTTL <= 0 {
		cfg.DefaultGrantTTL = 2 * time.Hour
	}
	if cfg.DefaultJoinTTL <= 0 {
		cfg.DefaultJoinTTL = time.Hour
	}
	a := &Authority{cfg: cfg, store: store, logger: logger, now: time.Now,
		tokens: map[string]*tokenEntry{}, byName: map[string]*tokenEntry{},
		edgeCreds: map[string]*edgeEntry{}, edges: map[string]*edgeEntry{},
		keys: map[string][]byte{}, lastUsed: map[string]time.Time{},
	}
	toks, err := store.ListTokens(ctx)
	if err != nil {
		return nil, fmt.Errorf("loading tokens: %w", err)
	}
	for _, t := range toks {
		a.putToken(t)
	}
	creds, err := store.ListEdgeCredentials(ctx)
	if err != nil {
		return nil, fmt.Errorf("loading edge credentials: %w", err)
	}
	for _, c := range creds {
		a.putEdge(c)
	}
	keys, err := store.GrantKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("loading grant keys: %w", err)
	}
	if len(keys) == 0 {
		k, err := newGrantKey(a.now())
		if err != nil {
			return nil, err
		}
		if err := store.AddGrantKey(ctx, k); err != nil {
			return nil, fmt.Errorf("saving grant key: %w", err)
		}
		keys = []sqlstore.GrantKey{k}
	}
	for i, k := range keys { // newest first
		a.keys[k.ID] = k.Key
		if i == 0 {
			a.keyID = k.ID
		}
	}
	return a, nil
}

func (a *Authority) putToken(t sqlstore.Token) {
	e := &tokenEntry{id: t.ID, name: t.Name, role: t.Role, hash: t.Hash, expires: t.ExpiresAt, revoked: !t.RevokedAt.IsZero()}
	a.tokens[t.ID] = e
	a.byName[t.Name] = e
}

func (a *Authority) putEdge(c sqlstore.EdgeCredential) {
	if old, ok := a.edges[c.Edge]; ok {
		delete(a.edgeCreds, old.credID)
	}
	e := &edgeEntry{edge: c.Edge, credID: c.ID, hash: c.Hash, revoked: !c.RevokedAt.IsZero()}
	a.edges[c.Edge] = e
	if c.ID != "" {
		a.edgeCreds[c.ID] = e
	}
}

// OnTokenRevoked registers f to run (synchronously) when a token is
// revoked: the event hub closes that token's open streams.
func (a *Authority) OnTokenRevoked(f func(tokenID string)) {
	a.hooksMu.Lock()
	defer a.hooksMu.Unlock()
	a.onTokenRevoke = append(a.onTokenRevoke, f)
}

// OnEdgeRevoked registers f to run (synchronously) when an edge is revoked
// or re-added: the broker closes its MQTT session.
func (a *Authority) OnEdgeRevoked(f func(edge string)) {
	a.hooksMu.Lock()
	defer a.hooksMu.Unlock()
	a.onEdgeRevoke = append(a.onEdgeRevoke, f)
}

// Run records when tokens were last used, every few seconds, until ctx ends.
func (a *Authority) Run(ctx context.Context) error {
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			a.flushLastUsed(context.Background())
			return nil
		case <-t.C:
			a.flushLastUsed(ctx)
		}
	}
}

func (a *Authority) flushLastUsed(ctx context.Context) {
	a.usedMu.Lock()
	used := a.lastUsed
	a.lastUsed = map[string]time.Time{}
	a.usedMu.Unlock()
	if len(used) == 0 {
		return
	}
	if err := a.store.TouchTokens(ctx, used); err != nil {
		a.logger.Warn("could not record when tokens were last used", "err", err)
	}
}

// EnsureAdmin creates the first admin token when there is no token at all
// and writes its secret to DATA-DIR/admin.token (0600). It returns that
// file's path and whether the token was made now. With an AdminGroup, the
// file (made now or before) is then shared with that group (ShareWithGroup).
func (a *Authority) EnsureAdmin(ctx context.Context) (path string, created bool, err error) {
	path, created, err = a.ensureAdmin(ctx)
	if err != nil || a.cfg.AdminGroup == "" {
		return path, created, err
	}
	return path, created, ShareWithGroup(a.cfg.DataDir, path, a.cfg.AdminGroup)
}

func (a *Authority) ensureAdmin(ctx context.Context) (path string, created bool, err error) {
	path = filepath.Join(a.cfg.DataDir, api.AdminTokenFile)
	n, err := a.store.CountTokens(ctx)
	if err != nil {
		return path, false, err
	}
	if n > 0 {
		return path, false, nil
	}
	s, err := secret.New(secret.KindToken)
	if err != nil {
		return path, false, err
	}
	// The file first: a token nobody can read would lock the operator out.
	if err := writeSecretFile(path, s.String()+"\n"); err != nil {
		return path, false, fmt.Errorf("writing the admin token: %w", err)
	}
	t, err := a.store.CreateToken(ctx, sqlstore.Token{ID: s.ID, Name: "admin", Role: api.RoleAdmin, Hash: secret.Hash(s), CreatedAt: a.now()})
	if err != nil {
		return path, false, err
	}
	a.mu.Lock()
	a.putToken(t)
	a.mu.Unlock()
	return path, true, nil
}

// ShareWithGroup lets the members of group read the admin token file at
// path in dir (so they run lmx on the control node's machine as admins):
// the file becomes 0640 and dir 0750, both owned by the group. A file that
// is not there (an admin token since revoked and deleted) leaves dir alone.
func ShareWithGroup(dir, path, group string) error {
	g, err := user.LookupGroup(group)
	if err != nil {
		var unknown user.UnknownGroupError
		if errors.As(err, &unknown) {
			return fmt.Errorf("--admin-group %s: there is no such group on this machine: create it (sudo addgroup --system %s) or leave out --admin-group", group, group)
		}
		return fmt.Errorf("--admin-group %s: %w", group, err)
	}
	gid, err := strconv.Atoi(g.Gid)
	if err != nil {
		return fmt.Errorf("--admin-group %s: group id %q: %w", group, g.Gid, err)
	}
	for _, f := range []struct {
		path string
		mode os.FileMode
	}{{dir, 0o750}, {path, 0o640}} {
		if err := os.Chown(f.path, -1, gid); err != nil {
			if errors.Is(err, fs.ErrNotExist) && f.path == path {
				return nil
			}
			return fmt.Errorf("--admin-group %s: giving %s to the group: %w (the user that runs controld must be a member of %s)", group, f.path, unwrapPath(err), group)
		}
		if err := os.Chmod(f.path, f.mode); err != nil {
			return fmt.Errorf("--admin-group %s: %w", group, err)
		}
	}
	return nil
}

// unwrapPath drops an *fs.PathError's "op PATH:" where the message names
// the path already.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// writeSecretFile writes a secret readable by its owner only, atomically.
func writeSecretFile(path, content string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".secret-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.WriteString(content); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Authenticate checks an API token (the part after "Bearer ").
func (a *Authority) Authenticate(token string) (Principal, error) {
	if token == "" {
		return Principal{}, fmt.Errorf("%w: send Authorization: Bearer TOKEN (lmx --token, LMX_TOKEN)", ErrNoCredential)
	}
	s, err := secret.ParseKind(token, secret.KindToken)
	if err != nil {
		return Principal{}, fmt.Errorf("%w: %v", ErrBadCredential, err)
	}
	a.mu.RLock()
	e, ok := a.tokens[s.ID]
	a.mu.RUnlock()
	if !ok || !secret.Matches(s, e.hash) {
		return Principal{}, fmt.Errorf("%w: the token is not known to this control node", ErrBadCredential)
	}
	if e.revoked {
		return Principal{}, stale(fmt.Errorf("%w: token %q was revoked", ErrBadCredential, e.name))
	}
	now := a.now()
	if !e.expires.IsZero() && !now.Before(e.expires) {
		return Principal{}, stale(fmt.Errorf("%w: token %q expired at %s", ErrBadCredential, e.name, e.expires.UTC().Format(time.RFC3339)))
	}
	a.usedMu.Lock()
	a.lastUsed[e.id] = now
	a.usedMu.Unlock()
	return Principal{TokenID: e.id, Name: e.name, Role: e.role, Expires: e.expires}, nil
}

// live reports whether the token with id still works, for grants it issued.
func (a *Authority) live(id string, now time.Time) (*tokenEntry, bool) {
	a.mu.RLock()
	e, ok := a.tokens[id]
	a.mu.RUnlock()
	if !ok || e.revoked || (!e.expires.IsZero() && !now.Before(e.expires)) {
		return nil, false
	}
	return e, true
}

// TokenValid reports whether the token with id still works (not revoked,
// not expired): what a long-lived request (an event stream) asks again.
func (a *Authority) TokenValid(id string) bool {
	_, ok := a.live(id, a.now())
	return ok
}

// Allow checks that p may do perm.
func Allow(p Principal, perm Permission) error {
	if p.Can(perm) {
		return nil
	}
	return fmt.Errorf("%w: token %q has role %s; this needs %s (a token with that role: lmx token create NAME --role %s)", ErrForbidden, p.Name, p.Role, LeastRole(perm), LeastRole(perm))
}

// CreateToken makes a token for by. An operator may make viewer and
// operator tokens; only an admin makes admin tokens.
func (a *Authority) CreateToken(ctx context.Context, by Principal, nt api.NewToken) (api.Token, string, error) {
	if !ValidRole(nt.Role) {
		return api.Token{}, "", fmt.Errorf("%w: role %q: want viewer, operator or admin", ErrInvalid, nt.Role)
	}
	perm := PermTokens
	if nt.Role == api.RoleAdmin {
		perm = PermAdminTokens
	}
	if err := Allow(by, perm); err != nil {
		return api.Token{}, "", err
	}
	if err := validName(nt.Name); err != nil {
		return api.Token{}, "", fmt.Errorf("%w: token name: %v", ErrInvalid, err)
	}
	if nt.TTLSeconds < 0 {
		return api.Token{}, "", fmt.Errorf("%w: ttl_seconds %d: must not be negative", ErrInvalid, nt.TTLSeconds)
	}
	if nt.TTLSeconds > maxTTLSeconds {
		return api.Token{}, "", fmt.Errorf("%w: ttl_seconds %d: must be at most %d (0 means until revoked)", ErrInvalid, nt.TTLSeconds, maxTTLSeconds)
	}
	s, err := secret.New(secret.KindToken)
	if err != nil {
		return api.Token{}, "", err
	}
	now := a.now()
	t := sqlstore.Token{ID: s.ID, Name: nt.Name, Role: nt.Role, Hash: secret.Hash(s), CreatedAt: now, CreatedBy: by.Name}
	if nt.TTLSeconds > 0 {
		t.ExpiresAt = now.Add(time.Duration(nt.TTLSeconds) * time.Second)
	}
	// A token never outlives the token that made it, as grants do not.
	if !by.Expires.IsZero() && (t.ExpiresAt.IsZero() || t.ExpiresAt.After(by.Expires)) {
		t.ExpiresAt = by.Expires
	}
	t, err = a.store.CreateToken(ctx, t)
	if err != nil {
		return api.Token{}, "", err
	}
	a.mu.Lock()
	a.putToken(t)
	a.mu.Unlock()
	return tokenView(t), s.String(), nil
}

// ListTokens lists every token, secrets left out.
func (a *Authority) ListTokens(ctx context.Context) ([]api.Token, error) {
	ts, err := a.store.ListTokens(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]api.Token, 0, len(ts))
	for _, t := range ts {
		out = append(out, tokenView(t))
	}
	return out, nil
}

// RevokeToken revokes the token called name: from the next request on, it
// and every grant it issued are refused, and its event streams close.
func (a *Authority) RevokeToken(ctx context.Context, by Principal, name string) (api.Token, error) {
	a.mu.RLock()
	e, ok := a.byName[name]
	a.mu.RUnlock()
	if ok && e.role == api.RoleAdmin {
		if err := Allow(by, PermAdminTokens); err != nil {
			return api.Token{}, err
		}
	} else if err := Allow(by, PermTokens); err != nil {
		return api.Token{}, err
	}
	t, err := a.store.RevokeToken(ctx, name, a.now())
	if err != nil {
		return api.Token{}, err
	}
	a.mu.Lock()
	a.putToken(t)
	a.mu.Unlock()
	a.hooksMu.Lock()
	hooks := append([]func(string){}, a.onTokenRevoke...)
	a.hooksMu.Unlock()
	for _, f := range hooks {
		f(t.ID)
	}
	return tokenView(t), nil
}

func tokenView(t sqlstore.Token) api.Token {
	return api.Token{Name: t.Name, Role: t.Role, CreatedAt: t.CreatedAt, CreatedBy: t.CreatedBy,
		ExpiresAt: t.ExpiresAt, RevokedAt: t.RevokedAt, LastUsedAt: t.LastUsedAt}
}
