package mgmt_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/controld/internal/auth"
	"github.com/lmx-video/lmx/controld/internal/events"
	"github.com/lmx-video/lmx/controld/internal/grant"
	"github.com/lmx-video/lmx/internal/secret"
)

func TestAuthOff(t *testing.T) {
	n := start(t)
	var who api.WhoamiReply
	n.ok(t, http.MethodGet, api.PathWhoami, "", &who)
	if who.Whoami != (api.Whoami{Role: api.RoleAdmin, Auth: false}) {
		t.Errorf("whoami %+v, want admin with auth off", who.Whoami)
	}
	// Whatever is sent: with auth off no header is looked at.
	code, _ := n.callWith(t, http.MethodGet, api.PathSources, "", "Basic x")
	if code != http.StatusOK {
		t.Errorf("auth off, Basic header: %d, want 200", code)
	}
	for _, c := range [][3]string{
		{http.MethodGet, api.PathTokens, ""},
		{http.MethodPost, api.PathTokens, `{"name":"x","role":"viewer"}`},
		{http.MethodDelete, api.Expand(api.PathToken, "x"), ""},
		{http.MethodPost, api.PathEdges, `{"name":"e"}`},
		{http.MethodPost, api.Expand(api.PathEdgeRevoke, "e"), ""},
		{http.MethodPost, api.Expand(api.PathEdgeRestore, "e"), ""},
	} {
		n.fail(t, c[0], c[1], c[2], http.StatusBadRequest, "access control is off")
	}
	n.wantEvents(t)

	// Playback URLs carry no grant, and a grant request gives the plain URL.
	cam := n.create(t, `{"name":"cam"}`)
	if strings.Contains(cam.PlaybackURL, api.GrantParam+"=") {
		t.Errorf("playback URL %q has a grant with auth off", cam.PlaybackURL)
	}
	var g api.GrantReply
	n.ok(t, http.MethodPost, api.Expand(api.PathSourceGrant, "cam"), "", &g)
	if g.Grant.URL != publicURL+api.LivePlaylistPath("cam") || !g.Grant.ExpiresAt.IsZero() {
		t.Errorf("grant with auth off %+v", g.Grant)
	}
	if ev := n.wantEvents(t, broker.EventSourceAdded); len(ev) == 1 && ev[0].Event.Actor != "" {
		t.Errorf("actor %q with auth off, want none", ev[0].Event.Actor)
	}
}

// callWith is call with an Authorization header.
func (n *node) callWith(t *testing.T, method, path, body, authz string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, n.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", authz)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestWhoami(t *testing.T) {
	n := startAuth(t, authOpts{})
	for _, role := range roles {
		tok := n.tokens[role]
		var who api.WhoamiReply
		decode(t, role, n.do(t, req{method: http.MethodGet, path: api.PathWhoami, authz: bearer(tok.secret)}), &who)
		if who.Whoami != (api.Whoami{Token: "the-" + role, Role: role, Auth: true}) {
			t.Errorf("whoami as %s: %+v", role, who.Whoami)
		}
	}
}

