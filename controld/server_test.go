package controld

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/controld/internal/auth"
	"github.com/lmx-video/lmx/edged"
	"github.com/lmx-video/lmx/hls"
)

// node is a control node and an edge running in this process on loopback,
// linked by the real embedded broker and real HTTP.
type node struct {
	srv    *Server
	edge   *edged.Edge
	segDir string
	api    string
	vod    string
	push   string
}

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func startNode(t *testing.T, mutate func(*Config)) *node {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cfg := DefaultConfig()
	cfg.DataDir, cfg.APIListen, cfg.VODListen, cfg.MQTTListen = t.TempDir(), "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.CacheSize, cfg.LiveMemory, cfg.MaxSegmentBytes = 64<<20, 64<<20, 8<<20
	// These tests are about the media path; access control has its own
	// (auth_test.go), where the edge joins with a credential.
	cfg.Auth = "none"
	if mutate != nil {
		mutate(&cfg)
	}
	srv, err := New(ctx, cfg, testLogger(t), "test")
	if err != nil {
		t.Fatal(err)
	}
	segDir := t.TempDir()
	edge, err := edged.New(edged.Config{
		Name: "edge-1", Listen: "127.0.0.1:0",
		MQTT: "mqtt://" + srv.MQTTAddr().String(), Ingest: "http://" + srv.VODAddr().String(),
		AllowDirs: []string{segDir}, StateDir: t.TempDir(), Buffer: time.Minute, BufferBytes: 16 << 20,
		MaxPlaylistBytes: 64 << 10, MaxSegmentBytes: 1 << 20, Heartbeat: time.Second,
	}, testLogger(t), "test")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 2)
	go func() { done <- srv.Run(ctx) }()
	go func() { done <- edge.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		for range 2 {
			if err := <-done; err != nil {
				t.Errorf("shutdown: %v", err)
			}
		}
	})
	<-srv.Ready()
	return &node{srv: srv, edge: edge, segDir: segDir,
		api: "http://" + srv.APIAddr().String(), vod: "http://" + srv.VODAddr().String(),
		push: "http://" + edge.Addr().String() + "/v1/playlist"}
}

