package auth

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/internal/secret"
	"github.com/lmx-video/lmx/sqlstore"
	"os/user"
	"strconv"
	"syscall"
)

// clock is a settable time source for Authority.now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fixture is an Authority on a real store, its clock and its data dir.
type fixture struct {
	a     *Authority
	store *sqlstore.Store
	clock *clock
	dir   string
}

// newFixture opens a store in a temporary directory and an Authority on
// it whose clock stands still until moved.
func newFixture(t testing.TB) *fixture {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlstore.Open(t.Context(), filepath.Join(dir, "lmx.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{store: st, dir: dir, clock: &clock{t: time.Date(2031, 2, 3, 4, 5, 6, 700, time.UTC)}}
	f.a = f.reopen(t)
	return f
}

// reopen is a new Authority on the same store and clock, as after a restart.
func (f *fixture) reopen(t testing.TB) *Authority {
	t.Helper()
	a, err := New(t.Context(), Config{DataDir: f.dir}, f.store, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	a.now = f.clock.Now
	return a
}

// admin makes the first admin token and returns its principal.
func (f *fixture) admin(t testing.TB) Principal {
	t.Helper()
	path, created, err := f.a.EnsureAdmin(t.Context())
	if err != nil || !created {
		t.Fatalf("EnsureAdmin = %v, %v", created, err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.a.Authenticate(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// token creates a token and returns its principal and secret.
func (f *fixture) token(t testing.TB, by Principal, name, role string, ttl int64) (Principal, string) {
	t.Helper()
	_, sec, err := f.a.CreateToken(t.Context(), by, api.NewToken{Name: name, Role: role, TTLSeconds: ttl})
	if err != nil {
		t.Fatalf("CreateToken %s (%s): %v", name, role, err)
	}
	p, err := f.a.Authenticate(sec)
	if err != nil {
		t.Fatalf("Authenticate %s: %v", name, err)
	}
	return p, sec
}

// noSecret fails t if err's message shows any of the secrets.
func noSecret(t *testing.T, what string, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range secrets {
		if s == "" {
			continue
		}
		if strings.Contains(err.Error(), s) {
			t.Errorf("%s: error %q shows the secret %q", what, err, s)
		}
		if sec, perr := secret.Parse(s); perr == nil && strings.Contains(err.Error(), sec.Key) {
			t.Errorf("%s: error %q shows the key of the secret", what, err)
		}
	}
}

func TestEnsureAdmin(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	path, created, err := f.a.EnsureAdmin(ctx)
	if err != nil || !created {
		t.Fatalf("first EnsureAdmin = %q, %v, %v; want a token made", path, created, err)
	}
	if want := filepath.Join(f.dir, api.AdminTokenFile); path != want {
		t.Errorf("path %q, want %q", path, want)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := st.Mode(); mode.Perm() != 0o600 || !mode.IsRegular() {
		t.Errorf("admin token file mode %v, want -rw-------", mode)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	content := string(b)
	tok := strings.TrimSpace(content)
	if content != tok+"\n" {
		t.Errorf("file %q: want the token and a newline", content)
	}
	p, err := f.a.Authenticate(tok)
	if err != nil {
		t.Fatalf("the admin token is refused: %v", err)
	}
	if p.Role != api.RoleAdmin || p.Name != "admin" || p.TokenID == "" || !p.Expires.IsZero() {
		t.Errorf("principal %+v, want the admin token, never expiring", p)
	}
	if n, _ := f.store.CountTokens(ctx); n != 1 {
		t.Errorf("%d tokens stored, want 1", n)
	}
	stored, err := f.store.GetTokenByName(ctx, "admin")
	if err != nil || stored.Role != api.RoleAdmin || stored.CreatedBy != "" || stored.ID != p.TokenID {
		t.Errorf("stored %+v, %v", stored, err)
	}
	if parsed, err := secret.Parse(tok); err != nil || !secret.Matches(parsed, stored.Hash) || strings.Contains(string(stored.Hash), parsed.Key) {
		t.Error("the store does not hold the secret's hash, and only that")
	}

	// Again, and after a restart: nothing new, the file untouched.
	for i, a := range []*Authority{f.a, f.reopen(t)} {
		path2, created, err := a.EnsureAdmin(ctx)
		if err != nil || created || path2 != path {
			t.Errorf("EnsureAdmin #%d = %q, %v, %v; want nothing made", i+2, path2, created, err)
		}
		if n, _ := f.store.CountTokens(ctx); n != 1 {
			t.Errorf("%d tokens stored after EnsureAdmin #%d, want 1", n, i+2)
		}
		if b2, _ := os.ReadFile(path); string(b2) != content {
			t.Errorf("the admin token file changed on EnsureAdmin #%d", i+2)
		}
		if _, err := a.Authenticate(tok); err != nil {
			t.Errorf("the admin token is refused after EnsureAdmin #%d: %v", i+2, err)
		}
	}

	// A store that already has a token (the admin one revoked, another
	// made) gets no new admin token either.
	f2 := newFixture(t)
	adm := f2.admin(t)
	f2.token(t, adm, "ops", api.RoleOperator, 0)
	if _, err := f2.a.RevokeToken(ctx, adm, "admin"); err != nil {
		t.Fatal(err)
	}
	if _, created, err := f2.a.EnsureAdmin(ctx); err != nil || created {
		t.Errorf("EnsureAdmin with tokens stored = %v, %v; want nothing made", created, err)
	}
}

func TestEnsureAdminUnwritable(t *testing.T) {
	f := newFixture(t)
	f.a.cfg.DataDir = filepath.Join(f.dir, "missing", "dir")
	if _, created, err := f.a.EnsureAdmin(t.Context()); err == nil || created {
		t.Fatalf("EnsureAdmin into a missing directory = %v, %v; want an error", created, err)
	}
	// No token nobody can read: the next start tries again.
	if n, _ := f.store.CountTokens(t.Context()); n != 0 {
		t.Errorf("%d tokens stored although the file could not be written", n)
	}
}

func TestAuthenticate(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	adm := f.admin(t)
	viewer, viewerSec := f.token(t, adm, "tv", api.RoleViewer, 0)
	if viewer.Role != api.RoleViewer || viewer.Name != "tv" {
		t.Errorf("principal %+v", viewer)
	}

	if _, err := f.a.Authenticate(""); !errors.Is(err, ErrNoCredential) {
		t.Errorf("no token: %v, want ErrNoCredential", err)
	}

	known, err := secret.Parse(viewerSec)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := secret.New(secret.KindToken)
	edge, _ := secret.New(secret.KindEdge)
	join, _ := secret.New(secret.KindJoin)
	wrongKey := secret.Secret{Kind: secret.KindToken, ID: known.ID, Key: other.Key}
	cases := map[string]string{
		"garbage":             "garbage",
		"truncated":           viewerSec[:len(viewerSec)-1],
		"too long":            viewerSec + "A",
		"spaces around":       " " + viewerSec + " ",
		"upper-case id":       strings.Replace(viewerSec, known.ID, strings.ToUpper(known.ID), 1),
		"an edge credential":  edge.String(),
		"a join secret":       join.String(),
		"a join token":        secret.JoinPrefix + "eyJ9",
		"unknown":             other.String(),
		"wrong key, known id": wrongKey.String(),
	}
	for name, tok := range cases {
		_, err := f.a.Authenticate(tok)
		if !errors.Is(err, ErrBadCredential) {
			t.Errorf("%s: %v, want ErrBadCredential", name, err)
		}
		noSecret(t, name, err, tok, viewerSec)
	}

	// Expired: works up to its expiry, not at it.
	_, shortSec := f.token(t, adm, "short", api.RoleOperator, 60)
	f.clock.Add(59 * time.Second)
	if _, err := f.a.Authenticate(shortSec); err != nil {
		t.Errorf("a second before expiry: %v", err)
	}
	f.clock.Add(time.Second)
	_, err = f.a.Authenticate(shortSec)
	if !errors.Is(err, ErrBadCredential) || !strings.Contains(err.Error(), "expired") {
		t.Errorf("at expiry: %v, want ErrBadCredential saying expired", err)
	}
	noSecret(t, "expired", err, shortSec)

	// Revoked.
	if _, err := f.a.RevokeToken(ctx, adm, "tv"); err != nil {
		t.Fatal(err)
	}
	_, err = f.a.Authenticate(viewerSec)
	if !errors.Is(err, ErrBadCredential) || !strings.Contains(err.Error(), "revoked") {
		t.Errorf("revoked: %v, want ErrBadCredential saying revoked", err)
	}
	noSecret(t, "revoked", err, viewerSec)

	// The same after a restart: everything is loaded from the store.
	b := f.reopen(t)
	if _, err := b.Authenticate(viewerSec); !errors.Is(err, ErrBadCredential) {
		t.Errorf("revoked, after a restart: %v", err)
	}
	if _, err := b.Authenticate(shortSec); !errors.Is(err, ErrBadCredential) {
		t.Errorf("expired, after a restart: %v", err)
	}
	if p, err := b.Authenticate(wrongKey.String()); !errors.Is(err, ErrBadCredential) {
		t.Errorf("wrong key, after a restart: %+v, %v", p, err)
	}
}

func TestLastUsed(t *testing.T) {
	f := newFixture(t)
	adm := f.admin(t)
	_, sec := f.token(t, adm, "tv", api.RoleViewer, 0)
	f.clock.Add(time.Minute)
	used := f.clock.Now()
	if _, err := f.a.Authenticate(sec); err != nil {
		t.Fatal(err)
	}
	f.a.flushLastUsed(t.Context())
	tok, err := f.store.GetTokenByName(t.Context(), "tv")
	if err != nil || !tok.LastUsedAt.Equal(used) {
		t.Errorf("last used %v (%v), want %v", tok.LastUsedAt, err, used)
	}
	// Run flushes what is left when it ends.
	f.clock.Add(time.Minute)
	if _, err := f.a.Authenticate(sec); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := f.a.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if tok, _ := f.store.GetTokenByName(t.Context(), "tv"); !tok.LastUsedAt.Equal(f.clock.Now()) {
		t.Errorf("last used %v after Run ended, want %v", tok.LastUsedAt, f.clock.Now())
	}
}

func TestCreateToken(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	adm := f.admin(t)
	op, _ := f.token(t, adm, "op", api.RoleOperator, 0)
	viewer, _ := f.token(t, adm, "tv", api.RoleViewer, 0)

	for _, c := range []struct {
		by   Principal
		role string
		ok   bool
	}{
		{adm, api.RoleViewer, true}, {adm, api.RoleOperator, true}, {adm, api.RoleAdmin, true},
		{op, api.RoleViewer, true}, {op, api.RoleOperator, true}, {op, api.RoleAdmin, false},
		{viewer, api.RoleViewer, false}, {viewer, api.RoleOperator, false}, {viewer, api.RoleAdmin, false},
	} {
		name := c.by.Name + "-makes-" + c.role
		tok, sec, err := f.a.CreateToken(ctx, c.by, api.NewToken{Name: name, Role: c.role})
		if !c.ok {
			if !errors.Is(err, ErrForbidden) || sec != "" {
				t.Errorf("%s: %q, %v; want ErrForbidden", name, sec, err)
			}
			if _, err := f.store.GetTokenByName(ctx, name); !errors.Is(err, sqlstore.ErrNotFound) {
				t.Errorf("%s: refused, but stored (%v)", name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if tok.Name != name || tok.Role != c.role || tok.CreatedBy != c.by.Name || !tok.CreatedAt.Equal(f.clock.Now()) ||
			!tok.ExpiresAt.IsZero() || !tok.RevokedAt.IsZero() {
			t.Errorf("%s: token %+v", name, tok)
		}
		p, err := f.a.Authenticate(sec)
		if err != nil || p.Role != c.role || p.Name != name {
			t.Errorf("%s: the new secret authenticates as %+v, %v", name, p, err)
		}
	}

	for _, nt := range []api.NewToken{
		{Name: "x", Role: ""}, {Name: "x", Role: "root"}, {Name: "x", Role: "Admin"},
		{Name: "", Role: api.RoleViewer}, {Name: "a b", Role: api.RoleViewer}, {Name: "a/b", Role: api.RoleViewer},
		{Name: ".hidden", Role: api.RoleViewer}, {Name: strings.Repeat("n", 65), Role: api.RoleViewer},
		{Name: "x", Role: api.RoleViewer, TTLSeconds: -1},
	} {
		if _, _, err := f.a.CreateToken(ctx, adm, nt); !errors.Is(err, ErrInvalid) {
			t.Errorf("CreateToken(%+v): %v, want ErrInvalid", nt, err)
		}
	}
	if _, err := f.store.GetTokenByName(ctx, "x"); !errors.Is(err, sqlstore.ErrNotFound) {
		t.Errorf("an invalid token was stored (%v)", err)
	}

	// A TTL.
	tok, _, err := f.a.CreateToken(ctx, adm, api.NewToken{Name: "ci", Role: api.RoleOperator, TTLSeconds: 3600})
	if err != nil || !tok.ExpiresAt.Equal(f.clock.Now().Add(time.Hour)) {
		t.Errorf("with a ttl: %+v, %v; want expiring in an hour", tok, err)
	}
	// A TTL longer than time.Duration holds is refused, not wrapped round
	// into a token that expired before it was made.
	for _, ttl := range []int64{10_000_000_000, 1 << 62} {
		tok, sec, err := f.a.CreateToken(ctx, adm, api.NewToken{Name: "forever", Role: api.RoleViewer, TTLSeconds: ttl})
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("ttl %d: %+v (secret given: %v), %v; want ErrInvalid", ttl, tok, sec != "", err)
		}
	}

	// Names are unique, among revoked tokens too.
	if _, _, err := f.a.CreateToken(ctx, adm, api.NewToken{Name: "op", Role: api.RoleViewer}); !errors.Is(err, sqlstore.ErrConflict) {
		t.Errorf("duplicate name: %v, want ErrConflict", err)
	}
	if _, err := f.a.RevokeToken(ctx, adm, "ci"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.a.CreateToken(ctx, adm, api.NewToken{Name: "ci", Role: api.RoleViewer}); !errors.Is(err, sqlstore.ErrConflict) {
		t.Errorf("name of a revoked token: %v, want ErrConflict", err)
	}

	list, err := f.a.ListTokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tk := range list {
		names = append(names, tk.Name)
	}
	if !slices.IsSorted(names) || !slices.Contains(names, "ci") || !slices.Contains(names, "admin") || len(names) != 3+5+1 {
		t.Errorf("listed %v", names)
	}
}

// mustSecret is a well-formed token secret with the id of the token called
// name and a key of its own: what a guesser who read the logs could try.
func mustSecret(t *testing.T, f *fixture, name string) string {
	t.Helper()
	tok, err := f.store.GetTokenByName(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := secret.New(secret.KindToken)
	s.ID = tok.ID
	return s.String()
}

func TestRevokeToken(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	adm := f.admin(t)
	op, opSec := f.token(t, adm, "op", api.RoleOperator, 0)
	viewer, viewerSec := f.token(t, adm, "tv", api.RoleViewer, 0)
	_, op2Sec := f.token(t, adm, "op2", api.RoleOperator, 0)
	admin2, admin2Sec := f.token(t, adm, "admin2", api.RoleAdmin, 0)

	var mu sync.Mutex
	var revoked, revoked2 []string
	f.a.OnTokenRevoked(func(id string) { mu.Lock(); revoked = append(revoked, id); mu.Unlock() })
	f.a.OnTokenRevoked(func(id string) { mu.Lock(); revoked2 = append(revoked2, id); mu.Unlock() })
	hooked := func() []string {
		mu.Lock()
		defer mu.Unlock()
		if !slices.Equal(revoked, revoked2) {
			t.Errorf("the hooks saw %v and %v", revoked, revoked2)
		}
		out := revoked
		revoked, revoked2 = nil, nil
		return out
	}

	// Who may revoke whom.
	for _, c := range []struct {
		by   Principal
		name string
	}{{viewer, "op2"}, {viewer, "tv"}, {op, "admin2"}, {op, "admin"}} {
		if _, err := f.a.RevokeToken(ctx, c.by, c.name); !errors.Is(err, ErrForbidden) {
			t.Errorf("%s revokes %s: %v, want ErrForbidden", c.by.Name, c.name, err)
		}
	}
	if h := hooked(); len(h) != 0 {
		t.Errorf("refused revocations called the hook with %v", h)
	}
	for _, sec := range []string{viewerSec, op2Sec, admin2Sec} {
		if _, err := f.a.Authenticate(sec); err != nil {
			t.Errorf("a token whose revocation was refused stopped working: %v", err)
		}
	}

	// An operator revokes an operator, at once.
	tok, err := f.a.RevokeToken(ctx, op, "op2")
	if err != nil || tok.Name != "op2" || !tok.RevokedAt.Equal(f.clock.Now()) {
		t.Fatalf("RevokeToken = %+v, %v", tok, err)
	}
	if _, err := f.a.Authenticate(op2Sec); !errors.Is(err, ErrBadCredential) {
		t.Errorf("right after revoking: %v", err)
	}
	op2ID, _ := secret.Parse(op2Sec)
	if h := hooked(); !slices.Equal(h, []string{op2ID.ID}) {
		t.Errorf("hook called with %v, want [%s]", h, op2ID.ID)
	}

	// An admin revokes an admin, and a viewer.
	if _, err := f.a.RevokeToken(ctx, adm, "admin2"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.RevokeToken(ctx, adm, "tv"); err != nil {
		t.Fatal(err)
	}
	if h := hooked(); !slices.Equal(h, []string{admin2.TokenID, viewer.TokenID}) {
		t.Errorf("hook called with %v, want [%s %s]", h, admin2.TokenID, viewer.TokenID)
	}
	if _, err := f.a.Authenticate(viewerSec); err == nil {
		t.Error("revoked viewer still works")
	}

	// A token may revoke itself; it is refused from then on.
	if _, err := f.a.RevokeToken(ctx, op, "op"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.Authenticate(opSec); err == nil {
		t.Error("self-revoked operator still works")
	}
	hooked()

	if _, err := f.a.RevokeToken(ctx, adm, "nope"); !errors.Is(err, sqlstore.ErrNotFound) {
		t.Errorf("unknown token: %v, want ErrNotFound", err)
	}
	if _, err := f.a.RevokeToken(ctx, adm, "tv"); !errors.Is(err, sqlstore.ErrConflict) {
		t.Errorf("twice: %v, want ErrConflict", err)
	}
	if h := hooked(); len(h) != 0 {
		t.Errorf("failed revocations called the hook with %v", h)
	}
	if _, err := f.a.Authenticate(mustSecret(t, f, "admin")); err == nil {
		t.Error("a made-up key with the admin's id is accepted")
	}
}

func TestPublic(t *testing.T) {
	f := newFixture(t)
	if f.a.IsPublic("a") {
		t.Error("public before anything was said")
	}
	f.a.SetPublic("a", true)
	if !f.a.IsPublic("a") || f.a.IsPublic("b") {
		t.Error("SetPublic")
	}
	f.a.LoadPublic([]string{"b", "c"})
	if f.a.IsPublic("a") || !f.a.IsPublic("b") || !f.a.IsPublic("c") {
		t.Error("LoadPublic does not replace the set")
	}
	f.a.SetPublic("b", false)
	if f.a.IsPublic("b") {
		t.Error("SetPublic false")
	}
}

func TestRoles(t *testing.T) {
	for _, r := range []string{api.RoleViewer, api.RoleOperator, api.RoleAdmin} {
		if !ValidRole(r) {
			t.Errorf("%s is not a role", r)
		}
	}
	if ValidRole("") || ValidRole("root") {
		t.Error("a made-up role is valid")
	}
	// Each role has what the one below it has.
	for _, p := range Permissions {
		if Allows(api.RoleViewer, p) && !Allows(api.RoleOperator, p) || Allows(api.RoleOperator, p) && !Allows(api.RoleAdmin, p) {
			t.Errorf("permission %s: a higher role lacks what a lower one has", p)
		}
		if !Allows(LeastRole(p), p) {
			t.Errorf("LeastRole(%s) = %s, which lacks it", p, LeastRole(p))
		}
		if Allows("", p) || Allows("root", p) {
			t.Errorf("no role has %s", p)
		}
	}
	if !Open.Can(PermAdminTokens) || Open.TokenID != "" {
		t.Errorf("Open = %+v", Open)
	}
	err := Allow(Principal{Name: "tv", Role: api.RoleViewer}, PermEdges)
	if !errors.Is(err, ErrForbidden) || !strings.Contains(err.Error(), "admin") || !strings.Contains(err.Error(), `"tv"`) {
		t.Errorf("Allow = %v, want a refusal naming the token and the role needed", err)
	}
}

func TestBearer(t *testing.T) {
	for header, want := range map[string]string{
		"":                  "",
		"Bearer abc":        "abc",
		"bearer abc":        "abc",
		"BEARER  abc ":      "abc",
		"Bearer lmxt.x.y-z": "lmxt.x.y-z",
	} {
		if got, err := Bearer(header); err != nil || got != want {
			t.Errorf("Bearer(%q) = %q, %v; want %q", header, got, err, want)
		}
	}
	for _, header := range []string{"Basic x", "Bearer", "Bearer ", "Bearerabc", "Token abc", "Bearer a b", "Bearer a\tb", "Bearer " + strings.Repeat("a", 513)} {
		if got, err := Bearer(header); !errors.Is(err, ErrBadHeader) {
			t.Errorf("Bearer(%.20q) = %q, %v; want ErrBadHeader", header, got, err)
		}
	}
}

// TestAdminGroup: with an admin group, the admin token is readable by the
// group (0640) in a data dir it may enter (0750), on the start that makes
// the token and on later ones; an unknown group is an error that says so.
func TestAdminGroup(t *testing.T) {
	me, err := user.Current()
	if err != nil {
		t.Skip(err)
	}
	g, err := user.LookupGroupId(me.Gid)
	if err != nil {
		t.Skipf("the primary group of the user running the tests has no name: %v", err)
	}
	f := newFixture(t)
	f.a.cfg.AdminGroup = g.Name
	path, created, err := f.a.EnsureAdmin(t.Context())
	if err != nil || !created {
		t.Fatalf("EnsureAdmin = %v, %v", created, err)
	}
	check := func(when string) {
		t.Helper()
		for _, c := range []struct {
			path string
			mode os.FileMode
		}{{path, 0o640}, {f.dir, 0o750}} {
			st, err := os.Stat(c.path)
			if err != nil {
				t.Fatal(err)
			}
			gid := st.Sys().(*syscall.Stat_t).Gid
			if st.Mode().Perm() != c.mode || strconv.Itoa(int(gid)) != g.Gid {
				t.Errorf("%s: %s is %v, group %d; want %v, group %s", when, c.path, st.Mode().Perm(), gid, c.mode, g.Gid)
			}
		}
	}
	check("token made")
	// A later start shares the existing file too (say the group was added
	// to the configuration after the first start).
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	a := f.reopen(t)
	a.cfg.AdminGroup = g.Name
	if _, created, err := a.EnsureAdmin(t.Context()); err != nil || created {
		t.Fatalf("EnsureAdmin after a restart = %v, %v", created, err)
	}
	check("after a restart")

	a.cfg.AdminGroup = "lmx-no-such-group"
	_, _, err = a.EnsureAdmin(t.Context())
	if want := "--admin-group lmx-no-such-group: there is no such group on this machine: create it (sudo addgroup --system lmx-no-such-group) or leave out --admin-group"; err == nil || err.Error() != want {
		t.Errorf("unknown group: %v\nwant %s", err, want)
	}
}
