package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lmx-video/lmx/hls"
)

// TestGrants: signed playback URLs as players meet them. A URL from `lmx
// source url` plays in ffprobe with nothing else; a grant altered in any
// field, one used on another source, one past its expiry, one whose token
// was revoked and one signed with a key since rotated are refused (403 and
// the JSON envelope) on the playlist and on a segment URI that played a
// moment before; a public source plays without a grant, until it is closed
// again; a recording plays with its own grant and not with the live one.
func TestGrants(t *testing.T) {
	t.Parallel()
	const srcA, srcB = "camera-0", "camera-1"
	// Each refused request below comes from a player of its own
	// (X-Forwarded-For, believed from the test as a trusted proxy): the
	// node slows down an address after 10 forged or altered grants, and
	// every case must be answered as what it is, not with 429.
	cn := startControld(t, "--trusted-proxy", "127.0.0.1")
	edge := startEdge(t, lmxBin, "edge-grants", cn, t.TempDir())
	for _, src := range []string{srcA, srcB} {
		startFFmpeg(t, edge, src, edge.allowDir)
	}
	for _, src := range []string{srcA, srcB} {
		waitSourceKnown(t, cn, src, 20*time.Second)
		mustLMX(t, cn, "source", "stream", "on", src, "--timeout", "30s")
	}
	for _, src := range []string{srcA, srcB} {
		waitLive(t, cn.liveURL(src), 20*time.Second)
	}

	// A signed URL from the CLI, played as it is.
	signed := sourceURL(t, cn, srcA, "--ttl", "1h")
	g := grantOf(t, signed)
	if left := time.Until(grantExpiry(t, g)); left < 59*time.Minute || left > 61*time.Minute {
		t.Errorf("lmx source url --ttl 1h: the grant expires in %s, want about an hour", left)
	}
	expectH264(t, signed) // the URL alone: the harness adds no token to a signed URL
	goodA := goodFetch(t, signed)
	signedB := sourceURL(t, cn, srcB)
	goodB := goodFetch(t, signedB)

	t.Run("tampered-path", func(t *testing.T) {
		// A's grant on B's playlist and on one of B's segments.
		refused(t, "A's grant on B's playlist", setGrant(t, signedB, g), "another source")
		refused(t, "A's grant on B's segment", setGrant(t, goodB, g), "another source")
	})
	t.Run("tampered-expiry", func(t *testing.T) {
		later := tamperGrant(t, g, 4, func(f string) string {
			n, err := strconv.ParseInt(f, 10, 64)
			if err != nil {
				t.Fatalf("expiry field %q: %v", f, err)
			}
			return strconv.FormatInt(n+24*3600, 10)
		})
		refused(t, "playlist, expiry a day later", setGrant(t, signed, later), "signature")
		refused(t, "segment, expiry a day later", setGrant(t, goodA, later), "signature")
	})
	t.Run("tampered-signature", func(t *testing.T) {
		forged := tamperGrant(t, g, 5, func(f string) string {
			c := byte('A')
			if f[0] == 'A' {
				c = 'B'
			}
			return string(c) + f[1:]
		})
		refused(t, "playlist, signature altered", setGrant(t, signed, forged), "signature")
		refused(t, "segment, signature altered", setGrant(t, goodA, forged), "signature")
	})
	t.Run("expired", func(t *testing.T) {
		short := sourceURL(t, cn, srcA, "--ttl", "3s")
		exp := grantExpiry(t, grantOf(t, short))
		seg := goodFetch(t, short)
		playedAt := time.Now()
		if !playedAt.Before(exp) {
			t.Fatalf("the 3 s grant was only tried at %s, after its expiry %s: too slow a machine to tell", playedAt, exp)
		}
		var refusedAt time.Time
		p := newPlayer()
		eventually(t, 15*time.Second, 100*time.Millisecond, "the 3 s grant's playlist answers 403", func() (bool, string) {
			r, err := do(http.MethodGet, short, p, nil)
			if err != nil {
				return false, err.Error()
			}
			switch r.Status {
			case http.StatusOK:
				return false, "still 200"
			case http.StatusForbidden:
				refusedAt = time.Now()
				expectError(t, "playlist, grant expired", r, http.StatusForbidden, true, "expired")
				return true, ""
			}
			t.Fatalf("the 3 s grant's playlist: %s, want 200 until it expires, then 403", r)
			return false, ""
		})
		t.Logf("the 3 s grant played at %s, refused from %s; it expired at %s",
			playedAt.Format(time.RFC3339Nano), refusedAt.Format(time.RFC3339Nano), exp.Format(time.RFC3339))
		if refusedAt.Before(exp) {
			t.Errorf("refused at %s, before the grant's expiry %s", refusedAt, exp)
		}
		refused(t, "segment, grant expired", seg, "expired")
	})
	t.Run("issuer-revoked", func(t *testing.T) {
		secret := strings.TrimSpace(mustLMX(t, cn, "token", "create", "v", "--role", "viewer"))
		viewerURL := sourceURL(t, cn, srcA, "--token", secret)
		seg := goodFetch(t, viewerURL)
		mustLMX(t, cn, "token", "revoke", "v")
		refused(t, "playlist, issuer revoked", viewerURL, "revoked")
		refused(t, "segment, issuer revoked", seg, "revoked")
	})

	t.Run("public", func(t *testing.T) {
		live := cn.liveURL(srcA)
		refused(t, "unsigned playlist of a closed source", live, "needs a grant")
		mustLMX(t, cn, "source", "set", srcA, "--public")
		seg := anonymousFetch(t, live)
		mustLMX(t, cn, "source", "set", srcA, "--no-public")
		refused(t, "unsigned playlist once closed again", live, "needs a grant")
		refused(t, "unsigned segment once closed again", seg, "needs a grant")
	})

	// A recording plays with its own grant only.
	rec := recStart(t, cn, srcA, "-2s")
	eventually(t, 20*time.Second, 250*time.Millisecond, "the recording to hold 3 segments", func() (bool, string) {
		r := getRecording(t, cn, rec.ID)
		return r.Segments >= 3, itoa(r.Segments) + " segments"
	})
	recURL := strings.TrimSpace(mustLMX(t, cn, "rec", "url", rec.ID))
	if want := cn.vodURL + "/v1/vod/recording/" + rec.ID + "/vid.m3u8?grant="; !strings.HasPrefix(recURL, want) {
		t.Errorf("lmx rec url printed %q, want %s…", recURL, want)
	}
	expectH264(t, recURL)
	goodRec := goodFetch(t, recURL)
	t.Run("recording", func(t *testing.T) {
		refused(t, "the live grant on the recording's playlist", setGrant(t, recURL, g), "not a recording")
		refused(t, "the live grant on a recorded segment", setGrant(t, goodRec, g), "not a recording")
		refused(t, "the recording's grant on the live playlist", setGrant(t, signed, grantOf(t, recURL)), "not a source")
		refused(t, "the unsigned recording playlist", setGrant(t, recURL, ""), "needs a grant")
	})

	// Last, as it ends every grant handed out so far.
	t.Run("rotated-key", func(t *testing.T) {
		cn.extra = append(cn.extra, "--rotate-grant-key")
		cn.proc.Stop()
		cn.start()
		waitEdgeOnline(t, cn, edge.name, 20*time.Second)
		waitLive(t, cn.liveURL(srcA), 30*time.Second)
		fresh := sourceURL(t, cn, srcA)
		if grantKeyID(t, grantOf(t, fresh)) == grantKeyID(t, g) {
			t.Fatalf("the grant key is still %s after --rotate-grant-key", grantKeyID(t, g))
		}
		segNow := goodFetch(t, fresh)
		refused(t, "old grant on the playlist", signed, "rotated out")
		refused(t, "old grant on a current segment", setGrant(t, segNow, g), "rotated out")
		refused(t, "old grant on a segment from before the restart", goodA, "rotated out")
		refused(t, "old recording grant", recURL, "rotated out")
		refused(t, "old recording grant on a segment", goodRec, "rotated out")
	})
}