// edgeCredential registers edge with the node's access control and joins
// it, as `lmx edge add` and `lmx edged --join` do, and returns its credential.
func (n *node) edgeCredential(t *testing.T, edge string) string {
	t.Helper()
	ctx := context.Background()
	js, _, err := n.srv.auth.AddEdge(ctx, auth.Principal{Name: "test", Role: api.RoleAdmin}, edge, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, cred, err := n.srv.auth.Join(ctx, js.String())
	if err != nil {
		t.Fatal(err)
	}
	return cred
}

// tsSegment makes bytes that look like MPEG-TS packets, unique per n.
func tsSegment(n int) []byte {
	b := bytes.Repeat([]byte{0x47, 0x1f, 0xff, 0x10}, 47*100)
	copy(b[4:], fmt.Sprintf("segment-%d", n))
	return b
}

// pushSegments writes segments first..last into the edge's directory and
// pushes the sliding playlist naming them, as ffmpeg does.
func (n *node) pushSegments(t *testing.T, source string, first, last int) {
	t.Helper()
	for i := first; i <= last; i++ {
		if err := os.WriteFile(filepath.Join(n.segDir, fmt.Sprintf("%s-%d.ts", source, i)), tsSegment(i), 0o644); err != nil {
			t.Fatal(err)
		}
		var pl strings.Builder
		start := max(0, i-4)
		fmt.Fprintf(&pl, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:%d\n", start)
		for j := start; j <= i; j++ {
			fmt.Fprintf(&pl, "#EXTINF:2.000000,\n%s-%d.ts\n", source, j)
		}
		code, body := n.pushRaw(t, source, "file://"+n.segDir, pl.String())
		if code != http.StatusOK {
			t.Fatalf("push %d: %d %s", i, code, body)
		}
	}
}

func (n *node) pushRaw(t *testing.T, source, prefix, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, n.push, strings.NewReader(body))
	req.Header.Set("Video-Source-Name", source)
	req.Header.Set("MPEG-TS-URI-Prefix", prefix)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// answer is any JSON answer of the control node, decoded into the api
// package's types (the payload key that is not there stays zero).
type answer struct {
	api.Envelope
	Source         api.Source      `json:"source"`
	Recording      api.Recording   `json:"recording"`
	DeletedObjects int             `json:"deleted_objects"`
	Recordings     []api.Recording `json:"recordings"`
	raw            string
}

func (a answer) errorText() string {
	if a.Error == nil {
		return ""
	}
	return a.Error.Message + " " + a.Error.Detail
}

func (a answer) String() string { return a.raw }

func do(t *testing.T, method, url, body string) (int, answer, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var a answer
	if json.Valid(raw) {
		if err := json.Unmarshal(raw, &a); err != nil {
			t.Fatalf("%s %s: answer is not an api envelope: %v\n%s", method, url, err, raw)
		}
	}
	a.raw = string(raw)
	return resp.StatusCode, a, resp.Header
}

func eventually(t *testing.T, what string, limit time.Duration, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if f() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s", limit, what)
}

func TestLiveThroughEdge(t *testing.T) {
	n := startNode(t, nil)
	// The first push registers the source and binds it to the edge.
	n.pushSegments(t, "cam", 0, 2)
	code, m, _ := do(t, http.MethodGet, n.api+"/v1/source/cam", "")
	if code != 200 {
		t.Fatalf("source not registered on first push: %d %v", code, m)
	}
	if src := m.Source; src.RRTarget != "edge-1" || src.Streaming != api.StreamingOff {
		t.Fatalf("source = %+v", src)
	}
	code, m, _ = do(t, http.MethodGet, n.vod+"/v1/vod/live/cam/vid.m3u8", "")
	if code != 404 || !strings.Contains(m.errorText(), "not streaming") {
		t.Fatalf("playlist before streaming: %d %v", code, m)
	}
	code, m, _ = do(t, http.MethodPut, n.api+"/v1/source/cam/streaming?new_state=true", "")
	if code != 200 {
		t.Fatalf("streaming on: %d %v", code, m)
	}
	// The edge converges on the desired state and reports it.
	eventually(t, "edge to confirm streaming", 10*time.Second, func() bool {
		_, m, _ := do(t, http.MethodGet, n.api+"/v1/source/cam", "")
		return m.Source.EdgeStreaming
	})
	// Buffered segments are sent at once, so the playlist is there without waiting.
	var pl *hls.MediaPlaylist
	eventually(t, "live playlist", 10*time.Second, func() bool {
		resp, err := http.Get(n.vod + "/v1/vod/live/cam/vid.m3u8")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			return false
		}
		pl, err = hls.ParseMediaPlaylist(resp.Body, 1<<20)
		return err == nil && len(pl.Segments) == 3
	})
	n.pushSegments(t, "cam", 3, 8)
	eventually(t, "new segments listed", 10*time.Second, func() bool {
		resp, err := http.Get(n.vod + "/v1/vod/live/cam/vid.m3u8")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		if resp.Header.Get("Content-Type") != "application/vnd.apple.mpegurl" || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Fatalf("playlist headers: %v", resp.Header)
		}
		cur, err := hls.ParseMediaPlaylist(resp.Body, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if err := hls.CheckLiveTransition(pl, cur); err != nil {
			t.Fatalf("transition: %v", err)
		}
		pl = cur
		if len(cur.Segments) != 5 || !cur.Segments[4].ProgramDateTime.After(time.Now().Add(-time.Minute)) {
			return false
		}
		// Done once the newest listed segment is the newest pushed.
		resp, err = http.Get(n.vod + "/v1/vod/live/cam/" + cur.Segments[4].URI)
		if err != nil {
			return false
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return bytes.Equal(got, tsSegment(8))
	})
	if err := hls.CheckLive(pl); err != nil {
		t.Fatalf("CheckLive: %v", err)
	}
	// The newest listed segment is byte for byte the newest pushed.
	resp, err := http.Get(n.vod + "/v1/vod/live/cam/" + pl.Segments[4].URI)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "video/mp2t" || !bytes.Equal(got, tsSegment(8)) {
		t.Fatalf("segment: %d %s, %d bytes, equal=%v", resp.StatusCode, resp.Header.Get("Content-Type"), len(got), bytes.Equal(got, tsSegment(8)))
	}
	// Range requests work (Safari asks for them).
	req, _ := http.NewRequest(http.MethodGet, n.vod+"/v1/vod/live/cam/"+pl.Segments[4].URI, nil)
	req.Header.Set("Range", "bytes=0-187")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || len(got) != 188 {
		t.Fatalf("range: %d, %d bytes", resp.StatusCode, len(got))
	}
	// Streaming off: the edge stops, the playlist goes away with a reason.
	if code, m, _ := do(t, http.MethodPut, n.api+"/v1/source/cam/streaming?new_state=false", ""); code != 200 {
		t.Fatalf("streaming off: %d %v", code, m)
	}
	eventually(t, "edge to stop streaming", 10*time.Second, func() bool {
		_, m, _ := do(t, http.MethodGet, n.api+"/v1/source/cam", "")
		return !m.Source.EdgeStreaming
	})
	if code, m, _ := do(t, http.MethodGet, n.vod+"/v1/vod/live/cam/vid.m3u8", ""); code != 404 {
		t.Fatalf("playlist after off: %d %v", code, m)
	}
}

func TestManagementAPIErrors(t *testing.T) {
	n := startNode(t, nil)
	cases := []struct {
		method, path, body string
		code               int
		msg                string
	}{
		{"GET", "/v1/source/nope", "", 404, "not found"},
		{"DELETE", "/v1/source/nope", "", 404, "not found"},
		{"PUT", "/v1/source/nope/streaming?new_state=true", "", 404, "not found"},
		{"POST", "/v1/source", "{", 400, "not valid JSON"},
		{"POST", "/v1/source", `{"name":"a/b"}`, 400, "name"},
		{"POST", "/v1/source", `{"name":"ok","segment_len":-1}`, 400, "segment_len"},
		{"POST", "/v1/source", `{"name":"` + strings.Repeat("x", 100<<10) + `"}`, 413, "over"},
		{"GET", "/v1/nothing", "", 404, "no such endpoint"},
	}
	for _, c := range cases {
		code, m, _ := do(t, c.method, n.api+c.path, c.body)
		if code != c.code || m.Success || m.Error == nil || m.Error.Code != c.code || !strings.Contains(m.Error.Message, c.msg) || m.RequestID == "" {
			t.Errorf("%s %s: %d %v; want %d mentioning %q", c.method, c.path, code, m, c.code, c.msg)
		}
	}
	code, m, _ := do(t, "POST", n.api+"/v1/source", `{"name":"cam-9","description":"d","segment_len":4}`)
	if code != 200 || m.Source.SegmentLength != 4 {
		t.Fatalf("create: %d %v", code, m)
	}
	if code, _, _ := do(t, "POST", n.api+"/v1/source", `{"name":"cam-9"}`); code != 409 {
		t.Fatalf("duplicate name: %d", code)
	}
	if code, m, _ := do(t, "PUT", n.api+"/v1/source/cam-9/streaming?new_state=maybe", ""); code != 400 {
		t.Fatalf("bad new_state: %d %v", code, m)
	}
	if code, _, _ := do(t, "GET", n.vod+"/v1/vod/live/unknown/vid.m3u8", ""); code != 404 {
		t.Fatalf("unknown live source: %d", code)
	}
	if code, _, h := do(t, "OPTIONS", n.vod+"/v1/vod/live/cam-9/vid.m3u8", ""); code != 204 || h.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("preflight: %d %v", code, h)
	}
	if code, _, _ := do(t, "DELETE", n.api+"/v1/source/cam-9", ""); code != 200 {
		t.Fatalf("delete: %d", code)
	}
	for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
		if code, _, _ := do(t, "GET", n.api+p, ""); code != 200 {
			t.Errorf("%s: %d", p, code)
		}
	}
}