func TestGrantRoutes(t *testing.T) {
	n := startAuth(t, authOpts{})
	viewer := n.tokens[api.RoleViewer]
	src := n.source(t, "cam")
	rec := n.recording(t, "r", false)
	as := func(tok roleToken, method, path, body string) *httptest.ResponseRecorder {
		return n.do(t, req{method: method, path: path, body: body, authz: bearer(tok.secret)})
	}
	grantOf := func(t *testing.T, u string) string {
		t.Helper()
		pu, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		return pu.Query().Get(api.GrantParam)
	}

	var g api.GrantReply
	decode(t, "source grant", as(viewer, http.MethodPost, api.Expand(api.PathSourceGrant, "cam"), `{"ttl_seconds":60}`), &g)
	if !strings.HasPrefix(g.Grant.URL, publicURL+api.LivePlaylistPath("cam")+"?"+api.GrantParam+"=") {
		t.Errorf("grant URL %q", g.Grant.URL)
	}
	if d := time.Until(g.Grant.ExpiresAt); d <= 50*time.Second || d > 61*time.Second {
		t.Errorf("expires in %v, want a minute", d)
	}
	if err := n.auth.VerifyGrant(grantOf(t, g.Grant.URL), grant.SourceScope(src.ID)); err != nil {
		t.Errorf("the source grant does not verify: %v", err)
	}
	decode(t, "recording grant", as(viewer, http.MethodPost, api.Expand(api.PathRecordingGrant, rec.ID), ""), &g)
	if err := n.auth.VerifyGrant(grantOf(t, g.Grant.URL), grant.RecordingScope(rec.ID)); err != nil {
		t.Errorf("the recording grant does not verify: %v", err)
	}
	for _, body := range []string{`{"ttl_seconds":-1}`, `{"ttl_seconds":99999999999}`, `{"ttl_seconds":`} {
		failure(t, "grant "+body, as(viewer, http.MethodPost, api.Expand(api.PathSourceGrant, "cam"), body), http.StatusBadRequest)
	}
	failure(t, "grant for no source", as(viewer, http.MethodPost, api.Expand(api.PathSourceGrant, "nope"), ""), http.StatusNotFound)

	// Playback URLs in listings play as they are, unless the source is public.
	var s api.SourceReply
	decode(t, "get source", as(viewer, http.MethodGet, api.Expand(api.PathSource, "cam"), ""), &s)
	if err := n.auth.VerifyGrant(grantOf(t, s.Source.PlaybackURL), grant.SourceScope(src.ID)); err != nil {
		t.Errorf("the listed playback URL %q does not verify: %v", s.Source.PlaybackURL, err)
	}
	op := n.tokens[api.RoleOperator]
	decode(t, "make public", as(op, http.MethodPatch, api.Expand(api.PathSource, "cam"), `{"public":true}`), &s)
	if !s.Source.Public || s.Source.PlaybackURL != publicURL+api.LivePlaylistPath("cam") || !n.auth.IsPublic(src.ID) {
		t.Errorf("public source %+v (authority says public: %v)", s.Source, n.auth.IsPublic(src.ID))
	}
	decode(t, "make private", as(op, http.MethodPatch, api.Expand(api.PathSource, "cam"), `{"public":false}`), &s)
	if n.auth.IsPublic(src.ID) || !strings.Contains(s.Source.PlaybackURL, api.GrantParam+"=") {
		t.Errorf("private again: %+v (authority says public: %v)", s.Source, n.auth.IsPublic(src.ID))
	}
	var r api.RecordingReply
	decode(t, "get recording", as(viewer, http.MethodGet, api.Expand(api.PathRecording, rec.ID), ""), &r)
	if err := n.auth.VerifyGrant(grantOf(t, r.Recording.PlaybackURL), grant.RecordingScope(rec.ID)); err != nil {
		t.Errorf("the recording's playback URL does not verify: %v", err)
	}

	// Revoking the viewer revokes what it minted.
	if _, err := n.auth.RevokeToken(t.Context(), n.admin, viewer.p.Name); err != nil {
		t.Fatal(err)
	}
	if err := n.auth.VerifyGrant(grantOf(t, r.Recording.PlaybackURL), grant.RecordingScope(rec.ID)); !errors.Is(err, auth.ErrBadGrant) {
		t.Errorf("a revoked token's grant: %v", err)
	}
}

