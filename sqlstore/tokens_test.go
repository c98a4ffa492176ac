package sqlstore

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// newToken is a valid token called name whose id is derived from n.
func newToken(name string, n int) Token {
	return Token{
		ID:   strings.Repeat("0", 15) + string("0123456789abcdef"[n%16]),
		Name: name, Role: "viewer", Hash: hashOf(name),
	}
}

func TestCreateAndGetToken(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	zone := time.FixedZone("UTC+2", 2*3600)
	created := time.Date(2030, 5, 6, 7, 8, 9, 10, zone)
	in := Token{
		ID: "0123456789abcdef", Name: "ci", Role: "operator", Hash: hashOf("secret"),
		CreatedAt: created, CreatedBy: "admin", ExpiresAt: created.Add(time.Hour),
	}
	tok, err := s.CreateToken(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if tok.CreatedAt.Location() != time.UTC || !tok.CreatedAt.Equal(created) || !tok.ExpiresAt.Equal(created.Add(time.Hour)) {
		t.Errorf("times not kept in UTC: %+v", tok)
	}
	if tok.ID != in.ID || tok.Name != "ci" || tok.Role != "operator" || tok.CreatedBy != "admin" ||
		string(tok.Hash) != string(in.Hash) || !tok.RevokedAt.IsZero() || !tok.LastUsedAt.IsZero() {
		t.Errorf("fields not kept: %+v", tok)
	}
	in.Hash[0] ^= 0xff // the caller's slice is not the stored one
	if string(tok.Hash) == string(in.Hash) {
		t.Error("CreateToken returned the caller's hash slice")
	}
	byName, err := s.GetTokenByName(ctx, "ci")
	if err != nil || !reflect.DeepEqual(byName, tok) {
		t.Errorf("GetTokenByName = %+v, %v; want %+v", byName, err, tok)
	}
	byID, err := s.GetTokenByID(ctx, tok.ID)
	if err != nil || !reflect.DeepEqual(byID, tok) {
		t.Errorf("GetTokenByID = %+v, %v; want %+v", byID, err, tok)
	}

	// CreatedAt defaults to now; a zero ExpiresAt means never.
	before := time.Now().Add(-time.Second)
	def, err := s.CreateToken(ctx, Token{ID: "00000000000000ff", Name: "first", Role: "admin", Hash: hashOf("a")})
	if err != nil {
		t.Fatal(err)
	}
	if def.CreatedAt.Before(before) || def.CreatedAt.Location() != time.UTC || !def.ExpiresAt.IsZero() || def.CreatedBy != "" {
		t.Errorf("defaults: %+v", def)
	}
	if got, _ := s.GetTokenByName(ctx, "first"); !reflect.DeepEqual(got, def) {
		t.Errorf("stored %+v, returned %+v", got, def)
	}

	_, err = s.GetTokenByName(ctx, "nope")
	wantErr(t, err, ErrNotFound, `token "nope": not found`)
	_, err = s.GetTokenByID(ctx, "ffffffffffffffff")
	wantErr(t, err, ErrNotFound, `"ffffffffffffffff"`)
}

func TestCreateTokenConflicts(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	if _, err := s.CreateToken(ctx, newToken("ci", 1)); err != nil {
		t.Fatal(err)
	}
	_, err := s.CreateToken(ctx, newToken("ci", 2))
	wantErr(t, err, ErrConflict, `token "ci"`, "name is taken")
	_, err = s.CreateToken(ctx, newToken("other", 1))
	wantErr(t, err, ErrConflict, `token "other"`, "id", "is taken")

	// A revoked token's name stays taken.
	if _, err := s.RevokeToken(ctx, "ci", time.Time{}); err != nil {
		t.Fatal(err)
	}
	_, err = s.CreateToken(ctx, newToken("ci", 3))
	wantErr(t, err, ErrConflict, `token "ci"`, "name is taken by a revoked token")
	if n, err := s.CountTokens(ctx); err != nil || n != 1 {
		t.Errorf("CountTokens after the conflicts = %d, %v; want 1", n, err)
	}
}

func TestCreateTokenInvalid(t *testing.T) {
	s := newStore(t)
	for _, c := range []struct {
		name string
		edit func(*Token)
		want string
	}{
		{"no name", func(t *Token) { t.Name = "" }, "name is empty"},
		{"no id", func(t *Token) { t.ID = "" }, "16 lowercase hex"},
		{"short id", func(t *Token) { t.ID = "0123" }, "16 lowercase hex"},
		{"upper-case id", func(t *Token) { t.ID = "0123456789ABCDEF" }, "16 lowercase hex"},
		{"long id", func(t *Token) { t.ID = "0123456789abcdef0" }, "16 lowercase hex"},
		{"bad role", func(t *Token) { t.Role = "root" }, `role "root"`},
		{"no role", func(t *Token) { t.Role = "" }, "role"},
		{"no hash", func(t *Token) { t.Hash = nil }, "hash is 0 bytes"},
		{"raw secret", func(t *Token) { t.Hash = []byte("secret") }, "hash is 6 bytes"},
		{"expiry out of range", func(t *Token) { t.ExpiresAt = time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC) }, "expires_at"},
	} {
		tok := newToken("ci", 1)
		c.edit(&tok)
		_, err := s.CreateToken(t.Context(), tok)
		if err == nil {
			t.Errorf("%s: CreateToken succeeded", c.name)
			continue
		}
		wantErr(t, err, ErrInvalid, c.want)
	}
	if n, err := s.CountTokens(t.Context()); err != nil || n != 0 {
		t.Errorf("CountTokens = %d, %v; want 0", n, err)
	}
}

