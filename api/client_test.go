package api

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

const testToken = "lmx_s3cr3t-T0ken"

// request is what the test server saw of one request.
type request struct {
	method, path, auth, contentType string
	body                            map[string]any
}

// recorder is a control node that records each request and answers with
// the reply registered for its method and path.
type recorder struct {
	mu      sync.Mutex
	seen    []request
	replies map[string]any
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	rq := request{method: req.Method, path: req.URL.EscapedPath(), auth: req.Header.Get("Authorization"), contentType: req.Header.Get("Content-Type")}
	if len(b) > 0 {
		if err := json.Unmarshal(b, &rq.body); err != nil {
			rq.body = map[string]any{"not json": string(b)}
		}
	}
	r.mu.Lock()
	r.seen = append(r.seen, rq)
	reply, ok := r.replies[req.Method+" "+req.URL.EscapedPath()]
	r.mu.Unlock()
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		json.NewEncoder(w).Encode(Envelope{Error: &Error{Code: 404, Message: "no route"}})
		return
	}
	json.NewEncoder(w).Encode(reply)
}

func (r *recorder) last(t *testing.T) request {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.seen) == 0 {
		t.Fatal("no request reached the server")
	}
	return r.seen[len(r.seen)-1]
}

var ok = Envelope{Success: true, RequestID: "r1"}