func TestIngestRejectsBadUploads(t *testing.T) {
	n := startNode(t, func(c *Config) { c.Auth = "on" })
	cred := n.edgeCredential(t, "e")
	put := func(hdr map[string]string, body io.Reader) int {
		req, _ := http.NewRequest(http.MethodPut, n.vod+"/v1/ingest/cam", body)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var env api.Envelope
		if err := json.NewDecoder(resp.Body).Decode(&env); resp.StatusCode/100 != 2 && (err != nil || env.Error == nil || env.Error.Code != resp.StatusCode || env.Error.Message == "") {
			t.Errorf("%d answer is not an error envelope naming the problem: %+v %v", resp.StatusCode, env, err)
		}
		return resp.StatusCode
	}
	good := map[string]string{"Authorization": "Bearer " + cred, "Lmx-Edge": "e", "Lmx-Segment-Seq": "1", "Lmx-Segment-Duration": "2.0"}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range good {
			m[a] = b
		}
		m[k] = v
		return m
	}
	one := func() io.Reader { return bytes.NewReader([]byte{0x47}) }
	if c := put(with("Authorization", "Bearer wrong"), one()); c != 401 {
		t.Errorf("wrong credential: %d", c)
	}
	if c := put(with("Lmx-Edge", "other"), one()); c != 403 {
		t.Errorf("credential of another edge: %d", c)
	}
	if c := put(with("Lmx-Segment-Duration", "NaN"), one()); c != 400 {
		t.Errorf("NaN duration: %d", c)
	}
	if c := put(with("Lmx-Segment-Seq", "-1"), one()); c != 400 {
		t.Errorf("bad seq: %d", c)
	}
	if c := put(good, bytes.NewReader(nil)); c != 400 {
		t.Errorf("empty segment: %d", c)
	}
	// Sent without a Content-Length (chunked): 411, as documented.
	if c := put(good, io.MultiReader(one())); c != http.StatusLengthRequired {
		t.Errorf("chunked upload: %d", c)
	}
	// --max-segment-bytes is the limit, exactly: 8 MiB passes the size
	// check (and meets streaming off), one byte more is 413.
	if c := put(good, bytes.NewReader(make([]byte, 8<<20))); c != 409 {
		t.Errorf("segment of exactly --max-segment-bytes: %d, want 409 (streaming off)", c)
	}
	if c := put(good, bytes.NewReader(make([]byte, 8<<20+1))); c != 413 {
		t.Errorf("one byte over --max-segment-bytes: %d", c)
	}
	// Well over, still read whole (up to twice the limit): the same 413
	// from ingest. (Beyond that fasthttp refuses before reading; the vod
	// tests cover that answer.)
	if c := put(good, bytes.NewReader(make([]byte, 12<<20))); c != 413 {
		t.Errorf("well over the limit: %d", c)
	}
	if c := put(good, one()); c != 409 {
		t.Errorf("not streaming: %d", c)
	}
}