func TestTokenRoutes(t *testing.T) {
	n := startAuth(t, authOpts{})
	op, adm := n.tokens[api.RoleOperator], n.tokens[api.RoleAdmin]
	as := func(tok roleToken, method, path, body string) *httptest.ResponseRecorder {
		return n.do(t, req{method: method, path: path, body: body, authz: bearer(tok.secret)})
	}
	var nt api.NewTokenReply
	decode(t, "create", as(op, http.MethodPost, api.PathTokens, `{"name":"ci","role":"operator","ttl_seconds":600}`), &nt)
	if nt.Token.Name != "ci" || nt.Token.Role != api.RoleOperator || nt.Token.CreatedBy != "the-operator" || nt.Secret == "" {
		t.Errorf("created %+v", nt)
	}
	if p, err := n.auth.Authenticate(nt.Secret); err != nil || p.Name != "ci" {
		t.Errorf("the new secret: %+v, %v", p, err)
	}
	if ev := n.takeEvents(); len(ev) != 1 || ev[0].Kind != broker.EventTokenCreated || ev[0].Event.Actor != "the-operator" {
		t.Errorf("events %+v", ev)
	}

	// The operator may not make or revoke admin tokens; it says so.
	env := failure(t, "operator makes admin", as(op, http.MethodPost, api.PathTokens, `{"name":"boss","role":"admin"}`), http.StatusForbidden)
	if env.Error != nil && !strings.Contains(env.Error.Message, "admin") {
		t.Errorf("message %q", env.Error.Message)
	}
	failure(t, "operator revokes admin", as(op, http.MethodDelete, api.Expand(api.PathToken, "the-admin"), ""), http.StatusForbidden)
	if ev := n.takeEvents(); len(ev) != 0 {
		t.Errorf("refused calls emitted %v", ev)
	}
	if _, err := n.auth.Authenticate(adm.secret); err != nil {
		t.Errorf("the admin token after a refused revocation: %v", err)
	}

	for _, body := range []string{
		`{"name":"x","role":"root"}`, `{"name":"a b","role":"viewer"}`, `{"name":"x","role":"viewer","ttl_seconds":-1}`,
		`{"name":"x","role":"viewer","ttl_seconds":10000000000}`, `{"name":`,
	} {
		failure(t, body, as(adm, http.MethodPost, api.PathTokens, body), http.StatusBadRequest)
	}
	failure(t, "duplicate", as(adm, http.MethodPost, api.PathTokens, `{"name":"ci","role":"viewer"}`), http.StatusConflict)
	failure(t, "unknown", as(adm, http.MethodDelete, api.Expand(api.PathToken, "nope"), ""), http.StatusNotFound)
	if ev := n.takeEvents(); len(ev) != 0 {
		t.Errorf("failed calls emitted %v", ev)
	}

	var tr api.TokenReply
	decode(t, "revoke", as(op, http.MethodDelete, api.Expand(api.PathToken, "ci"), ""), &tr)
	if tr.Token.Name != "ci" || tr.Token.RevokedAt.IsZero() {
		t.Errorf("revoked %+v", tr.Token)
	}
	failure(t, "the revoked token", n.do(t, req{method: http.MethodGet, path: api.PathWhoami, authz: bearer(nt.Secret)}), http.StatusUnauthorized)
	failure(t, "revoked twice", as(op, http.MethodDelete, api.Expand(api.PathToken, "ci"), ""), http.StatusConflict)

	var list api.TokensReply
	decode(t, "list", as(op, http.MethodGet, api.PathTokens, ""), &list)
	var names []string
	for _, tk := range list.Tokens {
		names = append(names, tk.Name)
	}
	if want := []string{"admin", "ci", "the-admin", "the-operator", "the-viewer"}; !slices.Equal(names, want) {
		t.Errorf("listed %v, want %v", names, want)
	}
	if rec := as(op, http.MethodGet, api.PathTokens, ""); secretRE.MatchString(rec.Body.String()) {
		t.Errorf("the listing shows a secret:\n%s", rec.Body)
	}
	n.checkNoSecrets(t)
}