// ---------------------------------------------------------------------------
// Players and grants

// players numbers the player addresses of newPlayer.
var players atomic.Uint32

// newPlayer is the header of a player of its own: no token (the harness
// adds the node's admin token to no request carrying the anonymous
// header) and an address of its own from TEST-NET-2, which a node run with
// --trusted-proxy 127.0.0.1 takes from X-Forwarded-For (a node that trusts
// no proxy ignores it).
func newPlayer() http.Header {
	n := players.Add(1)
	return http.Header{
		anonymous:         {"1"},
		"X-Forwarded-For": {fmt.Sprintf("198.51.%d.%d", 100+n/250%2, 1+n%250)},
	}
}

// sourceURL is `lmx source url SOURCE ARGS…`: the signed URL it prints
// alone on stdout.
func sourceURL(t *testing.T, cn *controlNode, source string, args ...string) string {
	t.Helper()
	u := strings.TrimSpace(mustLMX(t, cn, append([]string{"source", "url", source}, args...)...))
	if want := cn.liveURL(source) + "?grant="; !strings.HasPrefix(u, want) {
		t.Fatalf("lmx source url %s printed %q, want %s…", source, u, want)
	}
	return u
}

// grantOf is the grant a URL carries.
func grantOf(t *testing.T, u string) string {
	t.Helper()
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatalf("%s: %v", u, err)
	}
	g := pu.Query().Get("grant")
	if g == "" {
		t.Fatalf("%s carries no grant", u)
	}
	return g
}