func TestAuthMethods(t *testing.T) {
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	tok := Token{Name: "ci", Role: RoleViewer, CreatedAt: at, CreatedBy: "admin"}
	edge := Edge{Name: "gw-1", Credential: CredentialPending, FirstSeen: at, LastSeen: at}
	src := Source{ID: "s1", Name: "camera 0", Public: true}
	grant := Grant{URL: "https://ctl:8081/v1/vod/live/camera-0/vid.m3u8?grant=abc", ExpiresAt: at.Add(2 * time.Hour)}
	rec := &recorder{replies: map[string]any{
		"GET /v1/whoami":                      WhoamiReply{Envelope: ok, Whoami: Whoami{Token: "ci", Role: RoleViewer, Auth: true}},
		"POST /v1/token":                      NewTokenReply{Envelope: ok, Token: tok, Secret: "the-secret"},
		"GET /v1/token":                       TokensReply{Envelope: ok, Tokens: []Token{tok}},
		"DELETE /v1/token/ci":                 TokenReply{Envelope: ok, Token: tok},
		"POST /v1/edge":                       EdgeJoinReply{Envelope: ok, Edge: edge, JoinToken: "join", ExpiresAt: at, Command: "lmx edged --join join"},
		"GET /v1/edge/gw-1":                   EdgeReply{Envelope: ok, Edge: edge},
		"POST /v1/edge/gw-1/revoke":           EdgeReply{Envelope: ok, Edge: edge},
		"POST /v1/edge/gw-1/restore":          EdgeReply{Envelope: ok, Edge: edge},
		"POST /v1/source/camera%200/grant":    GrantReply{Envelope: ok, Grant: grant},
		"POST /v1/recording/r-1/grant":        GrantReply{Envelope: ok, Grant: grant},
		"PATCH /v1/source/camera%200":         SourceReply{Envelope: ok, Source: src},
		"GET /v1/source":                      SourcesReply{Envelope: ok, Sources: []Source{src}},
		"PUT /v1/source/camera%200/streaming": SourceReply{Envelope: ok, Source: src},
	}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	c, err := NewClientWith(srv.URL, ClientOptions{Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	pub, desc := false, ""

	for _, tc := range []struct {
		name         string
		call         func() (any, error)
		method, path string
		body         map[string]any
		want         any
	}{
		{"Whoami", func() (any, error) { return c.Whoami(ctx) },
			"GET", "/v1/whoami", nil, Whoami{Token: "ci", Role: RoleViewer, Auth: true}},
		{"CreateToken", func() (any, error) {
			tk, secret, err := c.CreateToken(ctx, NewToken{Name: "ci", Role: RoleViewer, TTLSeconds: 3600})
			return []any{tk, secret}, err
		}, "POST", "/v1/token", map[string]any{"name": "ci", "role": "viewer", "ttl_seconds": 3600.0}, []any{tok, "the-secret"}},
		{"CreateTokenForever", func() (any, error) {
			_, secret, err := c.CreateToken(ctx, NewToken{Name: "ci", Role: RoleAdmin})
			return secret, err
		}, "POST", "/v1/token", map[string]any{"name": "ci", "role": "admin"}, "the-secret"},
		{"ListTokens", func() (any, error) { return c.ListTokens(ctx) },
			"GET", "/v1/token", nil, []Token{tok}},
		{"RevokeToken", func() (any, error) { return c.RevokeToken(ctx, "ci") },
			"DELETE", "/v1/token/ci", nil, tok},
		{"AddEdge", func() (any, error) {
			r, err := c.AddEdge(ctx, NewEdge{Name: "gw-1", TTLSeconds: 600, Host: "ctl.example"})
			return []any{r.Edge, r.JoinToken, r.Command, r.ExpiresAt}, err
		}, "POST", "/v1/edge", map[string]any{"name": "gw-1", "ttl_seconds": 600.0, "host": "ctl.example"},
			[]any{edge, "join", "lmx edged --join join", at}},
		{"GetEdge", func() (any, error) { return c.GetEdge(ctx, "gw-1") },
			"GET", "/v1/edge/gw-1", nil, edge},
		{"RevokeEdge", func() (any, error) { return c.RevokeEdge(ctx, "gw-1") },
			"POST", "/v1/edge/gw-1/revoke", nil, edge},
		{"RestoreEdge", func() (any, error) { return c.RestoreEdge(ctx, "gw-1") },
			"POST", "/v1/edge/gw-1/restore", nil, edge},
		{"SourceGrant", func() (any, error) { return c.SourceGrant(ctx, "camera 0", 90*time.Minute) },
			"POST", "/v1/source/camera%200/grant", map[string]any{"ttl_seconds": 5400.0}, grant},
		{"SourceGrantDefault", func() (any, error) { return c.SourceGrant(ctx, "camera 0", 0) },
			"POST", "/v1/source/camera%200/grant", map[string]any{}, grant},
		{"RecordingGrant", func() (any, error) { return c.RecordingGrant(ctx, "r-1", 1500*time.Millisecond) },
			"POST", "/v1/recording/r-1/grant", map[string]any{"ttl_seconds": 2.0}, grant},
		{"UpdateSource", func() (any, error) {
			return c.UpdateSource(ctx, "camera 0", SourceUpdate{Public: &pub, Description: &desc})
		}, "PATCH", "/v1/source/camera%200", map[string]any{"public": false, "description": ""}, src},
		// The older calls carry the token too.
		{"ListSources", func() (any, error) { return c.ListSources(ctx, "") },
			"GET", "/v1/source", nil, []Source{src}},
		{"SetStreaming", func() (any, error) { return c.SetStreaming(ctx, "camera 0", true) },
			"PUT", "/v1/source/camera%200/streaming", nil, src},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.call()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
			r := rec.last(t)
			if r.method != tc.method || r.path != tc.path {
				t.Errorf("request %s %s, want %s %s", r.method, r.path, tc.method, tc.path)
			}
			if r.auth != "Bearer "+testToken {
				t.Errorf("Authorization %q", r.auth)
			}
			if tc.body != nil && r.contentType != "application/json" {
				t.Errorf("Content-Type %q", r.contentType)
			}
			if tc.body == nil && r.body != nil || tc.body != nil && !reflect.DeepEqual(r.body, tc.body) && !(len(tc.body) == 0 && len(r.body) == 0) {
				t.Errorf("body %v, want %v", r.body, tc.body)
			}
		})
	}
}

func TestNoTokenNoHeader(t *testing.T) {
	rec := &recorder{replies: map[string]any{"GET /v1/source": SourcesReply{Envelope: ok}}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	for _, mk := range []func() (*Client, error){
		func() (*Client, error) { return NewClient(srv.URL, nil) },
		func() (*Client, error) { return NewClientWith(srv.URL, ClientOptions{}) },
	} {
		c, err := mk()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.ListSources(context.Background(), ""); err != nil {
			t.Fatal(err)
		}
		if r := rec.last(t); r.auth != "" {
			t.Errorf("Authorization %q with no token", r.auth)
		}
	}
}

func TestNegativeTTL(t *testing.T) {
	c, _ := NewClient("http://127.0.0.1:1", nil)
	if _, err := c.SourceGrant(context.Background(), "camera-0", -time.Second); err == nil {
		t.Error("a negative ttl went through")
	}
}

// answer is a server that always answers status with an error envelope
// (or body, when set) and the given headers.
func answer(status int, e *Error, body string, header map[string]string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		if body != "" {
			io.WriteString(w, body)
			return
		}
		json.NewEncoder(w).Encode(Envelope{Error: e})
	}))
}