// TestEdgeAddCommand: the line that starts an added edge is lmx edged
// --join with its token; with an external broker it says where the edge's
// password at that broker goes, and the token's MQTT URL is the broker's.
func TestEdgeAddCommand(t *testing.T) {
	for _, tc := range []struct{ broker, mqtt, prefix string }{
		{"", "mqtt://control.example:1883", "lmx edged --join "},
		{"mqtt://broker.example:1883", "mqtt://broker.example:1883", "LMX_MQTT_PASSWORD=MQTT-PASSWORD lmx edged --join "},
	} {
		n := startAuth(t, authOpts{broker: tc.broker})
		var ej api.EdgeJoinReply
		decode(t, "add", n.do(t, req{method: http.MethodPost, path: api.PathEdges, body: `{"name":"pi"}`, authz: bearer(n.tokens[api.RoleAdmin].secret)}), &ej)
		j, err := secret.ParseJoin(ej.JoinToken)
		if err != nil {
			t.Fatalf("join token: %v", err)
		}
		if want := tc.prefix + ej.JoinToken + " --allow-dir /path/to/segments"; ej.Command != want || j.MQTT != tc.mqtt {
			t.Errorf("--broker %q: command %q, MQTT %q; want %q, %q", tc.broker, ej.Command, j.MQTT, want, tc.mqtt)
		}
	}
}

func TestEdgeRoutes(t *testing.T) {
	n := startAuth(t, authOpts{})
	adm := n.tokens[api.RoleAdmin]
	as := func(method, path, body string) *httptest.ResponseRecorder {
		return n.do(t, req{method: method, path: path, body: body, authz: bearer(adm.secret)})
	}
	var revoked []string
	n.auth.OnEdgeRevoked(func(edge string) { revoked = append(revoked, edge) })

	var ej api.EdgeJoinReply
	decode(t, "add", as(http.MethodPost, api.PathEdges, `{"name":"pi","ttl_seconds":600}`), &ej)
	j, err := secret.ParseJoin(ej.JoinToken)
	if err != nil {
		t.Fatalf("join token: %v", err)
	}
	if j.Edge != "pi" || j.MQTT != "mqtt://control.example:1883" || j.Ingest != "http://control.example:8081" ||
		ej.Edge.Credential != api.CredentialPending || !strings.Contains(ej.Command, ej.JoinToken) {
		t.Errorf("join reply %+v, token %+v", ej, j)
	}
	if d := time.Until(ej.ExpiresAt); d <= 9*time.Minute || d > 10*time.Minute {
		t.Errorf("join token expires in %v, want 10 min", d)
	}
	var er api.EdgeReply
	decode(t, "get", as(http.MethodGet, api.Expand(api.PathEdge, "pi"), ""), &er)
	if er.Edge.Name != "pi" || er.Edge.Credential != api.CredentialPending {
		t.Errorf("pending edge %+v", er.Edge)
	}
	var el api.EdgesReply
	decode(t, "list", as(http.MethodGet, api.PathEdges, ""), &el)
	if len(el.Edges) != 1 || el.Edges[0].Name != "pi" || el.Edges[0].Credential != api.CredentialPending {
		t.Errorf("edges listed %+v: want the added one, pending", el.Edges)
	}
	failure(t, "no such edge", as(http.MethodGet, api.Expand(api.PathEdge, "nope"), ""), http.StatusNotFound)

	edge, cred, err := n.auth.Join(t.Context(), j.Secret.String())
	if err != nil || edge != "pi" {
		t.Fatalf("Join = %q, %v", edge, err)
	}
	n.addNeedles("pi's credential", cred)
	decode(t, "revoke", as(http.MethodPost, api.Expand(api.PathEdgeRevoke, "pi"), ""), &er)
	if er.Edge.Credential != api.CredentialRevoked {
		t.Errorf("after revoke: %+v", er.Edge)
	}
	if _, err := n.auth.AuthenticateEdge(cred); err == nil {
		t.Error("the revoked edge authenticates")
	}
	decode(t, "restore", as(http.MethodPost, api.Expand(api.PathEdgeRestore, "pi"), ""), &er)
	if er.Edge.Credential != api.CredentialJoined {
		t.Errorf("after restore: %+v", er.Edge)
	}
	if _, err := n.auth.AuthenticateEdge(cred); err != nil {
		t.Errorf("the restored edge: %v", err)
	}
	failure(t, "restore again", as(http.MethodPost, api.Expand(api.PathEdgeRestore, "pi"), ""), http.StatusConflict)
	failure(t, "revoke unknown", as(http.MethodPost, api.Expand(api.PathEdgeRevoke, "nope"), ""), http.StatusNotFound)
	for _, body := range []string{`{"name":"a b"}`, `{"name":"e","ttl_seconds":-1}`, `{"name":"e","ttl_seconds":9999999}`, `{"name":`} {
		failure(t, "add "+body, as(http.MethodPost, api.PathEdges, body), http.StatusBadRequest)
	}
	if len(revoked) != 1 {
		t.Errorf("revocation hook called for %v, want [pi]", revoked)
	}
	revoked = nil

	// A join token that cannot be made (a host that is not one) is refused
	// before anything changes: the joined edge keeps its credential.
	n.takeEvents()
	for _, body := range []string{`{"name":"pi","host":"not a host"}`, `{"name":"pi","host":"` + strings.Repeat("h", 5000) + `"}`} {
		failure(t, "add with a bad host", as(http.MethodPost, api.PathEdges, body), http.StatusBadRequest)
	}
	if got, err := n.auth.AuthenticateEdge(cred); err != nil || got != "pi" {
		t.Errorf("after a refused re-add, the edge's credential: %q, %v", got, err)
	}
	if got := n.auth.EdgeCredential("pi"); got != api.CredentialJoined {
		t.Errorf("after a refused re-add, the edge is %q, want joined", got)
	}
	if len(revoked) != 0 {
		t.Errorf("a refused re-add cut the edge off (hook called for %v)", revoked)
	}
	if ev := n.takeEvents(); len(ev) != 0 {
		t.Errorf("a refused re-add emitted %v", ev)
	}

	// Re-adding it for real replaces the credential and cuts it off.
	decode(t, "re-add", as(http.MethodPost, api.PathEdges, `{"name":"pi","host":"10.0.0.1"}`), &ej)
	if j, err := secret.ParseJoin(ej.JoinToken); err != nil || j.MQTT != "mqtt://10.0.0.1:1883" {
		t.Errorf("join token %+v, %v: want the host asked for", j, err)
	}
	if _, err := n.auth.AuthenticateEdge(cred); err == nil {
		t.Error("the replaced credential still works")
	}
	if len(revoked) != 1 || revoked[0] != "pi" {
		t.Errorf("re-adding called the hook for %v, want [pi]", revoked)
	}
	n.checkNoSecrets(t)
}