func TestListAndCountTokens(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	list, err := s.ListTokens(ctx)
	if err != nil || list == nil || len(list) != 0 {
		t.Fatalf("empty store: %v, %v; want an empty non-nil slice", list, err)
	}
	if n, err := s.CountTokens(ctx); err != nil || n != 0 {
		t.Errorf("CountTokens on an empty store = %d, %v", n, err)
	}
	for i, n := range []string{"b", "c", "a"} {
		if _, err := s.CreateToken(ctx, newToken(n, i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.RevokeToken(ctx, "c", time.Time{}); err != nil {
		t.Fatal(err)
	}
	list, err = s.ListTokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tok := range list {
		got = append(got, tok.Name)
	}
	if strings.Join(got, ",") != "a,b,c" {
		t.Errorf("ListTokens = %v, want a,b,c (by name, revoked included)", got)
	}
	if list[2].RevokedAt.IsZero() {
		t.Errorf("ListTokens lost c's revocation: %+v", list[2])
	}
	if n, err := s.CountTokens(ctx); err != nil || n != 3 {
		t.Errorf("CountTokens = %d, %v; want 3", n, err)
	}
}

func TestRevokeToken(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	tok, err := s.CreateToken(ctx, newToken("ci", 1))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2031, 1, 1, 0, 0, 0, 5, time.FixedZone("X", 3600))
	rev, err := s.RevokeToken(ctx, "ci", at)
	if err != nil {
		t.Fatal(err)
	}
	want := tok
	want.RevokedAt = at.UTC()
	if !reflect.DeepEqual(rev, want) {
		t.Errorf("RevokeToken = %+v, want %+v", rev, want)
	}
	if got, _ := s.GetTokenByID(ctx, tok.ID); !reflect.DeepEqual(got, rev) {
		t.Errorf("stored %+v, returned %+v", got, rev)
	}
	_, err = s.RevokeToken(ctx, "ci", at.Add(time.Hour))
	wantErr(t, err, ErrConflict, `token "ci"`, "already revoked")
	if got, _ := s.GetTokenByName(ctx, "ci"); !got.RevokedAt.Equal(at) {
		t.Errorf("second revoke moved RevokedAt to %v", got.RevokedAt)
	}
	_, err = s.RevokeToken(ctx, "nope", at)
	wantErr(t, err, ErrNotFound, `token "nope"`)
	_, err = s.RevokeToken(ctx, "ci", time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC))
	wantErr(t, err, ErrInvalid, "1678")

	// at zero means now.
	if _, err := s.CreateToken(ctx, newToken("other", 2)); err != nil {
		t.Fatal(err)
	}
	now, err := s.RevokeToken(ctx, "other", time.Time{})
	if err != nil || time.Since(now.RevokedAt) > time.Minute || now.RevokedAt.Location() != time.UTC {
		t.Errorf("RevokeToken at now = %+v, %v", now, err)
	}
}

func TestTouchTokens(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	a, err := s.CreateToken(ctx, newToken("a", 1))
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.CreateToken(ctx, newToken("b", 2))
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.CreateToken(ctx, newToken("c", 3))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.TouchTokens(ctx, nil); err != nil {
		t.Errorf("TouchTokens(nil): %v", err)
	}
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := s.TouchTokens(ctx, map[string]time.Time{
		a.ID:               t0,
		b.ID:               t0.Add(time.Second),
		c.ID:               {}, // skipped
		"ffffffffffffffff": t0, // no such token: skipped
	}); err != nil {
		t.Fatal(err)
	}
	lastUsed := func(name string) time.Time {
		t.Helper()
		tok, err := s.GetTokenByName(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		return tok.LastUsedAt
	}
	if got := lastUsed("a"); !got.Equal(t0) {
		t.Errorf("a.LastUsedAt = %v, want %v", got, t0)
	}
	if got := lastUsed("b"); !got.Equal(t0.Add(time.Second)) {
		t.Errorf("b.LastUsedAt = %v, want %v", got, t0.Add(time.Second))
	}
	if got := lastUsed("c"); !got.IsZero() {
		t.Errorf("c.LastUsedAt = %v, want zero", got)
	}

	// LastUsedAt only moves forward, including for revoked tokens.
	if _, err := s.RevokeToken(ctx, "a", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchTokens(ctx, map[string]time.Time{a.ID: t0.Add(time.Minute), b.ID: t0}); err != nil {
		t.Fatal(err)
	}
	if got := lastUsed("a"); !got.Equal(t0.Add(time.Minute)) {
		t.Errorf("a.LastUsedAt = %v, want %v", got, t0.Add(time.Minute))
	}
	if got := lastUsed("b"); !got.Equal(t0.Add(time.Second)) {
		t.Errorf("b.LastUsedAt moved back to %v", got)
	}

	// A time out of range refuses the whole batch.
	err = s.TouchTokens(ctx, map[string]time.Time{c.ID: t0, b.ID: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)})
	wantErr(t, err, ErrInvalid, b.ID, "last_used_at")
	if got := lastUsed("c"); !got.IsZero() {
		t.Errorf("a refused batch still touched c: %v", got)
	}
}