func TestErrorMapping(t *testing.T) {
	date := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	for _, tc := range []struct {
		name   string
		status int
		err    *Error
		body   string
		header map[string]string
		is     error
		msg    string // a substring of the error
		retry  time.Duration
		role   string
	}{
		{"401", 401, &Error{Code: 401, Message: "token expired"}, "", nil,
			ErrUnauthorized, "token expired: pass --token or set LMX_TOKEN", 0, ""},
		{"401 bare", 401, nil, "", nil, ErrUnauthorized, "unauthorized: pass --token or set LMX_TOKEN", 0, ""},
		{"401 no body", 401, nil, " ", nil, ErrUnauthorized, "unauthorized: pass --token or set LMX_TOKEN", 0, ""},
		{"401 html", 401, nil, "<html>go away</html>", nil, ErrUnauthorized, "unexpected answer (401 Unauthorized): <html>go away</html>", 0, ""},
		{"403", 403, &Error{Code: 403, Message: "viewers may not start recordings", RequiredRole: RoleOperator}, "", nil,
			ErrForbidden, "viewers may not start recordings: it takes role operator", 0, RoleOperator},
		{"403 no role", 403, &Error{Code: 403, Message: "not for your role"}, "", nil, ErrForbidden, "not for your role", 0, ""},
		{"429 seconds", 429, &Error{Code: 429, Message: "too many failed tokens"}, "", map[string]string{"Retry-After": "30"},
			ErrRateLimited, "too many failed tokens; try again in 30s", 30 * time.Second, ""},
		{"429 date", 429, nil, "", map[string]string{"Retry-After": date}, ErrRateLimited, "too many requests; try again in 1m", 0, ""},
		{"429 none", 429, nil, "", nil, ErrRateLimited, "too many requests; try again later", 0, ""},
		{"404", 404, &Error{Code: 404, Message: "source not found"}, "", nil, ErrNotFound, "source not found", 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := answer(tc.status, tc.err, tc.body, tc.header)
			defer srv.Close()
			c, err := NewClientWith(srv.URL, ClientOptions{Token: testToken})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.ListSources(context.Background(), "")
			if !errors.Is(err, tc.is) {
				t.Fatalf("%v is not %v", err, tc.is)
			}
			for _, other := range []error{ErrNotFound, ErrUnauthorized, ErrForbidden, ErrRateLimited} {
				if other != tc.is && errors.Is(err, other) {
					t.Errorf("%v is also %v", err, other)
				}
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q lacks %q", err, tc.msg)
			}
			if strings.Contains(err.Error(), testToken) {
				t.Errorf("error %q shows the token", err)
			}
			var se *StatusError
			if !errors.As(err, &se) || se.Status != tc.status || se.RequiredRole != tc.role {
				t.Fatalf("%#v", err)
			}
			if tc.retry != 0 && se.RetryAfter != tc.retry {
				t.Errorf("RetryAfter %s, want %s", se.RetryAfter, tc.retry)
			}
			if tc.name == "429 date" && (se.RetryAfter < 80*time.Second || se.RetryAfter > 90*time.Second) {
				t.Errorf("RetryAfter %s from a date 90s ahead", se.RetryAfter)
			}
		})
	}
}

