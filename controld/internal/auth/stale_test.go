package auth

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/controld/internal/grant"
	"github.com/lmx-video/lmx/internal/secret"
)

// TestStaleCredentials checks which refusals are of a credential this node
// issued that no longer works (ErrStale), and which could be guesses: only
// a secret or signature that checks out, revoked or expired since, is stale.
func TestStaleCredentials(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	adm := f.admin(t)
	_, gone := f.token(t, adm, "gone", api.RoleViewer, 0)
	_, brief := f.token(t, adm, "brief", api.RoleViewer, 60)
	issuer, _ := f.token(t, adm, "issuer", api.RoleViewer, 0)
	live := grant.SourceScope(srcA)
	issued, _, err := f.a.MintGrant(issuer, live, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	short, _, err := f.a.MintGrant(adm, live, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	js, _, err := f.a.AddEdge(ctx, adm, "pi", 0)
	if err != nil {
		t.Fatal(err)
	}
	_, cred, err := f.a.Join(ctx, js.String())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.RevokeToken(ctx, adm, "gone"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.RevokeToken(ctx, adm, "issuer"); err != nil {
		t.Fatal(err)
	}
	if err := f.a.RevokeEdge(ctx, adm, "pi"); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(time.Minute)

	authErr := func(tok string) error { _, err := f.a.Authenticate(tok); return err }
	edgeErr := func(c string) error { _, err := f.a.AuthenticateEdge(c); return err }
	unknown, err := secret.New(secret.KindToken)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		what  string
		err   error
		want  error
		stale bool
	}{
		{"revoked token", authErr(gone), ErrBadCredential, true},
		{"expired token", authErr(brief), ErrBadCredential, true},
		{"revoked edge", edgeErr(cred), ErrBadCredential, true},
		{"expired grant", f.a.VerifyGrant(short, live), ErrBadGrant, true},
		{"grant of a revoked token", f.a.VerifyGrant(issued, live), ErrBadGrant, true},

		{"unknown token", authErr(unknown.String()), ErrBadCredential, false},
		{"a revoked token's id with another key", authErr(tamper(t, gone, 2)), ErrBadCredential, false},
		{"malformed token", authErr("garbage"), ErrBadCredential, false},
		{"a revoked edge's id with another key", edgeErr(tamper(t, cred, 2)), ErrBadCredential, false},
		{"a revoked token's grant, signature altered", f.a.VerifyGrant(tamper(t, issued, 5), live), ErrBadGrant, false},
		{"expired grant, signature altered", f.a.VerifyGrant(tamper(t, short, 5), live), ErrBadGrant, false},
		{"grant for another source", f.a.VerifyGrant(short, grant.SourceScope(srcB)), ErrBadGrant, false},
		{"malformed grant", f.a.VerifyGrant("1.x", live), ErrBadGrant, false},
	} {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: %v, want %v", c.what, c.err, c.want)
		}
		if got := errors.Is(c.err, ErrStale); got != c.stale {
			t.Errorf("%s: %v: stale %v, want %v", c.what, c.err, got, c.stale)
		}
		if c.err != nil && strings.Contains(c.err.Error(), ErrStale.Error()) {
			t.Errorf("%s: message %q: the stale mark is not part of it", c.what, c.err)
		}
	}
}

// tamper is a secret or grant with the last character of dot-separated
// field i changed.
func tamper(t *testing.T, s string, i int) string {
	t.Helper()
	f := strings.Split(s, ".")
	if i >= len(f) || f[i] == "" {
		t.Fatalf("%q has no field %d", s, i)
	}
	// The first character: the last one of a base64url field may carry
	// padding bits a strict decoder refuses, which would test parsing.
	c := byte('A')
	if f[i][0] == 'A' {
		c = 'B'
	}
	f[i] = string(c) + f[i][1:]
	return strings.Join(f, ".")
}

// TestGateSparesStaleCredentials: refusals of stale credentials are counted
// but never block their address, so a revoked edge that keeps retrying does
// not lock out the operator at the same address; guesses still do.
func TestGateSparesStaleCredentials(t *testing.T) {
	failures := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "failures"}, []string{"listener", "reason"})
	throttled := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "throttled"}, []string{"listener"})
	g := NewGate("ingest", NewLimiter(LimiterConfig{Burst: 3, Refill: time.Hour}), NewClientIP(nil), failures, throttled)
	addr := netip.MustParseAddr("192.0.2.1")
	revoked := stale(fmt.Errorf("%w: edge %q was revoked", ErrBadCredential, "pi"))
	for range 100 {
		g.Failed(addr, "credential", revoked)
	}
	if _, blocked := g.Blocked(addr); blocked {
		t.Fatal("blocked after refusals of a revoked credential")
	}
	if got := testutil.ToFloat64(failures.WithLabelValues("ingest", ReasonStale)); got != 100 {
		t.Errorf("stale refusals counted %v, want 100", got)
	}
	if got := testutil.ToFloat64(failures.WithLabelValues("ingest", "credential")); got != 0 {
		t.Errorf("stale refusals counted as guesses: %v", got)
	}
	unknown := fmt.Errorf("%w: not known", ErrBadCredential)
	for range 3 {
		g.Failed(addr, "credential", unknown)
	}
	if _, blocked := g.Blocked(addr); !blocked {
		t.Error("not blocked after a burst of unknown credentials")
	}
	g.Failed(addr, "malformed", nil)
	if got := testutil.ToFloat64(failures.WithLabelValues("ingest", "credential")); got != 3 {
		t.Errorf("guesses counted %v, want 3", got)
	}
}
