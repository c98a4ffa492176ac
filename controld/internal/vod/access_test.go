package vod_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/controld/internal/auth"
	"github.com/lmx-video/lmx/controld/internal/grant"
	"github.com/lmx-video/lmx/controld/internal/recording"
	"github.com/lmx-video/lmx/controld/internal/vod"
	"github.com/lmx-video/lmx/hls"
	"github.com/lmx-video/lmx/sqlstore"
)

// keyRing is a grant.KeyRing in a map.
type keyRing map[string][]byte

func (k keyRing) GrantKey(id string) ([]byte, bool) {
	key, ok := k[id]
	return key, ok
}

// fakeAccess checks grants with the real grant.Verify against its key
// ring, API tokens against a map, and join secrets against a map.
type fakeAccess struct {
	keys    keyRing
	now     func() time.Time
	revoked map[string]bool           // issuers (token ids) revoked
	tokens  map[string]auth.Principal // API token → who
	public  map[string]bool           // source ids anyone may watch
	joins   map[string]string         // join secret → edge

	mu     sync.Mutex
	joined []string
}

func (f *fakeAccess) VerifyGrant(g string, scope grant.Scope) error {
	c, err := grant.Verify(g, f.keys, scope, f.now())
	if err != nil {
		return fmt.Errorf("%w: %v", auth.ErrBadGrant, err)
	}
	if f.revoked[c.Issuer] {
		return fmt.Errorf("%w: the token that issued it was revoked or has expired", auth.ErrBadGrant)
	}
	return nil
}

func (f *fakeAccess) Authenticate(token string) (auth.Principal, error) {
	if p, ok := f.tokens[token]; ok {
		return p, nil
	}
	return auth.Principal{}, fmt.Errorf("%w: the token is not known to this control node", auth.ErrBadCredential)
}

func (f *fakeAccess) IsPublic(id string) bool { return f.public[id] }

func (f *fakeAccess) Join(_ context.Context, secret string) (string, string, error) {
	edge, ok := f.joins[secret]
	if !ok {
		return "", "", fmt.Errorf("%w: the join token is not known to this control node", auth.ErrBadCredential)
	}
	f.mu.Lock()
	f.joined = append(f.joined, edge)
	f.mu.Unlock()
	return edge, "lmx_edge_cred_" + edge, nil
}

// fakeGate takes the peer's address, counts failures and blocks while
// retry is set.
type fakeGate struct {
	mu      sync.Mutex
	retry   time.Duration
	failed  []string // reasons
	blocked int
}

func (g *fakeGate) ClientAddrOf(peer net.Addr, _ []string) netip.Addr {
	ap, err := netip.ParseAddrPort(peer.String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr()
}

func (g *fakeGate) Blocked(netip.Addr) (time.Duration, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.retry > 0 {
		g.blocked++
		return g.retry, true
	}
	return 0, false
}

func (g *fakeGate) Failed(_ netip.Addr, reason string, _ error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.failed = append(g.failed, reason)
}

func (g *fakeGate) failures() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.failed...)
}

func (g *fakeGate) block(retry time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.retry = retry
}

const (
	keyID      = "0a1b2c3d"
	issuer     = "0123456789abcdef"
	revokedIss = "fedcba9876543210"
	apiToken   = "lmx_tok_viewer"
	noRole     = "lmx_tok_norole"
)

var key = []byte("0123456789abcdef0123456789abcdef")

// guarded is a node with access control on, its fakes, and the ids of
// what it plays.
type guarded struct {
	*node
	access     *fakeAccess
	play, edge *fakeGate
	now        time.Time
	liveSeqs   []uint64 // cam's
	lobbySeqs  []uint64
}