// TestThrottle checks the 429 after a burst of bad tokens: per client
// address, that address being X-Forwarded-For's only behind a trusted proxy.
func TestThrottle(t *testing.T) {
	const burst = 4
	n := startAuth(t, authOpts{
		limiter: &auth.LimiterConfig{Burst: burst, Refill: time.Hour},
		trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
	})
	close(n.ready)
	good := bearer(n.tokens[api.RoleViewer].secret)
	const proxy = "127.0.0.1:40000"
	whoami := func(authz, remote, xff string) *httptest.ResponseRecorder {
		return n.do(t, req{method: http.MethodGet, path: api.PathWhoami, authz: authz, remote: remote, xff: xff})
	}

	// No credential at all is not a guess: it does not count.
	for range 2 * burst {
		failure(t, "no token", whoami("", proxy, "203.0.113.9"), http.StatusUnauthorized)
	}
	if rec := whoami(good, proxy, "203.0.113.9"); rec.Code != http.StatusOK {
		t.Errorf("after requests without a token: %d, want 200", rec.Code)
	}

	// A burst of bad tokens from 203.0.113.7, through the proxy.
	for i := range burst {
		authz := bearer("garbage")
		if i%2 == 1 {
			authz = "Basic x" // a malformed header counts too
		}
		if rec := whoami(authz, proxy, "203.0.113.7"); rec.Code != http.StatusUnauthorized && rec.Code != http.StatusBadRequest {
			t.Fatalf("bad token #%d: %d", i+1, rec.Code)
		}
	}
	rec := whoami(good, proxy, "203.0.113.7")
	failure(t, "good token after the burst", rec, http.StatusTooManyRequests)
	secs, err := strconv.Atoi(rec.Header().Get("Retry-After"))
	if err != nil || secs < 1 || secs > 3600 {
		t.Errorf("Retry-After %q, want whole seconds up to an hour", rec.Header().Get("Retry-After"))
	}
	failure(t, "and on another route", n.do(t, req{method: http.MethodGet, path: api.PathSources, authz: good, remote: proxy, xff: "203.0.113.7"}), http.StatusTooManyRequests)
	// Health and readiness are not throttled.
	for _, path := range []string{api.PathHealth, api.PathReady} {
		if rec := n.do(t, req{method: http.MethodGet, path: path, remote: proxy, xff: "203.0.113.7"}); rec.Code != http.StatusOK {
			t.Errorf("GET %s from a blocked address: %d, want 200", path, rec.Code)
		}
	}

	// Another client behind the same proxy, the proxy itself, and a peer
	// that is not a proxy claiming to be for the blocked one: unaffected.
	for _, c := range [][2]string{{proxy, "203.0.113.8"}, {proxy, ""}, {"198.51.100.9:5000", "203.0.113.7"}} {
		if rec := whoami(good, c[0], c[1]); rec.Code != http.StatusOK {
			t.Errorf("from %s (X-Forwarded-For %q): %d, want 200", c[0], c[1], rec.Code)
		}
	}
	// A client the proxy forwards for, with its own made-up hop in front:
	// the rightmost untrusted hop is the client, still blocked.
	failure(t, "spoofed hop in front", whoami(good, proxy, "192.0.2.200, 203.0.113.7"), http.StatusTooManyRequests)

	// An untrusted peer cannot dodge the limiter by changing X-Forwarded-For.
	const peer = "198.51.100.10:6000"
	for i := range burst {
		failure(t, "bad token", whoami(bearer("garbage"), peer, "10.0.0."+strconv.Itoa(i+1)), http.StatusUnauthorized)
	}
	failure(t, "untrusted peer after its burst", whoami(good, peer, "10.0.0.99"), http.StatusTooManyRequests)

	if got := testutil.ToFloat64(n.failures.WithLabelValues("api", "token")); got != float64(burst/2+burst) {
		t.Errorf("token failures counted %v, want %d", got, burst/2+burst)
	}
	if got := testutil.ToFloat64(n.failures.WithLabelValues("api", "malformed")); got != float64(burst/2) {
		t.Errorf("malformed headers counted %v, want %d", got, burst/2)
	}
	if got := testutil.ToFloat64(n.throttled.WithLabelValues("api")); got != 4 {
		t.Errorf("throttled counted %v, want 4", got)
	}
}

