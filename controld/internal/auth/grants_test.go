package auth

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/controld/internal/grant"
)

const (
	srcA = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
	srcB = "3f2504e0-4f89-11d3-9a0c-0305e82c3302"
)

// verifyFails fails t unless g is refused for scope with ErrBadGrant, by a
// message that does not quote it.
func verifyFails(t *testing.T, a *Authority, what, g string, scope grant.Scope) {
	t.Helper()
	err := a.VerifyGrant(g, scope)
	if !errors.Is(err, ErrBadGrant) {
		t.Errorf("%s: %v, want ErrBadGrant", what, err)
		return
	}
	if g != "" && strings.Contains(err.Error(), g) {
		t.Errorf("%s: message %q quotes the grant", what, err)
	}
	if i := strings.LastIndexByte(g, '.'); i >= 0 && strings.Contains(err.Error(), g[i+1:]) {
		t.Errorf("%s: message %q quotes the grant's signature", what, err)
	}
}

func TestGrants(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	adm := f.admin(t)
	viewer, _ := f.token(t, adm, "tv", api.RoleViewer, 0)
	other, _ := f.token(t, adm, "other", api.RoleViewer, 0)

	live := grant.SourceScope(srcA)
	g, exp, err := f.a.MintGrant(viewer, live, 0)
	if err != nil || g == "" {
		t.Fatalf("MintGrant = %q, %v", g, err)
	}
	if want := f.clock.Now().Add(2 * time.Hour).Truncate(time.Second); !exp.Equal(want) {
		t.Errorf("default expiry %v, want %v (2 h, whole seconds)", exp, want)
	}
	if err := f.a.VerifyGrant(g, live); err != nil {
		t.Errorf("VerifyGrant: %v", err)
	}
	c, _, _, err := grant.Parse(g)
	if err != nil || c.Issuer != viewer.TokenID || c.Scope != live {
		t.Errorf("claims %+v (%v): want issued by the viewer's token for %v", c, err, live)
	}

	verifyFails(t, f.a, "another source", g, grant.SourceScope(srcB))
	verifyFails(t, f.a, "a recording with the source's id", g, grant.RecordingScope(srcA))
	verifyFails(t, f.a, "empty", "", live)
	verifyFails(t, f.a, "garbage", "garbage", live)
	verifyFails(t, f.a, "altered", g[:len(g)-2]+"AA", live)
	verifyFails(t, f.a, "scope swapped", strings.Replace(g, srcA, srcB, 1), grant.SourceScope(srcB))

	rec := grant.RecordingScope(srcB)
	rg, _, err := f.a.MintGrant(viewer, rec, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.a.VerifyGrant(rg, rec); err != nil {
		t.Errorf("recording grant: %v", err)
	}
	verifyFails(t, f.a, "a recording grant for a source", rg, grant.SourceScope(srcB))

	// Expiry: good to its last second, refused at it.
	f.clock.Add(10*time.Minute - time.Second - time.Duration(f.clock.Now().Nanosecond()))
	if err := f.a.VerifyGrant(rg, rec); err != nil {
		t.Errorf("a second before expiry: %v", err)
	}
	f.clock.Add(time.Second)
	verifyFails(t, f.a, "expired", rg, rec)
	if err := f.a.VerifyGrant(g, live); err != nil {
		t.Errorf("the 2 h grant after 10 min: %v", err)
	}

	if _, _, err := f.a.MintGrant(viewer, live, -time.Second); !errors.Is(err, ErrInvalid) {
		t.Errorf("negative ttl: %v, want ErrInvalid", err)
	}
	if _, _, err := f.a.MintGrant(viewer, grant.SourceScope("Not A UUID"), 0); err == nil {
		t.Error("a grant for an invalid scope id was minted")
	}
	if _, _, err := f.a.MintGrant(Principal{TokenID: viewer.TokenID, Name: "x", Role: "nobody"}, live, 0); !errors.Is(err, ErrForbidden) {
		t.Errorf("a role without watch: %v, want ErrForbidden", err)
	}

	// Auth off: no grant, no error, playback is open.
	if g, exp, err := f.a.MintGrant(Open, live, 0); g != "" || !exp.IsZero() || err != nil {
		t.Errorf("MintGrant(Open) = %q, %v, %v; want nothing", g, exp, err)
	}

	// Revoking the issuer revokes its grants, not others'.
	og, _, err := f.a.MintGrant(other, live, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.RevokeToken(ctx, adm, "tv"); err != nil {
		t.Fatal(err)
	}
	verifyFails(t, f.a, "issuer revoked", g, live)
	if err := f.a.VerifyGrant(og, live); err != nil {
		t.Errorf("another token's grant after a revocation: %v", err)
	}
	// And after a restart.
	b := f.reopen(t)
	verifyFails(t, b, "issuer revoked, after a restart", g, live)
	if err := b.VerifyGrant(og, live); err != nil {
		t.Errorf("a grant after a restart: %v", err)
	}

	// Rotating the key: old grants fail, new ones work, and keep working
	// after a restart.
	if err := f.a.RotateGrantKey(ctx); err != nil {
		t.Fatal(err)
	}
	verifyFails(t, f.a, "signed with the rotated-out key", og, live)
	ng, _, err := f.a.MintGrant(other, live, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.a.VerifyGrant(ng, live); err != nil {
		t.Errorf("a grant after rotation: %v", err)
	}
	b = f.reopen(t)
	if err := b.VerifyGrant(ng, live); err != nil {
		t.Errorf("a grant after rotation and restart: %v", err)
	}
	verifyFails(t, b, "rotated out, after a restart", og, live)

	// Another control node's grants are not this one's.
	f2 := newFixture(t)
	f2.clock.t = f.clock.Now()
	verifyFails(t, f2.a, "another node's grant", ng, live)
}

func TestGrantCappedAtIssuerExpiry(t *testing.T) {
	f := newFixture(t)
	adm := f.admin(t)
	short, _ := f.token(t, adm, "short", api.RoleViewer, 1800) // 30 min
	live := grant.SourceScope(srcA)

	g, exp, err := f.a.MintGrant(short, live, 2*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if want := short.Expires.Truncate(time.Second); !exp.Equal(want) {
		t.Errorf("expiry %v, want the token's own %v", exp, want)
	}
	c, _, _, err := grant.Parse(g)
	if err != nil || !c.Expires.Equal(exp) {
		t.Errorf("the grant says it expires %v (%v), the reply %v", c.Expires, err, exp)
	}
	// A shorter ttl is kept as it is.
	_, exp2, err := f.a.MintGrant(short, live, time.Minute)
	if want := f.clock.Now().Add(time.Minute).Truncate(time.Second); err != nil || !exp2.Equal(want) {
		t.Errorf("short ttl: %v, %v; want %v", exp2, err, want)
	}
	f.clock.Add(29 * time.Minute)
	if err := f.a.VerifyGrant(g, live); err != nil {
		t.Errorf("before the token expires: %v", err)
	}
	f.clock.Add(time.Minute)
	verifyFails(t, f.a, "the issuer expired", g, live)
}

func BenchmarkAuthenticate(b *testing.B) {
	f := newFixture(b)
	adm := f.admin(b)
	for i := range 100 {
		f.token(b, adm, "t"+string(rune('a'+i%26))+string(rune('a'+i/26)), api.RoleViewer, 0)
	}
	_, sec := f.token(b, adm, "bench", api.RoleOperator, 0)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.a.Authenticate(sec); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAuthenticateParallel(b *testing.B) {
	f := newFixture(b)
	adm := f.admin(b)
	_, sec := f.token(b, adm, "bench", api.RoleOperator, 0)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := f.a.Authenticate(sec); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkVerifyGrant(b *testing.B) {
	f := newFixture(b)
	adm := f.admin(b)
	viewer, _ := f.token(b, adm, "tv", api.RoleViewer, 0)
	scope := grant.SourceScope(srcA)
	g, _, err := f.a.MintGrant(viewer, scope, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := f.a.VerifyGrant(g, scope); err != nil {
			b.Fatal(err)
		}
	}
}