// setGrant is u with its grant replaced by g (taken out when g is "").
func setGrant(t *testing.T, u, g string) string {
	t.Helper()
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatalf("%s: %v", u, err)
	}
	q := pu.Query()
	if g == "" {
		q.Del("grant")
	} else {
		q.Set("grant", g)
	}
	pu.RawQuery = q.Encode()
	return pu.String()
}

// grantFields splits a grant 1.KID.sID.ISSUER.EXP.SIG into its six fields.
func grantFields(t *testing.T, g string) []string {
	t.Helper()
	f := strings.Split(g, ".")
	if len(f) != 6 || f[0] != "1" {
		t.Fatalf("grant %q: want 1.KID.SCOPE.ISSUER.EXP.SIG", g)
	}
	return f
}

// tamperGrant is g with field i changed by f.
func tamperGrant(t *testing.T, g string, i int, f func(string) string) string {
	t.Helper()
	fields := grantFields(t, g)
	fields[i] = f(fields[i])
	out := strings.Join(fields, ".")
	if out == g {
		t.Fatalf("tampering with field %d left the grant as it was", i)
	}
	return out
}

func grantKeyID(t *testing.T, g string) string { return grantFields(t, g)[1] }

// grantExpiry is when g says it expires.
func grantExpiry(t *testing.T, g string) time.Time {
	t.Helper()
	n, err := strconv.ParseInt(grantFields(t, g)[4], 10, 64)
	if err != nil {
		t.Fatalf("grant %q: expiry: %v", g, err)
	}
	return time.Unix(n, 0)
}

// goodFetch plays a signed playlist the way a player does, from an address
// of its own without any token: the playlist answers 200, every URI in it
// carries the same grant, and its newest segment answers 200 with MPEG-TS.
// It returns that segment's URL.
func goodFetch(t *testing.T, playlistURL string) string {
	t.Helper()
	return fetchAndSegment(t, playlistURL, grantOf(t, playlistURL))
}

// anonymousFetch is goodFetch for a playlist that plays without a grant (a
// public source): its URIs carry none.
func anonymousFetch(t *testing.T, playlistURL string) string {
	t.Helper()
	return fetchAndSegment(t, playlistURL, "")
}

func fetchAndSegment(t *testing.T, playlistURL, g string) string {
	t.Helper()
	p := newPlayer()
	r := mustDo(t, http.MethodGet, playlistURL, p, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("GET %s: %s, want 200", playlistURL, r)
	}
	pl, err := hls.ParseMediaPlaylist(bytes.NewReader(r.Body), 0)
	if err != nil || len(pl.Segments) == 0 {
		t.Fatalf("GET %s: %v, %d segments:\n%s", playlistURL, err, len(pl.Segments), r.Body)
	}
	for _, s := range pl.Segments {
		pu, err := url.Parse(s.URI)
		if err != nil {
			t.Fatalf("segment URI %q: %v", s.URI, err)
		}
		if got := pu.Query().Get("grant"); got != g {
			t.Fatalf("segment URI %q of %s carries grant %q, want %q", s.URI, playlistURL, got, g)
		}
	}
	seg := resolve(playlistURL, pl.Segments[len(pl.Segments)-1].URI)
	sr := mustDo(t, http.MethodGet, seg, p, nil)
	if err := checkSegment(sr); err != nil {
		t.Fatalf("GET %s: %v", seg, err)
	}
	return seg
}

// refused checks that a player of its own, with no token, gets 403 and
// the JSON envelope for u, its message saying why (wants).
func refused(t *testing.T, what, u string, wants ...string) {
	t.Helper()
	r := mustDo(t, http.MethodGet, u, newPlayer(), nil)
	expectError(t, what, r, http.StatusForbidden, true, wants...)
}