func TestTokenNeverInErrors(t *testing.T) {
	// Nothing answers: the error names the server, never the token.
	c, err := NewClientWith("http://127.0.0.1:1", ClientOptions{Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ListSources(context.Background(), "")
	if !errors.Is(err, ErrUnreachable) || strings.Contains(err.Error(), testToken) {
		t.Errorf("%v", err)
	}
	err = c.FollowEvents(context.Background(), func(StreamEvent) {})
	if !errors.Is(err, ErrUnreachable) || strings.Contains(err.Error(), testToken) {
		t.Errorf("%v", err)
	}

	// A token that cannot be a header value is refused without showing it.
	for _, bad := range []string{testToken + "\n", "two words", "tab\there", "é" + testToken} {
		_, err := NewClientWith("http://127.0.0.1:1", ClientOptions{Token: bad})
		if err == nil || strings.Contains(err.Error(), bad) || strings.Contains(err.Error(), testToken) {
			t.Errorf("token %q: %v", bad, err)
		}
	}
}

// writeCA writes srv's certificate as a PEM file.
func writeCA(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "ca.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// otherCA writes a CA certificate of its own as a PEM file.
func otherCA(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "other CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "other.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

func TestCAFile(t *testing.T) {
	rec := &recorder{replies: map[string]any{"GET /v1/source": SourcesReply{Envelope: ok}}}
	srv := httptest.NewUnstartedServer(rec)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshakes refused below
	srv.StartTLS()
	defer srv.Close()
	ctx := context.Background()

	c, err := NewClientWith(srv.URL, ClientOptions{Token: testToken, CAFile: writeCA(t, srv)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListSources(ctx, ""); err != nil {
		t.Fatalf("with its CA: %v", err)
	}
	if r := rec.last(t); r.auth != "Bearer "+testToken {
		t.Errorf("Authorization %q", r.auth)
	}

	// Without it the certificate is unknown, and the error says what to do.
	c, _ = NewClientWith(srv.URL, ClientOptions{Token: testToken})
	_, err = c.ListSources(ctx, "")
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "pass --ca-file or set LMX_CA_FILE") {
		t.Errorf("without its CA: %v", err)
	}

	// A CA that did not sign it is no better, and the error names the CA
	// file given rather than ask for one.
	other := otherCA(t)
	c, _ = NewClientWith(srv.URL, ClientOptions{CAFile: other})
	_, err = c.ListSources(ctx, "")
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "not signed by the CA in "+other) ||
		strings.Contains(err.Error(), "pass --ca-file") {
		t.Errorf("with another CA: %v", err)
	}
}

func TestBadCAFile(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.pem")
	os.WriteFile(notPEM, []byte("hello"), 0o600)
	for file, want := range map[string]string{
		filepath.Join(dir, "missing.pem"): "CA file: open " + filepath.Join(dir, "missing.pem") + ": no such file or directory",
		notPEM:                            "CA file " + notPEM + " holds no PEM certificate",
	} {
		_, err := NewClientWith("https://ctl:8080", ClientOptions{Token: testToken, CAFile: file})
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), testToken) {
			t.Errorf("%s: %v, want %q", file, err, want)
		}
	}
}

func TestFollowEventsSendsToken(t *testing.T) {
	auth := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth <- r.Header.Get("Authorization")
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "event: source.streaming\ndata: {\"kind\":\"source.streaming\",\"source\":\"camera-0\",\"actor\":\"ci-bot\"}\n\n")
	}))
	defer srv.Close()
	c, _ := NewClientWith(srv.URL, ClientOptions{Token: testToken})
	var got []StreamEvent
	err := c.FollowEvents(context.Background(), func(ev StreamEvent) { got = append(got, ev) })
	if err == nil || !strings.Contains(err.Error(), "ended") {
		t.Errorf("err %v", err)
	}
	if a := <-auth; a != "Bearer "+testToken {
		t.Errorf("Authorization %q", a)
	}
	if len(got) != 1 {
		t.Fatalf("events %+v", got)
	}
	var p EventPayload
	if err := json.Unmarshal(got[0].Data, &p); err != nil || p.Actor != "ci-bot" || p.Source != "camera-0" {
		t.Errorf("payload %+v (%v)", p, err)
	}
}

func TestFollowEventsUnauthorized(t *testing.T) {
	srv := answer(401, &Error{Code: 401, Message: "token revoked"}, "", nil)
	defer srv.Close()
	c, _ := NewClientWith(srv.URL, ClientOptions{Token: testToken})
	err := c.FollowEvents(context.Background(), func(StreamEvent) {})
	if !errors.Is(err, ErrUnauthorized) || err.Error() != "event stream: token revoked: pass --token or set LMX_TOKEN" {
		t.Errorf("%v", err)
	}
}

func TestTTLSeconds(t *testing.T) {
	for d, want := range map[time.Duration]int64{0: 0, time.Millisecond: 1, time.Second: 1, 1500 * time.Millisecond: 2, 30 * 24 * time.Hour: 2_592_000} {
		if got, err := TTLSeconds(d); err != nil || got != want {
			t.Errorf("TTLSeconds(%s) = %d, %v; want %d", d, got, err, want)
		}
	}
	if _, err := TTLSeconds(-time.Second); err == nil {
		t.Error("negative accepted")
	}
}