func startGuarded(t *testing.T) *guarded {
	t.Helper()
	now := time.Now()
	g := &guarded{
		access: &fakeAccess{
			keys:    keyRing{keyID: key},
			now:     func() time.Time { return now },
			revoked: map[string]bool{revokedIss: true},
			tokens: map[string]auth.Principal{
				apiToken: {TokenID: "aaaaaaaaaaaaaaaa", Name: "wall", Role: api.RoleViewer},
				noRole:   {TokenID: "bbbbbbbbbbbbbbbb", Name: "odd"},
			},
			public: map[string]bool{"id-lobby": true},
			joins:  map[string]string{"lmx_join_good": "edge-9"},
		},
		play: &fakeGate{},
		edge: &fakeGate{},
		now:  now,
	}
	g.node = startWith(t, vod.Config{CORSOrigin: origin}, vod.Guard{Access: g.access, Playback: g.play, Ingest: g.edge})
	g.sources.srcs["lobby"] = sqlstore.Source{ID: "id-lobby", Name: "lobby", Streaming: true, Public: true}
	g.liveSeqs, _ = appendSegs(t, g.live, "cam", 3, 2)
	appendSegs(t, g.live, "fast", 3, 2)
	g.lobbySeqs, _ = appendSegs(t, g.live, "lobby", 3, 2)
	var segs []hls.LiveSegment
	g.recs.segments = map[string][]byte{}
	for i := range 3 {
		s := hls.LiveSegment{URI: strconv.Itoa(1700000000000+i) + ".ts", Duration: 2}
		segs = append(segs, s)
		g.recs.segments["rec-done/"+strings.TrimSuffix(s.URI, ".ts")] = []byte("recorded " + s.URI)
	}
	g.recs.playlists = map[string]recording.Playlist{"rec-done": {Body: hls.RenderRecording(segs, true)}}
	return g
}