// sseFrame reads the next server-sent event's name, skipping comments.
func sseFrame(r *bufio.Reader) (string, error) {
	name := ""
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return name, err
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "" && name != "":
			return name, nil
		case strings.HasPrefix(line, "event: "):
			name = strings.TrimPrefix(line, "event: ")
		}
	}
}

// follow opens GET /v1/events with tok and returns the stream once its
// hello frame came.
func follow(t *testing.T, base, tok string) *bufio.Reader {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	hr, err := http.NewRequestWithContext(ctx, http.MethodGet, base+api.PathEvents, nil)
	if err != nil {
		t.Fatal(err)
	}
	hr.Header.Set("Authorization", bearer(tok))
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %d\n%s", api.PathEvents, resp.StatusCode, b)
	}
	r := bufio.NewReader(resp.Body)
	if name, err := sseFrame(r); err != nil || name != "hello" {
		t.Fatalf("first frame %q, %v; want hello", name, err)
	}
	return r
}

// TestRevokeEndsStream checks that revoking a token ends the event
// streams it opened, at once, and no other.
func TestRevokeEndsStream(t *testing.T) {
	hub := events.NewHub("v-test")
	n := startAuth(t, authOpts{stream: hub})
	n.auth.OnTokenRevoked(hub.CloseOwner)
	srv := httptest.NewServer(n.h)
	t.Cleanup(srv.Close)
	t.Cleanup(hub.Close) // before srv.Close: end the streams still open

	_, victimSec := n.newToken(t, "victim", api.RoleViewer)
	a1 := follow(t, srv.URL, victimSec)
	a2 := follow(t, srv.URL, victimSec)
	b := follow(t, srv.URL, n.tokens[api.RoleViewer].secret)

	hub.Publish("first", []byte(`{}`))
	for i, r := range []*bufio.Reader{a1, a2, b} {
		if name, err := sseFrame(r); err != nil || name != "first" {
			t.Fatalf("stream %d: %q, %v; want the first frame", i, name, err)
		}
	}

	rec := n.do(t, req{method: http.MethodDelete, path: api.Expand(api.PathToken, "victim"), authz: bearer(n.tokens[api.RoleOperator].secret)})
	if rec.Code != http.StatusOK {
		t.Fatalf("revoke: %d\n%s", rec.Code, rec.Body)
	}
	for i, r := range []*bufio.Reader{a1, a2} {
		withTimeout(t, 10*time.Second, "the revoked token's stream to end", func() {
			name, err := sseFrame(r)
			if !errors.Is(err, io.EOF) {
				t.Errorf("revoked stream %d: frame %q, %v; want the end of the stream", i, name, err)
			}
		})
	}
	hub.Publish("second", []byte(`{}`))
	withTimeout(t, 10*time.Second, "the other stream's frame", func() {
		if name, err := sseFrame(b); err != nil || name != "second" {
			t.Errorf("the other token's stream: %q, %v; want it still open", name, err)
		}
	})

	// The revoked token cannot open a new one.
	hr, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+api.PathEvents, nil)
	hr.Header.Set("Authorization", bearer(victimSec))
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a revoked token opens a stream: %d", resp.StatusCode)
	}
}

