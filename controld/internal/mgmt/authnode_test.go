package mgmt_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/controld/internal/auth"
	"github.com/lmx-video/lmx/controld/internal/eventstest"
	"github.com/lmx-video/lmx/controld/internal/live"
	"github.com/lmx-video/lmx/controld/internal/mgmt"
	"github.com/lmx-video/lmx/internal/secret"
	"github.com/lmx-video/lmx/internal/syncbuf"
	"github.com/lmx-video/lmx/sqlstore"
)

// roles are the roles, least allowed first.
var roles = []string{api.RoleViewer, api.RoleOperator, api.RoleAdmin}

// ownerStream is an EventStream that answers at once and records whose
// token opened it.
type ownerStream struct {
	mu     sync.Mutex
	owners []string
}

func (o *ownerStream) ServeFor(w http.ResponseWriter, _ *http.Request, owner string, _ time.Time, _ func() bool) {
	o.mu.Lock()
	o.owners = append(o.owners, owner)
	o.mu.Unlock()
	io.WriteString(w, "the stream")
}

func (o *ownerStream) take() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := o.owners
	o.owners = nil
	return out
}

// roleToken is a token of one role: who it is and its secret.
type roleToken struct {
	p      auth.Principal
	secret string
}

// authOpts tune startAuth.
type authOpts struct {
	// limiter is the Limiter's config; the default never blocks.
	limiter *auth.LimiterConfig
	// trusted are the proxies whose X-Forwarded-For is believed.
	trusted []netip.Prefix
	// stream serves GET /v1/events; default an ownerStream.
	stream mgmt.EventStream
	// broker is the node's --broker, "" for the embedded one.
	broker string
}

// authNode is a management API with access control on, on a real store and
// a real Authority, with one token per role.
type authNode struct {
	h         http.Handler
	api       *mgmt.API
	auth      *auth.Authority
	store     *sqlstore.Store
	events    *eventstest.Recorder
	live      *live.Registry
	stream    *ownerStream // nil when opts.stream was given
	logs      *syncbuf.Buffer
	failures  *prometheus.CounterVec
	throttled *prometheus.CounterVec
	ready     chan struct{}

	admin  auth.Principal // the first admin token, for fixtures
	tokens map[string]roleToken

	mu      sync.Mutex
	seq     int
	needles map[string]string // secret text that must never be logged → what it is
	emitted []eventstest.Emitted
}

func startAuth(t *testing.T, opts authOpts) *authNode {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	logs := &syncbuf.Buffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	store, err := sqlstore.Open(ctx, filepath.Join(dir, "lmx.db"), logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	a, err := auth.New(ctx, auth.Config{DataDir: dir}, store, logger.With("component", "auth"))
	if err != nil {
		t.Fatal(err)
	}
	n := &authNode{
		auth: a, store: store, events: &eventstest.Recorder{}, logs: logs, ready: make(chan struct{}),
		live:      live.New(live.Config{Segments: 3, MemoryLimit: 16 << 20}, live.Gauges{}, logger),
		failures:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: "failures"}, []string{"listener", "reason"}),
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "throttled"}, []string{"listener"}),
		tokens:    map[string]roleToken{}, needles: map[string]string{},
	}
	path, created, err := a.EnsureAdmin(ctx)
	if err != nil || !created {
		t.Fatalf("EnsureAdmin: %v, %v", created, err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	adminSecret := strings.TrimSpace(string(b))
	n.addNeedles("the admin token", adminSecret)
	if n.admin, err = a.Authenticate(adminSecret); err != nil {
		t.Fatal(err)
	}
	for _, role := range roles {
		p, sec := n.newToken(t, "the-"+role, role)
		n.tokens[role] = roleToken{p, sec}
	}

	lc := auth.LimiterConfig{Burst: 1 << 20}
	if opts.limiter != nil {
		lc = *opts.limiter
	}
	gate := auth.NewGate("api", auth.NewLimiter(lc), auth.NewClientIP(opts.trusted), n.failures, n.throttled)
	stream := opts.stream
	if stream == nil {
		n.stream = &ownerStream{}
		stream = n.stream
	}
	n.api = mgmt.New(mgmt.Config{
		PublicURL: publicURL,
		Join:      mgmt.JoinInfo{Hostnames: []string{"control.example"}, MQTTPort: 1883, IngestPort: 8081, MQTTURL: opts.broker},
	}, mgmt.Deps{
		Store: store, Edges: &fakeEdges{}, Live: n.live, Objects: &fakeObjects{}, Events: n.events,
		Access: a, Gate: gate, Stream: stream,
		Metrics: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "the metrics") }),
		Ready:   n.ready,
	}, logger.With("component", "api"))
	n.h = n.api.Handler()
	return n
}

// newToken makes a token through the Authority (no event) and returns it.
func (n *authNode) newToken(t *testing.T, name, role string) (auth.Principal, string) {
	t.Helper()
	_, sec, err := n.auth.CreateToken(t.Context(), n.admin, api.NewToken{Name: name, Role: role})
	if err != nil {
		t.Fatal(err)
	}
	n.addNeedles("token "+name, sec)
	p, err := n.auth.Authenticate(sec)
	if err != nil {
		t.Fatal(err)
	}
	return p, sec
}

// tag is a fresh suffix for fixture names.
func (n *authNode) tag() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.seq++
	return strconv.Itoa(n.seq)
}

var (
	secretRE = regexp.MustCompile(`lmx[tej]\.[0-9a-f]{16}\.[A-Za-z0-9_-]{43}`)
	joinRE   = regexp.MustCompile(regexp.QuoteMeta(secret.JoinPrefix) + `[A-Za-z0-9_-]+`)
	grantRE  = regexp.MustCompile(api.GrantParam + `=([0-9a-z.-]+\.[A-Za-z0-9_-]{43})`)
)