// sign is a grant for scope, expiring at exp, issued by iss.
func sign(t *testing.T, scope grant.Scope, iss string, exp time.Time) string {
	t.Helper()
	g, err := grant.Sign(grant.Claims{KeyID: keyID, Scope: scope, Issuer: iss, Expires: exp}, key)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// withQuery is path with grant g ("" for none).
func withQuery(path, g string) string {
	if g == "" {
		return path
	}
	return path + "?" + api.GrantParam + "=" + url.QueryEscape(g)
}

// target is one kind of playback request.
type target struct {
	name  string
	path  string
	scope grant.Scope // what it needs a grant for
	other grant.Scope // a genuine scope of another source or recording
}

func (g *guarded) targets() []target {
	cam, fast := grant.SourceScope("id-cam"), grant.SourceScope("id-fast")
	rec, other := grant.RecordingScope("rec-done"), grant.RecordingScope("rec-other")
	return []target{
		{"live playlist", api.LivePlaylistPath("cam"), cam, fast},
		{"live segment", segPath("cam", g.liveSeqs[1]), cam, fast},
		{"recording playlist", api.RecordingPlaylistPath("rec-done"), rec, other},
		{"recorded segment", api.PathRecordingPrefix + "rec-done/1700000000001.ts", rec, other},
	}
}

// otherKind is scope's id as the other kind of scope (a recording of a
// source's id, or the reverse).
func otherKind(scope grant.Scope) grant.Scope {
	if scope.Kind == grant.ScopeSource {
		return grant.RecordingScope(scope.ID)
	}
	return grant.SourceScope(scope.ID)
}

// tamperExpiry moves a grant's expiry a day later, keeping its signature.
func tamperExpiry(t *testing.T, g string) string {
	t.Helper()
	parts := strings.Split(g, ".")
	exp, err := strconv.ParseInt(parts[4], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	parts[4] = strconv.FormatInt(exp+86400, 10)
	return strings.Join(parts, ".")
}

// forbidden checks a 403 envelope with a CORS origin (a player must be
// able to read why it may not play).
func forbidden(t *testing.T, a answer, parts ...string) {
	t.Helper()
	a.envelope(t, http.StatusForbidden, parts...)
	if a.Header.Get("Access-Control-Allow-Origin") != origin {
		t.Errorf("403 without the CORS origin")
	}
	if strings.Contains(string(a.body), ".ts\n") || strings.Contains(string(a.body), "#EXTM3U") {
		t.Errorf("a refusal carries media: %s", a.body)
	}
}

func TestPlaybackRefusesWithoutAGoodGrant(t *testing.T) {
	g := startGuarded(t)
	day := g.now.Add(24 * time.Hour)
	for _, tt := range g.targets() {
		valid := sign(t, tt.scope, issuer, day)
		for _, c := range []struct {
			name    string
			grant   string
			message string // what the message must name
			failure bool   // counted by the gate
		}{
			{"no grant", "", "needs a grant", false},
			{"grant for another", sign(t, tt.other, issuer, day), "wrong grant scope", true},
			{"grant of the other kind", sign(t, otherKind(tt.scope), issuer, day), "wrong grant scope", true},
			{"tampered expiry", tamperExpiry(t, valid), "bad grant signature", true},
			{"tampered scope", strings.Replace(valid, "."+string(tt.scope.Kind)+tt.scope.ID+".", "."+string(tt.other.Kind)+tt.other.ID+".", 1), "bad grant signature", true},
			{"expired", sign(t, tt.scope, issuer, g.now.Add(-time.Second)), "grant expired", true},
			{"expires now", sign(t, tt.scope, issuer, g.now.Truncate(time.Second)), "grant expired", true},
			{"revoked issuer", sign(t, tt.scope, revokedIss, day), "revoked", true},
			{"unknown key", strings.Replace(valid, keyID, "ffffffff", 1), "unknown key", true},
			{"garbage", "not-a-grant", "malformed grant", true},
			{"long garbage", strings.Repeat("A", 2000), "malformed grant", true},
		} {
			t.Run(tt.name+"/"+c.name, func(t *testing.T) {
				before := len(g.play.failures())
				forbidden(t, g.get(t, withQuery(tt.path, c.grant)), c.message)
				got := g.play.failures()[before:]
				if c.failure && fmt.Sprint(got) != "[grant]" {
					t.Errorf("gate failures %v, want one for the grant", got)
				}
				if !c.failure && len(got) != 0 {
					t.Errorf("gate failures %v for a request that tried nothing", got)
				}
			})
		}
		t.Run(tt.name+"/bad API token", func(t *testing.T) {
			for _, h := range []string{"Bearer lmx_tok_nope", "Basic eDp5", "Bearer " + noRole} {
				before := len(g.play.failures())
				a := g.do(t, http.MethodGet, tt.path, nil, map[string]string{"Authorization": h})
				forbidden(t, a)
				if got := g.play.failures()[before:]; fmt.Sprint(got) != "[token]" {
					t.Errorf("%s: gate failures %v, want one for the token", h, got)
				}
			}
		})
	}
}

func TestPlaybackWithAGrant(t *testing.T) {
	g := startGuarded(t)
	for _, tt := range g.targets() {
		t.Run(tt.name, func(t *testing.T) {
			gr := sign(t, tt.scope, issuer, g.now.Add(time.Hour))
			a := g.get(t, withQuery(tt.path, gr)).wantStatus(t, http.StatusOK)
			if !strings.HasSuffix(tt.path, api.PlaylistName) {
				if len(a.body) == 0 || a.Header.Get("Content-Type") != "video/mp2t" {
					t.Errorf("segment: %d bytes of %q", len(a.body), a.Header.Get("Content-Type"))
				}
				return
			}
			pl, err := hls.ParseMediaPlaylist(strings.NewReader(string(a.body)), 0)
			if err != nil {
				t.Fatalf("the playlist served with a grant does not parse: %v\n%s", err, a.body)
			}
			if len(pl.Segments) == 0 {
				t.Fatalf("no segments:\n%s", a.body)
			}
			base, _ := url.Parse(g.base + tt.path)
			for _, s := range pl.Segments {
				u, err := url.Parse(s.URI)
				if err != nil {
					t.Fatalf("segment URI %q: %v", s.URI, err)
				}
				if got := u.Query()[api.GrantParam]; len(got) != 1 || got[0] != gr {
					t.Errorf("segment URI %q carries grant %q, want the playlist's", s.URI, got)
				}
				// Every URI plays as the player would follow it.
				seg := base.ResolveReference(u)
				g.get(t, seg.RequestURI()).wantStatus(t, http.StatusOK)
			}
			// Every non-tag line is a URI and carries the grant.
			for line := range strings.SplitSeq(strings.TrimSuffix(string(a.body), "\n"), "\n") {
				if line != "" && !strings.HasPrefix(line, "#") && !strings.HasSuffix(line, "?"+api.GrantParam+"="+gr) {
					t.Errorf("URI line %q without the grant", line)
				}
			}
			h := g.do(t, http.MethodHead, withQuery(tt.path, gr), nil, nil).wantStatus(t, http.StatusOK)
			if h.ContentLength != int64(len(a.body)) {
				t.Errorf("HEAD Content-Length %d, want the rewritten playlist's %d", h.ContentLength, len(a.body))
			}
		})
	}
	if f := g.play.failures(); len(f) != 0 {
		t.Errorf("gate failures %v for good grants", f)
	}
}

// A playlist with a grant is written into the response's body buffer,
// which the connection keeps for its next answer: answers of other lengths
// and grants on one connection leave nothing of each other behind, and a
// playlist too long to keep there is answered all the same.
func TestPlaylistsWithGrantsOnOneConnection(t *testing.T) {
	g := startGuarded(t)
	var segs []hls.LiveSegment
	for i := range 2000 {
		segs = append(segs, hls.LiveSegment{URI: strconv.Itoa(1700000000000+i) + ".ts", Duration: 2})
	}
	g.recs.playlists["rec-long"] = recording.Playlist{Body: hls.RenderRecording(segs, true)}
	if n := len(g.recs.playlists["rec-long"].Body); n <= 32<<10 {
		t.Fatalf("the long recording's playlist is %d bytes: not long enough", n)
	}
	plays := []struct {
		path  string
		scope grant.Scope
	}{
		{api.LivePlaylistPath("cam"), grant.SourceScope("id-cam")},
		{api.RecordingPlaylistPath("rec-done"), grant.RecordingScope("rec-done")},
		{api.LivePlaylistPath("fast"), grant.SourceScope("id-fast")},
		{api.RecordingPlaylistPath("rec-long"), grant.RecordingScope("rec-long")},
	}
	// One connection: the requests follow each other on it.
	tr := &http.Transport{MaxConnsPerHost: 1}
	t.Cleanup(tr.CloseIdleConnections)
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	first := map[string]string{}
	for round := range 3 {
		for _, p := range plays {
			gr := sign(t, p.scope, issuer, g.now.Add(time.Duration(round+1)*time.Hour))
			req, err := http.NewRequest(http.MethodGet, g.base+withQuery(p.path, gr), nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: %d, %v\n%s", p.path, resp.StatusCode, err, b)
			}
			if resp.ContentLength != int64(len(b)) {
				t.Errorf("GET %s: Content-Length %d, %d bytes", p.path, resp.ContentLength, len(b))
			}
			// The same playlist as the first time, with this round's grant.
			body := strings.ReplaceAll(string(b), gr, "GRANT")
			if strings.Contains(body, api.GrantParam+"=1.") {
				t.Errorf("GET %s (round %d) carries another grant:\n%s", p.path, round, b)
			}
			if round == 0 {
				first[p.path] = body
				if n := strings.Count(body, "?"+api.GrantParam+"=GRANT\n"); n == 0 {
					t.Errorf("GET %s: no URI with the grant:\n%s", p.path, b)
				}
			} else if body != first[p.path] {
				t.Errorf("GET %s (round %d):\n%s\nwant, with its grant:\n%s", p.path, round, body, first[p.path])
			}
		}
	}
}

func TestPlaybackWithAnAPIToken(t *testing.T) {
	g := startGuarded(t)
	hdr := map[string]string{"Authorization": "Bearer " + apiToken}
	for _, tt := range g.targets() {
		a := g.do(t, http.MethodGet, tt.path, nil, hdr).wantStatus(t, http.StatusOK)
		if strings.Contains(string(a.body), api.GrantParam+"=") {
			t.Errorf("%s: a grant in an answer to a token:\n%s", tt.name, a.body)
		}
	}
	ls, _ := g.live.Get("cam")
	if a := g.do(t, http.MethodGet, api.LivePlaylistPath("cam"), nil, hdr); string(a.body) != string(ls.Playlist()) {
		t.Errorf("playlist for a token differs from the window's")
	}
	// The scheme is case-insensitive.
	g.do(t, http.MethodGet, api.LivePlaylistPath("cam"), nil, map[string]string{"Authorization": "bearer " + apiToken}).wantStatus(t, http.StatusOK)
}

func TestPlaybackOfAPublicSource(t *testing.T) {
	g := startGuarded(t)
	a := g.get(t, api.LivePlaylistPath("lobby")).wantStatus(t, http.StatusOK)
	ls, _ := g.live.Get("lobby")
	if string(a.body) != string(ls.Playlist()) {
		t.Errorf("public playlist is not the window's:\n%s", a.body)
	}
	g.get(t, segPath("lobby", g.lobbySeqs[0])).wantStatus(t, http.StatusOK)
	g.get(t, api.LivePlaylistPath("id-lobby")).wantStatus(t, http.StatusOK)
	// A grant for another source, or garbage, is not looked at.
	g.get(t, withQuery(api.LivePlaylistPath("lobby"), "garbage")).wantStatus(t, http.StatusOK)
	if f := g.play.failures(); len(f) != 0 {
		t.Errorf("gate failures %v on a public source", f)
	}
	// Public is per source: the others still need a grant.
	forbidden(t, g.get(t, api.LivePlaylistPath("cam")), "needs a grant")
}

// TestPlaybackDoesNotTellWhichSourcesExist: with auth on, an unknown
// source is refused like a known one without a grant; the reason a source
// does not play is told only to who may watch it.
func TestPlaybackDoesNotTellWhichSourcesExist(t *testing.T) {
	g := startGuarded(t)
	hour := g.now.Add(time.Hour)
	camGrant := sign(t, grant.SourceScope("id-cam"), issuer, hour)
	for _, path := range []string{api.LivePlaylistPath("nope"), segPath("nope", 1)} {
		unknown := g.get(t, path)
		known := g.get(t, api.LivePlaylistPath("off"))
		forbidden(t, unknown, "needs a grant")
		forbidden(t, known, "needs a grant")
		if unknown.Header.Get("Content-Type") != known.Header.Get("Content-Type") {
			t.Errorf("unknown and known sources answer differently")
		}
		// A genuine grant for another source does not help.
		forbidden(t, g.get(t, withQuery(path, camGrant)), "wrong grant scope")
	}
	forbidden(t, g.get(t, api.RecordingPlaylistPath("rec-nope")), "needs a grant")
	forbidden(t, g.get(t, api.PathRecordingPrefix+"rec-nope/1.ts"), "needs a grant")

	// Who may watch learns why.
	for _, tt := range []struct {
		path, id, message string
	}{
		{api.LivePlaylistPath("off"), "id-off", `source "off" is not streaming`},
		{segPath("off", 1), "id-off", `source "off" is not streaming`},
		{api.LivePlaylistPath("waiting"), "id-waiting", "no live segments yet"},
	} {
		gr := sign(t, grant.SourceScope(tt.id), issuer, hour)
		a := g.get(t, withQuery(tt.path, gr))
		env := a.envelope(t, http.StatusNotFound, tt.message)
		if env.Error.Detail == "" {
			t.Errorf("%s: 404 without advice", tt.path)
		}
	}
	gr := sign(t, grant.RecordingScope("rec-nope"), issuer, hour)
	g.get(t, withQuery(api.RecordingPlaylistPath("rec-nope"), gr)).envelope(t, http.StatusNotFound, "rec-nope")

	// An API token allowed to watch may list the sources anyway: it is
	// told that one does not exist (not answered an empty 200).
	hdr := map[string]string{"Authorization": "Bearer " + apiToken}
	g.do(t, http.MethodGet, api.LivePlaylistPath("nope"), nil, hdr).envelope(t, http.StatusNotFound, `source "nope" not found`)
	g.do(t, http.MethodGet, segPath("nope", 1), nil, hdr).envelope(t, http.StatusNotFound, `source "nope" not found`)
	g.do(t, http.MethodGet, api.LivePlaylistPath("off"), nil, hdr).envelope(t, http.StatusNotFound, "is not streaming")
}

func TestPreflightNeedsNoCredential(t *testing.T) {
	g := startGuarded(t)
	g.play.block(time.Minute) // not even for a blocked address
	for _, tt := range g.targets() {
		a := g.do(t, http.MethodOptions, tt.path, nil, map[string]string{
			"Origin": origin, "Access-Control-Request-Method": "GET",
		}).wantStatus(t, http.StatusNoContent)
		if a.Header.Get("Access-Control-Allow-Origin") != origin || a.Header.Get("Access-Control-Allow-Methods") == "" {
			t.Errorf("%s: preflight headers %v", tt.name, a.Header)
		}
	}
	if f := g.play.failures(); len(f) != 0 {
		t.Errorf("gate failures %v for preflights", f)
	}
}

func TestPlaybackGate(t *testing.T) {
	g := startGuarded(t)
	for _, tt := range g.targets() {
		// Failures are counted, a missing grant is not.
		g.get(t, withQuery(tt.path, "garbage"))
		g.get(t, tt.path)
	}
	if got := g.play.failures(); fmt.Sprint(got) != "[grant grant grant grant]" {
		t.Errorf("gate failures %v, want one per bad grant", got)
	}
	if f := g.edge.failures(); len(f) != 0 {
		t.Errorf("playback failures counted on the ingest gate: %v", f)
	}

	g.play.block(1500 * time.Millisecond)
	for _, tt := range g.targets() {
		// Blocked: 429, even with a good grant, and nothing more is counted.
		before := len(g.play.failures())
		gr := sign(t, tt.scope, issuer, g.now.Add(time.Hour))
		for _, p := range []string{tt.path, withQuery(tt.path, gr), withQuery(tt.path, "garbage")} {
			a := g.get(t, p)
			a.envelope(t, http.StatusTooManyRequests, "too many failed authentications", "127.0.0.1")
			if ra := a.Header.Get("Retry-After"); ra != "2" {
				t.Errorf("%s: Retry-After %q, want 2", tt.name, ra)
			}
			if a.Header.Get("Access-Control-Allow-Origin") != origin {
				t.Errorf("%s: 429 without the CORS origin", tt.name)
			}
		}
		if n := len(g.play.failures()); n != before {
			t.Errorf("%s: blocked requests counted as failures", tt.name)
		}
	}
	// A sub-second wait is still told as a second, never 0 ("now").
	g.play.block(200 * time.Millisecond)
	if ra := g.get(t, api.LivePlaylistPath("cam")).wantStatus(t, http.StatusTooManyRequests).Header.Get("Retry-After"); ra != "1" {
		t.Errorf("Retry-After %q for 200ms, want 1", ra)
	}
	// A public source is open even to a blocked address.
	g.get(t, api.LivePlaylistPath("lobby")).wantStatus(t, http.StatusOK)
}

func TestJoin(t *testing.T) {
	g := startGuarded(t)
	a := g.do(t, http.MethodPost, "/v1/edge/join", nil, map[string]string{"Authorization": "Bearer lmx_join_good"}).wantStatus(t, http.StatusOK)
	if !strings.Contains(string(a.body), `"lmx_edge_cred_edge-9"`) || !strings.Contains(string(a.body), `"edge-9"`) {
		t.Errorf("join reply %s", a.body)
	}
	g.do(t, http.MethodPost, "/v1/edge/join", nil, map[string]string{"Authorization": "Bearer lmx_join_bad"}).envelope(t, http.StatusUnauthorized, "not known")
	g.do(t, http.MethodPost, "/v1/edge/join", nil, nil).envelope(t, http.StatusBadRequest, "Bearer JOIN-SECRET")
	if got := g.edge.failures(); fmt.Sprint(got) != "[join malformed]" {
		t.Errorf("ingest gate failures %v, want join and malformed", got)
	}
	if f := g.play.failures(); len(f) != 0 {
		t.Errorf("join failures counted on the playback gate: %v", f)
	}
	g.edge.block(3 * time.Second)
	a = g.do(t, http.MethodPost, "/v1/edge/join", nil, map[string]string{"Authorization": "Bearer lmx_join_good"})
	if a.envelope(t, http.StatusTooManyRequests); a.Header.Get("Retry-After") != "3" {
		t.Errorf("Retry-After %q, want 3", a.Header.Get("Retry-After"))
	}

	// With auth off there is nothing to join.
	off := start(t, vod.Config{})
	off.do(t, http.MethodPost, "/v1/edge/join", nil, map[string]string{"Authorization": "Bearer lmx_join_good"}).envelope(t, http.StatusNotFound, "access control is off")
}

// errJoinStore is a store failure behind a join.
var errJoinStore = errors.New("database is locked")

type failingJoin struct{ *fakeAccess }

func (failingJoin) Join(context.Context, string) (string, string, error) { return "", "", errJoinStore }

func TestJoinStoreFailure(t *testing.T) {
	g := startGuarded(t)
	n := startWith(t, vod.Config{}, vod.Guard{Access: failingJoin{g.access}, Playback: g.play, Ingest: g.edge})
	n.do(t, http.MethodPost, "/v1/edge/join", nil, map[string]string{"Authorization": "Bearer lmx_join_good"}).envelope(t, http.StatusInternalServerError, "database is locked")
	if f := g.edge.failures(); len(f) != 0 {
		t.Errorf("a store failure counted as a failed join: %v", f)
	}
}
