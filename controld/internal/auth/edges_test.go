package auth

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/internal/secret"
	"github.com/lmx-video/lmx/sqlstore"
)

// hookLog records the edges an OnEdgeRevoked hook was called for.
type hookLog struct {
	mu    sync.Mutex
	edges []string
}

func (h *hookLog) add(edge string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.edges = append(h.edges, edge)
}

func (h *hookLog) take() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := h.edges
	h.edges = nil
	return out
}

func TestEdgeJoin(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	adm := f.admin(t)
	op, _ := f.token(t, adm, "op", api.RoleOperator, 0)
	var hooks hookLog
	f.a.OnEdgeRevoked(hooks.add)

	if got := f.a.EdgeCredential("pi"); got != "" {
		t.Errorf("never added: %q, want \"\"", got)
	}
	if _, _, err := f.a.AddEdge(ctx, op, "pi", 0); !errors.Is(err, ErrForbidden) {
		t.Errorf("operator adds an edge: %v, want ErrForbidden", err)
	}
	for _, name := range []string{"", "a b", "a/b", ".x"} {
		if _, _, err := f.a.AddEdge(ctx, adm, name, 0); !errors.Is(err, ErrInvalid) {
			t.Errorf("AddEdge(%q): %v, want ErrInvalid", name, err)
		}
	}
	if _, _, err := f.a.AddEdge(ctx, adm, "pi", -time.Second); !errors.Is(err, ErrInvalid) {
		t.Errorf("negative ttl: %v, want ErrInvalid", err)
	}
	if got := f.a.EdgeNames(); len(got) != 0 {
		t.Errorf("refused additions left edges %v", got)
	}

	js, exp, err := f.a.AddEdge(ctx, adm, "pi", 0)
	if err != nil {
		t.Fatal(err)
	}
	if js.Kind != secret.KindJoin || !exp.Equal(f.clock.Now().Add(time.Hour)) {
		t.Errorf("join secret of kind %c expiring %v; want a join secret for an hour", js.Kind, exp)
	}
	if got := f.a.EdgeCredential("pi"); got != api.CredentialPending {
		t.Errorf("after add: %q, want pending", got)
	}
	if h := hooks.take(); len(h) != 0 {
		t.Errorf("adding a new edge called the hook for %v", h)
	}

	// A join secret with the right id and another key, one never issued,
	// malformed ones and other kinds are refused and spend nothing.
	other, _ := secret.New(secret.KindJoin)
	forged := secret.Secret{Kind: secret.KindJoin, ID: js.ID, Key: other.Key}
	tokLike := secret.Secret{Kind: secret.KindToken, ID: js.ID, Key: js.Key}
	for name, s := range map[string]string{
		"empty": "", "garbage": "garbage", "unknown": other.String(), "forged": forged.String(),
		"a token": tokLike.String(), "spaces": " " + js.String(),
	} {
		edge, cred, err := f.a.Join(ctx, s)
		if !errors.Is(err, ErrBadCredential) || edge != "" || cred != "" {
			t.Errorf("Join(%s) = %q, %q, %v; want ErrBadCredential", name, edge, cred, err)
		}
		noSecret(t, "join "+name, err, s, js.String())
	}

	edge, cred, err := f.a.Join(ctx, js.String())
	if err != nil || edge != "pi" {
		t.Fatalf("Join = %q, %v", edge, err)
	}
	if got := f.a.EdgeCredential("pi"); got != api.CredentialJoined {
		t.Errorf("after join: %q, want joined", got)
	}
	if got, err := f.a.AuthenticateEdge(cred); err != nil || got != "pi" {
		t.Errorf("AuthenticateEdge = %q, %v; want pi", got, err)
	}

	// Once only.
	_, _, err = f.a.Join(ctx, js.String())
	if !errors.Is(err, ErrBadCredential) {
		t.Errorf("second join: %v, want ErrBadCredential", err)
	}
	noSecret(t, "second join", err, js.String(), cred)
	if got, err := f.a.AuthenticateEdge(cred); err != nil || got != "pi" {
		t.Errorf("the credential after a second join attempt: %q, %v", got, err)
	}

	// Expired.
	js2, _, err := f.a.AddEdge(ctx, adm, "late", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Add(time.Minute)
	_, _, err = f.a.Join(ctx, js2.String())
	if !errors.Is(err, ErrBadCredential) {
		t.Errorf("expired join: %v, want ErrBadCredential", err)
	}
	noSecret(t, "expired join", err, js2.String())
	if got := f.a.EdgeCredential("late"); got != api.CredentialPending {
		t.Errorf("after an expired join: %q, want pending", got)
	}

	// Edge credentials that are not.
	credSec, _ := secret.Parse(cred)
	otherCred, _ := secret.New(secret.KindEdge)
	if _, err := f.a.AuthenticateEdge(""); !errors.Is(err, ErrNoCredential) {
		t.Errorf("no credential: %v", err)
	}
	for name, s := range map[string]string{
		"garbage": "garbage", "unknown": otherCred.String(),
		"forged":  secret.Secret{Kind: secret.KindEdge, ID: credSec.ID, Key: otherCred.Key}.String(),
		"a token": secret.Secret{Kind: secret.KindToken, ID: credSec.ID, Key: credSec.Key}.String(),
		// A pending edge's entry has no hash: its join id matches nothing.
		"the pending edge's join id": secret.Secret{Kind: secret.KindEdge, ID: js2.ID, Key: js2.Key}.String(),
	} {
		got, err := f.a.AuthenticateEdge(s)
		if !errors.Is(err, ErrBadCredential) || got != "" {
			t.Errorf("AuthenticateEdge(%s) = %q, %v; want ErrBadCredential", name, got, err)
		}
		noSecret(t, "edge "+name, err, s, cred)
	}

	names := f.a.EdgeNames()
	slices.Sort(names)
	if !slices.Equal(names, []string{"late", "pi"}) {
		t.Errorf("EdgeNames = %v", names)
	}

	// After a restart: the same credentials, the same states.
	b := f.reopen(t)
	if got, err := b.AuthenticateEdge(cred); err != nil || got != "pi" {
		t.Errorf("after a restart: %q, %v", got, err)
	}
	if b.EdgeCredential("pi") != api.CredentialJoined || b.EdgeCredential("late") != api.CredentialPending {
		t.Errorf("after a restart: pi %q, late %q", b.EdgeCredential("pi"), b.EdgeCredential("late"))
	}
	if _, err := b.AuthenticateEdge(secret.Secret{Kind: secret.KindEdge, ID: js2.ID, Key: js2.Key}.String()); err == nil {
		t.Error("after a restart, a pending edge authenticates with its join secret's id")
	}
}

func TestEdgeRevokeRestore(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	adm := f.admin(t)
	op, _ := f.token(t, adm, "op", api.RoleOperator, 0)
	var hooks hookLog
	f.a.OnEdgeRevoked(hooks.add)
	join := func(name string) string {
		t.Helper()
		js, _, err := f.a.AddEdge(ctx, adm, name, 0)
		if err != nil {
			t.Fatal(err)
		}
		edge, cred, err := f.a.Join(ctx, js.String())
		if err != nil || edge != name {
			t.Fatalf("Join = %q, %v", edge, err)
		}
		return cred
	}
	cred := join("pi")
	otherCred := join("pi2")
	hooks.take()

	if err := f.a.RevokeEdge(ctx, op, "pi"); !errors.Is(err, ErrForbidden) {
		t.Errorf("operator revokes: %v, want ErrForbidden", err)
	}
	if h := hooks.take(); len(h) != 0 {
		t.Errorf("a refused revocation called the hook for %v", h)
	}
	if err := f.a.RevokeEdge(ctx, adm, "pi"); err != nil {
		t.Fatal(err)
	}
	_, err := f.a.AuthenticateEdge(cred)
	if !errors.Is(err, ErrBadCredential) {
		t.Errorf("revoked: %v, want ErrBadCredential", err)
	}
	noSecret(t, "revoked edge", err, cred)
	if h := hooks.take(); !slices.Equal(h, []string{"pi"}) {
		t.Errorf("hook called for %v, want [pi]", h)
	}
	if got := f.a.EdgeCredential("pi"); got != api.CredentialRevoked {
		t.Errorf("state %q, want revoked", got)
	}
	if got, err := f.a.AuthenticateEdge(otherCred); err != nil || got != "pi2" {
		t.Errorf("another edge after a revocation: %q, %v", got, err)
	}
	if err := f.a.RevokeEdge(ctx, adm, "pi"); !errors.Is(err, sqlstore.ErrConflict) {
		t.Errorf("revoked twice: %v, want ErrConflict", err)
	}
	if err := f.a.RevokeEdge(ctx, adm, "nope"); !errors.Is(err, sqlstore.ErrNotFound) {
		t.Errorf("unknown edge: %v, want ErrNotFound", err)
	}
	if b := f.reopen(t); b.EdgeCredential("pi") != api.CredentialRevoked {
		t.Errorf("after a restart: %q, want revoked", b.EdgeCredential("pi"))
	} else if _, err := b.AuthenticateEdge(cred); err == nil {
		t.Error("revoked edge authenticates after a restart")
	}

	// Restore: the same credential works again.
	if err := f.a.RestoreEdge(ctx, op, "pi"); !errors.Is(err, ErrForbidden) {
		t.Errorf("operator restores: %v, want ErrForbidden", err)
	}
	if err := f.a.RestoreEdge(ctx, adm, "pi"); err != nil {
		t.Fatal(err)
	}
	if got, err := f.a.AuthenticateEdge(cred); err != nil || got != "pi" {
		t.Errorf("restored: %q, %v", got, err)
	}
	if got := f.a.EdgeCredential("pi"); got != api.CredentialJoined {
		t.Errorf("state %q, want joined", got)
	}
	if err := f.a.RestoreEdge(ctx, adm, "pi"); !errors.Is(err, sqlstore.ErrConflict) {
		t.Errorf("restoring an edge not revoked: %v, want ErrConflict", err)
	}
	if h := hooks.take(); len(h) != 0 {
		t.Errorf("restoring called the hook for %v", h)
	}

	// Adding a joined edge again replaces its credential at once.
	js, _, err := f.a.AddEdge(ctx, adm, "pi", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.AuthenticateEdge(cred); !errors.Is(err, ErrBadCredential) {
		t.Errorf("old credential after re-adding: %v, want ErrBadCredential", err)
	}
	if h := hooks.take(); !slices.Equal(h, []string{"pi"}) {
		t.Errorf("re-adding a joined edge called the hook for %v, want [pi]", h)
	}
	if got := f.a.EdgeCredential("pi"); got != api.CredentialPending {
		t.Errorf("state %q after re-adding, want pending", got)
	}
	// Adding a pending edge again: the earlier join secret is spent, no hook.
	js2, _, err := f.a.AddEdge(ctx, adm, "pi", 0)
	if err != nil {
		t.Fatal(err)
	}
	if h := hooks.take(); len(h) != 0 {
		t.Errorf("re-adding a pending edge called the hook for %v", h)
	}
	if _, _, err := f.a.Join(ctx, js.String()); !errors.Is(err, ErrBadCredential) {
		t.Errorf("an earlier join secret after re-adding: %v, want ErrBadCredential", err)
	}
	_, newCred, err := f.a.Join(ctx, js2.String())
	if err != nil {
		t.Fatal(err)
	}
	if got, err := f.a.AuthenticateEdge(newCred); err != nil || got != "pi" {
		t.Errorf("new credential: %q, %v", got, err)
	}
	if _, err := f.a.AuthenticateEdge(cred); err == nil {
		t.Error("the replaced credential works again after the new join")
	}
	if b := f.reopen(t); true {
		if _, err := b.AuthenticateEdge(cred); err == nil {
			t.Error("the replaced credential works after a restart")
		}
		if got, err := b.AuthenticateEdge(newCred); err != nil || got != "pi" {
			t.Errorf("new credential after a restart: %q, %v", got, err)
		}
	}

	// A revoked edge added again is pending, its old credential gone.
	if err := f.a.RevokeEdge(ctx, adm, "pi2"); err != nil {
		t.Fatal(err)
	}
	hooks.take()
	if _, _, err := f.a.AddEdge(ctx, adm, "pi2", 0); err != nil {
		t.Fatal(err)
	}
	if got := f.a.EdgeCredential("pi2"); got != api.CredentialPending {
		t.Errorf("revoked then re-added: %q, want pending", got)
	}
	if err := f.a.RestoreEdge(ctx, adm, "pi2"); !errors.Is(err, sqlstore.ErrConflict) {
		t.Errorf("restoring a re-added edge: %v, want ErrConflict", err)
	}
	if _, err := f.a.AuthenticateEdge(otherCred); err == nil {
		t.Error("the credential of a revoked, re-added edge works")
	}

	// A pending edge revoked cannot join, nor be restored.
	js3, _, err := f.a.AddEdge(ctx, adm, "pending", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.a.RevokeEdge(ctx, adm, "pending"); err != nil {
		t.Fatal(err)
	}
	if got := f.a.EdgeCredential("pending"); got != api.CredentialRevoked {
		t.Errorf("pending, revoked: %q", got)
	}
	if _, _, err := f.a.Join(ctx, js3.String()); !errors.Is(err, ErrBadCredential) {
		t.Errorf("joining while revoked: %v, want ErrBadCredential", err)
	}
	if err := f.a.RestoreEdge(ctx, adm, "pending"); !errors.Is(err, sqlstore.ErrConflict) {
		t.Errorf("restoring an edge that never joined: %v, want ErrConflict", err)
	}
}