// addNeedles remembers the secrets in text (API tokens, edge credentials,
// join secrets, join tokens, grants): none may ever be logged or be in an
// event. What is looked for is the part that is secret: a secret's key, a
// grant's signature, a join token's payload and the key inside it.
func (n *authNode) addNeedles(what, text string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, s := range secretRE.FindAllString(text, -1) {
		if sec, err := secret.Parse(s); err == nil {
			n.needles[sec.Key] = what + ": a secret's key"
		}
	}
	for _, s := range joinRE.FindAllString(text, -1) {
		n.needles[strings.TrimPrefix(s, secret.JoinPrefix)] = what + ": a join token"
		if j, err := secret.ParseJoin(s); err == nil {
			n.needles[j.Secret.Key] = what + ": the key in a join token"
		}
	}
	for _, m := range grantRE.FindAllStringSubmatch(text, -1) {
		g := m[1]
		n.needles[g[strings.LastIndexByte(g, '.')+1:]] = what + ": a grant's signature"
	}
}

// checkNoSecrets fails t if any secret seen is in the logs or an event.
func (n *authNode) checkNoSecrets(t *testing.T) {
	t.Helper()
	n.mu.Lock()
	emitted := append(n.emitted, n.events.Events()...)
	needles := n.needles
	n.mu.Unlock()
	evs, err := json.Marshal(emitted)
	if err != nil {
		t.Fatal(err)
	}
	logs := n.logs.String()
	if len(needles) < 3 || logs == "" || len(emitted) == 0 {
		t.Fatalf("%d secrets, %d bytes of logs and %d events seen: too few to check", len(needles), len(logs), len(emitted))
	}
	for needle, what := range needles {
		if strings.Contains(logs, needle) {
			t.Errorf("the logs show %s", what)
		}
		if bytes.Contains(evs, []byte(needle)) {
			t.Errorf("an event shows %s", what)
		}
	}
}

// takeEvents returns the events emitted since the last call (and keeps
// them for checkNoSecrets).
func (n *authNode) takeEvents() []eventstest.Emitted {
	evs := n.events.Take()
	n.mu.Lock()
	n.emitted = append(n.emitted, evs...)
	n.mu.Unlock()
	return evs
}

// req is one request to the API.
type req struct {
	method, path, body string
	// authz is the Authorization header ("" for none).
	authz string
	// remote is the peer's address (default httptest's 192.0.2.1:1234).
	remote string
	// xff is an X-Forwarded-For header ("" for none).
	xff string
}

// bearer is an Authorization header presenting tok.
func bearer(tok string) string { return "Bearer " + tok }

// do serves r and remembers any secret in the answer.
func (n *authNode) do(t *testing.T, r req) *httptest.ResponseRecorder {
	t.Helper()
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	hr := httptest.NewRequestWithContext(t.Context(), r.method, r.path, body)
	if r.authz != "" {
		hr.Header.Set("Authorization", r.authz)
	}
	if r.remote != "" {
		hr.RemoteAddr = r.remote
	}
	if r.xff != "" {
		hr.Header.Set("X-Forwarded-For", r.xff)
	}
	rec := httptest.NewRecorder()
	n.h.ServeHTTP(rec, hr)
	n.addNeedles(r.method+" "+r.path, rec.Body.String())
	return rec
}

// failure checks that rec is a failure envelope with code and returns it.
func failure(t *testing.T, what string, rec *httptest.ResponseRecorder, code int) api.Envelope {
	t.Helper()
	if rec.Code != code {
		t.Errorf("%s: %d, want %d\n%s", what, rec.Code, code, rec.Body)
		return api.Envelope{}
	}
	var env api.Envelope
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
		t.Errorf("%s: not an envelope: %v\n%s", what, err, rec.Body)
		return env
	}
	if env.Success || env.Error == nil || env.Error.Code != code || env.Error.Message == "" || env.RequestID == "" {
		t.Errorf("%s: envelope %+v, want a failure with code %d and a message", what, env, code)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: Content-Type %q", what, ct)
	}
	return env
}

// decode checks that rec is a 200 envelope and decodes it into out.
func decode(t *testing.T, what string, rec *httptest.ResponseRecorder, out any) {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Fatalf("%s: %d, want 200\n%s", what, rec.Code, rec.Body)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
		t.Fatalf("%s: %v\n%s", what, err, rec.Body)
	}
}

// source makes a source through the store (no event).
func (n *authNode) source(t *testing.T, name string) sqlstore.Source {
	t.Helper()
	src, err := n.store.CreateSource(t.Context(), sqlstore.Source{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// recording starts a recording of a new source through the store.
func (n *authNode) recording(t *testing.T, tag string, stopped bool) sqlstore.Recording {
	t.Helper()
	src := n.source(t, "rec-src-"+tag)
	rec, err := n.store.CreateRecording(t.Context(), sqlstore.Recording{SourceID: src.ID, StartAt: time.Now().Add(-time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if stopped {
		if rec, err = n.store.StopRecording(t.Context(), rec.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	return rec
}

// edge adds an edge through the Authority and, if joined, joins it; it
// returns the edge's credential ("" unless joined).
func (n *authNode) edge(t *testing.T, name string, joined bool) string {
	t.Helper()
	js, _, err := n.auth.AddEdge(t.Context(), n.admin, name, 0)
	if err != nil {
		t.Fatal(err)
	}
	n.addNeedles("join secret of "+name, js.String())
	if !joined {
		return ""
	}
	edge, cred, err := n.auth.Join(t.Context(), js.String())
	if err != nil || edge != name {
		t.Fatalf("Join = %q, %v", edge, err)
	}
	n.addNeedles("credential of "+name, cred)
	return cred
}
