package sqlstore

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// joinToken is a join token with the given id, valid for an hour after at.
func joinToken(id string, at time.Time) JoinToken {
	return JoinToken{ID: id, Hash: hashOf("join-" + id), ExpiresAt: at.Add(time.Hour)}
}

// addEdge adds edge with a join token id, failing t on error.
func addEdge(t *testing.T, s *Store, edge, id string, at time.Time) JoinToken {
	t.Helper()
	j := joinToken(id, at)
	if err := s.AddEdge(t.Context(), edge, j, at); err != nil {
		t.Fatalf("AddEdge(%s): %v", edge, err)
	}
	return j
}

func TestAddEdgeAndJoin(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	j := addEdge(t, s, "gw-1", "j1", t0)

	pending, err := s.GetEdgeCredential(ctx, "gw-1")
	if err != nil {
		t.Fatal(err)
	}
	want := EdgeCredential{Edge: "gw-1", ID: "j1", CreatedAt: t0}
	if !reflect.DeepEqual(pending, want) {
		t.Errorf("pending credential = %+v, want %+v", pending, want)
	}
	gotJoin, err := s.GetJoinToken(ctx, "j1")
	if err != nil {
		t.Fatal(err)
	}
	wantJoin := JoinToken{ID: "j1", Edge: "gw-1", Hash: j.Hash, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	if !reflect.DeepEqual(gotJoin, wantJoin) {
		t.Errorf("GetJoinToken = %+v, want %+v", gotJoin, wantJoin)
	}

	t1 := t0.Add(time.Minute)
	edge, err := s.UseJoinToken(ctx, "j1", t1, "c1", hashOf("cred"))
	if err != nil || edge != "gw-1" {
		t.Fatalf("UseJoinToken = %q, %v", edge, err)
	}
	joined, err := s.GetEdgeCredential(ctx, "gw-1")
	if err != nil {
		t.Fatal(err)
	}
	want = EdgeCredential{Edge: "gw-1", ID: "c1", Hash: hashOf("cred"), CreatedAt: t0, JoinedAt: t1}
	if !reflect.DeepEqual(joined, want) {
		t.Errorf("joined credential = %+v, want %+v", joined, want)
	}
	if byID, err := s.GetEdgeCredentialByID(ctx, "c1"); err != nil || !reflect.DeepEqual(byID, joined) {
		t.Errorf("GetEdgeCredentialByID(c1) = %+v, %v", byID, err)
	}
	_, err = s.GetEdgeCredentialByID(ctx, "j1")
	wantErr(t, err, ErrNotFound, `"j1"`)
	if used, _ := s.GetJoinToken(ctx, "j1"); !used.UsedAt.Equal(t1) {
		t.Errorf("join token UsedAt = %v, want %v", used.UsedAt, t1)
	}

	// A join token works once.
	_, err = s.UseJoinToken(ctx, "j1", t1, "c2", hashOf("cred2"))
	wantErr(t, err, ErrConflict, `join token "j1"`, "already used")
	if got, _ := s.GetEdgeCredential(ctx, "gw-1"); !reflect.DeepEqual(got, joined) {
		t.Errorf("a second use changed the credential: %+v", got)
	}
}

func TestUseJoinTokenErrors(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	j := addEdge(t, s, "gw-1", "j1", t0)

	_, err := s.UseJoinToken(ctx, "nope", t0, "c1", hashOf("c"))
	wantErr(t, err, ErrNotFound, `join token "nope"`)

	// Expired at ExpiresAt, not a nanosecond before.
	_, err = s.UseJoinToken(ctx, "j1", j.ExpiresAt, "c1", hashOf("c"))
	wantErr(t, err, ErrExpired, `join token "j1"`, "expired")
	if got, _ := s.GetJoinToken(ctx, "j1"); !got.UsedAt.IsZero() {
		t.Errorf("an expired use marked the token used: %+v", got)
	}

	_, err = s.UseJoinToken(ctx, "j1", t0, "", hashOf("c"))
	wantErr(t, err, ErrInvalid, "id is empty")
	_, err = s.UseJoinToken(ctx, "j1", t0, "c1", []byte("raw"))
	wantErr(t, err, ErrInvalid, "hash is 3 bytes")
	_, err = s.UseJoinToken(ctx, "j1", time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), "c1", hashOf("c"))
	wantErr(t, err, ErrInvalid, "2262")

	// A credential id another edge holds is a conflict, and nothing changes.
	addEdge(t, s, "gw-2", "j2", t0)
	if _, err := s.UseJoinToken(ctx, "j2", t0, "c-taken", hashOf("c2")); err != nil {
		t.Fatal(err)
	}
	_, err = s.UseJoinToken(ctx, "j1", t0, "c-taken", hashOf("c"))
	wantErr(t, err, ErrConflict, `"gw-1"`, `"c-taken"`)
	if got, _ := s.GetJoinToken(ctx, "j1"); !got.UsedAt.IsZero() {
		t.Errorf("a refused use marked the token used: %+v", got)
	}

	// Just before expiry, and with at defaulting to now for a token that
	// lasts long enough, it works.
	edge, err := s.UseJoinToken(ctx, "j1", j.ExpiresAt.Add(-time.Nanosecond), "c1", hashOf("c"))
	if err != nil || edge != "gw-1" {
		t.Errorf("UseJoinToken just before expiry = %q, %v", edge, err)
	}
	now := time.Now()
	if err := s.AddEdge(ctx, "gw-3", JoinToken{ID: "j3", Hash: hashOf("j3"), ExpiresAt: now.Add(time.Hour)}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UseJoinToken(ctx, "j3", time.Time{}, "c3", hashOf("c3")); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.GetEdgeCredential(ctx, "gw-3"); time.Since(c.JoinedAt) > time.Minute || time.Since(c.CreatedAt) > time.Minute {
		t.Errorf("times did not default to now: %+v", c)
	}
}

// TestUseJoinTokenNotAwaited covers a join token that no pending credential
// waits for, which AddEdge and RevokeEdge never leave behind but a row
// written by hand can.
func TestUseJoinTokenNotAwaited(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	addEdge(t, s, "gw-1", "j1", t0)
	if _, err := s.w.ExecContext(ctx, `INSERT INTO join_tokens (id, edge, hash, created_at, expires_at) VALUES ('stray', 'gw-1', ?, 0, ?)`,
		hashOf("stray"), toNanos(t0.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	_, err := s.UseJoinToken(ctx, "stray", t0, "c1", hashOf("c"))
	wantErr(t, err, ErrConflict, `join token "stray"`, "no longer waits")

	if _, err := s.w.ExecContext(ctx, `INSERT INTO join_tokens (id, edge, hash, created_at, expires_at) VALUES ('orphan', 'gw-x', ?, 0, ?)`,
		hashOf("orphan"), toNanos(t0.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	_, err = s.UseJoinToken(ctx, "orphan", t0, "c1", hashOf("c"))
	wantErr(t, err, ErrNotFound, `edge credential "gw-x"`)
}

func TestAddEdgeAgainReplacesCredential(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

	// Added twice before joining: the first join token is gone.
	addEdge(t, s, "gw-1", "j1", t0)
	addEdge(t, s, "gw-1", "j2", t0.Add(time.Second))
	_, err := s.GetJoinToken(ctx, "j1")
	wantErr(t, err, ErrNotFound, `"j1"`)
	_, err = s.UseJoinToken(ctx, "j1", t0.Add(time.Second), "c1", hashOf("c1"))
	wantErr(t, err, ErrNotFound)
	if _, err := s.UseJoinToken(ctx, "j2", t0.Add(2*time.Second), "c1", hashOf("c1")); err != nil {
		t.Fatal(err)
	}

	// Added again once joined: the old credential stops working, the used
	// join token stays as a record.
	t3 := t0.Add(3 * time.Second)
	addEdge(t, s, "gw-1", "j3", t3)
	c, err := s.GetEdgeCredential(ctx, "gw-1")
	if err != nil {
		t.Fatal(err)
	}
	if want := (EdgeCredential{Edge: "gw-1", ID: "j3", CreatedAt: t3}); !reflect.DeepEqual(c, want) {
		t.Errorf("re-added credential = %+v, want %+v", c, want)
	}
	_, err = s.GetEdgeCredentialByID(ctx, "c1")
	wantErr(t, err, ErrNotFound, `"c1"`)
	if used, err := s.GetJoinToken(ctx, "j2"); err != nil || used.UsedAt.IsZero() {
		t.Errorf("used join token j2 = %+v, %v; want kept", used, err)
	}
	// The old credential id is free again.
	if _, err := s.UseJoinToken(ctx, "j3", t3, "c1", hashOf("c1-new")); err != nil {
		t.Fatal(err)
	}

	// Added again once revoked: no longer revoked, pending.
	if _, err := s.RevokeEdge(ctx, "gw-1", t3); err != nil {
		t.Fatal(err)
	}
	addEdge(t, s, "gw-1", "j4", t3.Add(time.Second))
	c, err = s.GetEdgeCredential(ctx, "gw-1")
	if err != nil || !c.RevokedAt.IsZero() || !c.JoinedAt.IsZero() || c.Hash != nil || c.ID != "j4" {
		t.Errorf("re-added revoked edge = %+v, %v; want pending", c, err)
	}
}

func TestAddEdgeInvalidAndConflicts(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name string
		edge string
		edit func(*JoinToken)
		want string
	}{
		{"no edge", "", func(*JoinToken) {}, "edge name is empty"},
		{"other edge", "gw-1", func(j *JoinToken) { j.Edge = "gw-2" }, `"gw-2"`},
		{"no id", "gw-1", func(j *JoinToken) { j.ID = "" }, "id is empty"},
		{"no expiry", "gw-1", func(j *JoinToken) { j.ExpiresAt = time.Time{} }, "expiry is missing"},
		{"expires at once", "gw-1", func(j *JoinToken) { j.ExpiresAt = t0 }, "not after"},
		{"expired", "gw-1", func(j *JoinToken) { j.ExpiresAt = t0.Add(-time.Hour) }, "not after"},
		{"raw secret", "gw-1", func(j *JoinToken) { j.Hash = []byte("secret") }, "hash is 6 bytes"},
		{"out of range", "gw-1", func(j *JoinToken) { j.CreatedAt = time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC) }, "1678"},
	} {
		j := joinToken("j1", t0)
		c.edit(&j)
		err := s.AddEdge(ctx, c.edge, j, t0)
		if err == nil {
			t.Errorf("%s: AddEdge succeeded", c.name)
			continue
		}
		wantErr(t, err, ErrInvalid, c.want)
	}
	if list, err := s.ListEdgeCredentials(ctx); err != nil || len(list) != 0 {
		t.Errorf("invalid adds stored %+v, %v", list, err)
	}

	// join.Edge may name the edge; the token's id must be new.
	j := joinToken("j1", t0)
	j.Edge = "gw-1"
	if err := s.AddEdge(ctx, "gw-1", j, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UseJoinToken(ctx, "j1", t0, "c1", hashOf("c1")); err != nil {
		t.Fatal(err)
	}
	err := s.AddEdge(ctx, "gw-2", joinToken("j1", t0), t0)
	wantErr(t, err, ErrConflict, `join token "j1"`, "id is taken")
	err = s.AddEdge(ctx, "gw-2", joinToken("c1", t0), t0) // gw-1's credential id
	wantErr(t, err, ErrConflict, `edge credential "gw-2"`, `"c1"`)
	if _, err := s.GetEdgeCredential(ctx, "gw-2"); err == nil {
		t.Error("a refused AddEdge stored a credential")
	}
	if _, err := s.GetJoinToken(ctx, "c1"); err == nil {
		t.Error("a refused AddEdge stored its join token")
	}
}

func TestRevokeAndRestoreEdge(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	addEdge(t, s, "gw-1", "j1", t0)
	if _, err := s.UseJoinToken(ctx, "j1", t0, "c1", hashOf("c1")); err != nil {
		t.Fatal(err)
	}
	joined, err := s.GetEdgeCredential(ctx, "gw-1")
	if err != nil {
		t.Fatal(err)
	}

	t1 := t0.Add(time.Hour)
	rev, err := s.RevokeEdge(ctx, "gw-1", t1)
	if err != nil {
		t.Fatal(err)
	}
	want := joined
	want.RevokedAt = t1
	if !reflect.DeepEqual(rev, want) {
		t.Errorf("RevokeEdge = %+v, want %+v", rev, want)
	}
	if got, _ := s.GetEdgeCredentialByID(ctx, "c1"); !reflect.DeepEqual(got, rev) {
		t.Errorf("stored %+v, returned %+v", got, rev)
	}
	_, err = s.RevokeEdge(ctx, "gw-1", t1)
	wantErr(t, err, ErrConflict, `edge credential "gw-1"`, "already revoked")

	restored, err := s.RestoreEdge(ctx, "gw-1")
	if err != nil || !reflect.DeepEqual(restored, joined) {
		t.Errorf("RestoreEdge = %+v, %v; want the credential as it was %+v", restored, err, joined)
	}
	if got, _ := s.GetEdgeCredential(ctx, "gw-1"); !reflect.DeepEqual(got, joined) {
		t.Errorf("stored %+v after restore, want %+v", got, joined)
	}
	_, err = s.RestoreEdge(ctx, "gw-1")
	wantErr(t, err, ErrConflict, `edge credential "gw-1"`, "not revoked")

	_, err = s.RevokeEdge(ctx, "nope", t1)
	wantErr(t, err, ErrNotFound, `edge credential "nope"`)
	_, err = s.RestoreEdge(ctx, "nope")
	wantErr(t, err, ErrNotFound, `edge credential "nope"`)
	_, err = s.RevokeEdge(ctx, "gw-1", time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC))
	wantErr(t, err, ErrInvalid, "2262")

	// at zero means now.
	now, err := s.RevokeEdge(ctx, "gw-1", time.Time{})
	if err != nil || time.Since(now.RevokedAt) > time.Minute {
		t.Errorf("RevokeEdge at now = %+v, %v", now, err)
	}
}

func TestRevokePendingEdge(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	addEdge(t, s, "gw-1", "j1", t0)
	if _, err := s.RevokeEdge(ctx, "gw-1", t0); err != nil {
		t.Fatal(err)
	}
	// The join token went with the revocation.
	_, err := s.GetJoinToken(ctx, "j1")
	wantErr(t, err, ErrNotFound)
	_, err = s.UseJoinToken(ctx, "j1", t0, "c1", hashOf("c1"))
	wantErr(t, err, ErrNotFound)
	// There is nothing to restore: the edge must be added again.
	_, err = s.RestoreEdge(ctx, "gw-1")
	wantErr(t, err, ErrConflict, "never joined", "add it again")
	addEdge(t, s, "gw-1", "j2", t0)
	if edge, err := s.UseJoinToken(ctx, "j2", t0, "c1", hashOf("c1")); err != nil || edge != "gw-1" {
		t.Errorf("join after re-adding = %q, %v", edge, err)
	}
}

func TestListEdgeCredentials(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	list, err := s.ListEdgeCredentials(ctx)
	if err != nil || list == nil || len(list) != 0 {
		t.Fatalf("empty store: %v, %v; want an empty non-nil slice", list, err)
	}
	_, err = s.GetEdgeCredential(ctx, "gw")
	wantErr(t, err, ErrNotFound, `edge credential "gw": not found`)

	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, e := range []string{"gw-b", "gw-c", "gw-a"} {
		addEdge(t, s, e, "j"+e, t0.Add(time.Duration(i)*time.Second))
	}
	if _, err := s.UseJoinToken(ctx, "jgw-c", t0, "c", hashOf("c")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RevokeEdge(ctx, "gw-b", t0); err != nil {
		t.Fatal(err)
	}
	list, err = s.ListEdgeCredentials(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range list {
		state := "pending"
		switch {
		case !c.RevokedAt.IsZero():
			state = "revoked"
		case !c.JoinedAt.IsZero():
			state = "joined"
		}
		got = append(got, c.Edge+"="+state)
	}
	if strings.Join(got, ",") != "gw-a=pending,gw-b=revoked,gw-c=joined" {
		t.Errorf("ListEdgeCredentials = %v", got)
	}
}