// TestThrottleSparesRevokedTokens: a revoked token presented again and
// again (a script or a dashboard left running) is refused every time, but
// is no guess: its address is not blocked, so a good token from the same
// machine still works.
func TestThrottleSparesRevokedTokens(t *testing.T) {
	const burst = 4
	n := startAuth(t, authOpts{limiter: &auth.LimiterConfig{Burst: burst, Refill: time.Hour}})
	close(n.ready)
	_, gone := n.newToken(t, "gone", api.RoleViewer)
	if _, err := n.auth.RevokeToken(t.Context(), n.admin, "gone"); err != nil {
		t.Fatal(err)
	}
	const from = "192.0.2.50:4000"
	for range 5 * burst {
		failure(t, "the revoked token", n.do(t, req{method: http.MethodGet, path: api.PathSources, authz: bearer(gone), remote: from}), http.StatusUnauthorized)
	}
	if rec := n.do(t, req{method: http.MethodGet, path: api.PathSources, authz: bearer(n.tokens[api.RoleViewer].secret), remote: from}); rec.Code != http.StatusOK {
		t.Errorf("a good token from the address that kept presenting a revoked one: %d, want 200", rec.Code)
	}
	if got := testutil.ToFloat64(n.failures.WithLabelValues("api", auth.ReasonStale)); got != 5*burst {
		t.Errorf("revoked-token refusals counted %v, want %d", got, 5*burst)
	}
	if got := testutil.ToFloat64(n.throttled.WithLabelValues("api")); got != 0 {
		t.Errorf("throttled %v, want 0", got)
	}
}