// TestRunStopsRightAfterReady: a node stopped as soon as it is ready (before
// its listeners have surely begun serving) returns from Run, with its ports
// free again. fasthttp's Shutdown before Serve once left Run waiting forever.
func TestRunStopsRightAfterReady(t *testing.T) {
	for i := range 20 {
		cfg := DefaultConfig()
		cfg.DataDir, cfg.APIListen, cfg.VODListen, cfg.MQTTListen = t.TempDir(), "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
		ctx, cancel := context.WithCancel(context.Background())
		srv, err := New(ctx, cfg, testLogger(t), "test")
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- srv.Run(ctx) }()
		<-srv.Ready()
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("round %d: Run: %v", i, err)
			}
		case <-time.After(15 * time.Second):
			t.Fatalf("round %d: Run did not return after cancel", i)
		}
		for _, a := range []net.Addr{srv.APIAddr(), srv.VODAddr(), srv.MQTTAddr()} {
			ln, err := net.Listen("tcp", a.String())
			if err != nil {
				t.Fatalf("round %d: %s still taken after Run returned: %v", i, a, err)
			}
			ln.Close()
		}
	}
}

// TestCloseWithoutRun: a node that will not run releases its ports.
func TestCloseWithoutRun(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DataDir, cfg.APIListen, cfg.VODListen, cfg.MQTTListen = t.TempDir(), "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	srv, err := New(context.Background(), cfg, testLogger(t), "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	for _, a := range []net.Addr{srv.APIAddr(), srv.VODAddr(), srv.MQTTAddr()} {
		ln, err := net.Listen("tcp", a.String())
		if err != nil {
			t.Fatalf("%s still taken after Close: %v", a, err)
		}
		ln.Close()
	}
	if err := srv.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}
