package vod_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/controld/internal/ingest"
	"github.com/lmx-video/lmx/controld/internal/live"
	"github.com/lmx-video/lmx/controld/internal/metrics"
	"github.com/lmx-video/lmx/controld/internal/recording"
	"github.com/lmx-video/lmx/controld/internal/vod"
	"github.com/lmx-video/lmx/sqlstore"
)

// fakeSources knows sources by name.
type fakeSources struct {
	srcs map[string]sqlstore.Source
	err  error
}

func (f *fakeSources) GetSource(_ context.Context, idOrName string) (sqlstore.Source, error) {
	if f.err != nil {
		return sqlstore.Source{}, f.err
	}
	if src, ok := f.srcs[idOrName]; ok {
		return src, nil
	}
	return sqlstore.Source{}, fmt.Errorf("source %q: %w", idOrName, sqlstore.ErrNotFound)
}

// fakeRecordings replays canned recordings; errs answers ids with an error.
type fakeRecordings struct {
	playlists map[string]recording.Playlist
	segments  map[string][]byte // by "id/seq"
	errs      map[string]error
}

func (f *fakeRecordings) Playlist(_ context.Context, id string) (recording.Playlist, error) {
	if err := f.errs[id]; err != nil {
		return recording.Playlist{}, err
	}
	pl, ok := f.playlists[id]
	if !ok {
		return pl, fmt.Errorf("%w: recording %q", recording.ErrNotFound, id)
	}
	return pl, nil
}

func (f *fakeRecordings) Segment(_ context.Context, id string, seq uint64) (*recording.Body, error) {
	if err := f.errs[id]; err != nil {
		return nil, err
	}
	b, ok := f.segments[id+"/"+strconv.FormatUint(seq, 10)]
	if !ok {
		return nil, fmt.Errorf("%w: recording has no segment %d", recording.ErrNotFound, seq)
	}
	return &recording.Body{Reader: bytes.NewReader(b), Size: len(b)}, nil
}

// gotUpload is what the fake ingest kept of an upload, copied during the call.
type gotUpload struct {
	source, auth  string
	headers       map[string]string
	contentLength int
	body          []byte
	arrived       time.Time
}

type gotRegister struct{ source, edge, auth string }

// uploadHeaders are the headers the fake ingest reads.
var uploadHeaders = []string{
	broker.HeaderEdge, broker.HeaderBoot, broker.HeaderSeq, broker.HeaderDuration, broker.HeaderStart,
	broker.HeaderDiscontinuity, broker.HeaderPurpose, broker.HeaderRecordings,
}

type fakeIngest struct {
	mu        sync.Mutex
	uploads   []gotUpload
	registers []gotRegister
	err       error
	reply     broker.IngestReply
}

func (f *fakeIngest) Accept(_ context.Context, up ingest.Upload) (broker.IngestReply, error) {
	got := gotUpload{source: up.Source, auth: up.Authorization, headers: map[string]string{},
		contentLength: up.ContentLength, body: bytes.Clone(up.Body()), arrived: up.Arrived}
	for _, h := range uploadHeaders {
		got.headers[h] = up.Header(h)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.uploads = append(f.uploads, got)
	return f.reply, f.err
}

func (f *fakeIngest) Register(_ context.Context, r ingest.Registration) (api.Source, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.registers = append(f.registers, gotRegister{r.Source, r.Edge, r.Authorization})
	if f.err != nil {
		return api.Source{}, f.err
	}
	return api.Source{ID: "id-" + r.Source, Name: r.Source, Edge: r.Edge, Streaming: api.StreamingOn}, nil
}

func (f *fakeIngest) setErr(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func (f *fakeIngest) seen() ([]gotUpload, []gotRegister) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]gotUpload(nil), f.uploads...), append([]gotRegister(nil), f.registers...)
}

func (f *fakeIngest) lastUpload(t *testing.T) gotUpload {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.uploads) == 0 {
		t.Fatal("the upload did not reach ingest")
	}
	return f.uploads[len(f.uploads)-1]
}

// node is a vod.Server on loopback with a real live registry and fakes.
type node struct {
	base    string
	hc      *http.Client
	live    *live.Registry
	sources *fakeSources
	recs    *fakeRecordings
	ingest  *fakeIngest
}

const origin = "https://player.example"

func logger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// start is a node with auth off.
func start(t *testing.T, cfg vod.Config) *node {
	t.Helper()
	return startWith(t, cfg, vod.Guard{})
}

// startWith is a node guarded by guard.
func startWith(t *testing.T, cfg vod.Config, guard vod.Guard) *node {
	t.Helper()
	return startWithIngest(t, cfg, guard, nil)
}

// startWithIngest is a node guarded by guard whose uploads go to the
// Ingest in returns (the fake ingest when in is nil).
func startWithIngest(t *testing.T, cfg vod.Config, guard vod.Guard, in func(*node) vod.Ingest) *node {
	t.Helper()
	n := &node{
		live: live.New(live.Config{Segments: 3, MemoryLimit: 256 << 20}, live.Gauges{}, logger()),
		sources: &fakeSources{srcs: map[string]sqlstore.Source{
			"cam":     {ID: "id-cam", Name: "cam", Streaming: true},
			"fast":    {ID: "id-fast", Name: "fast", Streaming: true},
			"waiting": {ID: "id-waiting", Name: "waiting", Streaming: true},
			"off":     {ID: "id-off", Name: "off"},
		}},
		recs:   &fakeRecordings{errs: map[string]error{}},
		ingest: &fakeIngest{},
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	var ing vod.Ingest = n.ingest
	if in != nil {
		ing = in(n)
	}
	srv := vod.New(cfg, n.live, n.sources, n.recs, ing, guard, metrics.New(), logger())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	tr := &http.Transport{MaxIdleConnsPerHost: 32}
	n.hc = &http.Client{Transport: tr, Timeout: 30 * time.Second}
	t.Cleanup(tr.CloseIdleConnections) // before Shutdown, which waits for connections
	n.base = "http://" + ln.Addr().String()
	return n
}

// answer is a response with its body read.
type answer struct {
	*http.Response
	body []byte
}

func (n *node) do(t *testing.T, method, path string, body io.Reader, hdr map[string]string) answer {
	t.Helper()
	req, err := http.NewRequest(method, n.base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return n.send(t, req)
}

// send does req and reads its answer.
func (n *node) send(t *testing.T, req *http.Request) answer {
	t.Helper()
	resp, err := n.hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", req.Method, req.URL.Path, err)
	}
	return answer{resp, b}
}

func (n *node) get(t *testing.T, path string) answer {
	t.Helper()
	return n.do(t, http.MethodGet, path, nil, nil)
}

// wantStatus fails t unless a has status code.
func (a answer) wantStatus(t *testing.T, code int) answer {
	t.Helper()
	if a.StatusCode != code {
		t.Fatalf("%s %s: %d, want %d\n%s", a.Request.Method, a.Request.URL.Path, a.StatusCode, code, a.body)
	}
	return a
}

// envelope decodes a JSON error answer of code and checks its message
// mentions every part.
func (a answer) envelope(t *testing.T, code int, parts ...string) api.Envelope {
	t.Helper()
	a.wantStatus(t, code)
	if ct := a.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var env api.Envelope
	if err := json.Unmarshal(a.body, &env); err != nil {
		t.Fatalf("answer is not an envelope: %v\n%s", err, a.body)
	}
	if env.Success || env.Error == nil || env.Error.Code != code || env.RequestID == "" {
		t.Fatalf("envelope %+v (error %+v), want a failure with code %d and a request id", env, env.Error, code)
	}
	for _, p := range parts {
		if !strings.Contains(env.Error.Message, p) {
			t.Errorf("message %q does not mention %q", env.Error.Message, p)
		}
	}
	return env
}

// appendSegs appends count segments of random bytes (of distinct sizes)
// lasting dur seconds to source, and returns their media sequence numbers
// and bytes.
func appendSegs(t *testing.T, reg *live.Registry, src string, count int, dur float64) ([]uint64, [][]byte) {
	t.Helper()
	var seqs []uint64
	var data [][]byte
	for i := range count {
		b := make([]byte, 500+37*i+rand.IntN(200))
		for j := range b {
			b[j] = byte(rand.Uint32())
		}
		seq, err := reg.Append("id-"+src, src, int(dur), live.Arrival{Edge: "edge-1", Boot: "b", EdgeSeq: uint64(i + 1), Duration: dur, Start: time.Now()}, b)
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, seq)
		data = append(data, b)
	}
	return seqs, data
}

func segPath(src string, seq uint64) string {
	return api.PathLivePrefix + src + "/" + strconv.FormatUint(seq, 10) + ".ts"
}

func TestLivePlaylist(t *testing.T) {
	n := start(t, vod.Config{CORSOrigin: origin})
	seqs, _ := appendSegs(t, n.live, "cam", 3, 6)
	path := api.LivePlaylistPath("cam")

	a := n.get(t, path).wantStatus(t, http.StatusOK)
	if ct := a.Header.Get("Content-Type"); ct != "application/vnd.apple.mpegurl" {
		t.Errorf("Content-Type %q", ct)
	}
	if cc := a.Header.Get("Cache-Control"); cc != "max-age=3" {
		t.Errorf("Cache-Control %q, want max-age=3 (half the 6 s target)", cc)
	}
	if got := a.Header.Get("Access-Control-Allow-Origin"); got != origin {
		t.Errorf("Access-Control-Allow-Origin %q, want %q", got, origin)
	}
	if got := a.Header.Get("Access-Control-Expose-Headers"); got != "Content-Length, Content-Range" {
		t.Errorf("Access-Control-Expose-Headers %q", got)
	}
	ls, _ := n.live.Get("cam")
	if !bytes.Equal(a.body, ls.Playlist()) {
		t.Errorf("playlist body differs from the window's:\n%s", a.body)
	}
	for _, seq := range seqs {
		if !bytes.Contains(a.body, []byte("\n"+strconv.FormatUint(seq, 10)+".ts\n")) {
			t.Errorf("playlist does not list %d.ts:\n%s", seq, a.body)
		}
	}
	if !bytes.Contains(a.body, []byte("#EXT-X-TARGETDURATION:6\n")) {
		t.Errorf("playlist target is not 6:\n%s", a.body)
	}

	// By source id too.
	if b := n.get(t, api.LivePlaylistPath("id-cam")).wantStatus(t, http.StatusOK); !bytes.Equal(b.body, a.body) {
		t.Errorf("playlist by id differs from by name")
	}

	h := n.do(t, http.MethodHead, path, nil, nil).wantStatus(t, http.StatusOK)
	if h.ContentLength != int64(len(a.body)) || len(h.body) != 0 {
		t.Errorf("HEAD: Content-Length %d, body %d bytes; want %d and none", h.ContentLength, len(h.body), len(a.body))
	}
	if h.Header.Get("Cache-Control") != "max-age=3" || h.Header.Get("Content-Type") != "application/vnd.apple.mpegurl" {
		t.Errorf("HEAD headers %v", h.Header)
	}
}

func TestNoCORSWhenNotConfigured(t *testing.T) {
	n := start(t, vod.Config{})
	seqs, _ := appendSegs(t, n.live, "cam", 1, 2)
	for _, a := range []answer{
		n.get(t, api.LivePlaylistPath("cam")).wantStatus(t, http.StatusOK),
		n.get(t, segPath("cam", seqs[0])).wantStatus(t, http.StatusOK),
		n.get(t, api.LivePlaylistPath("nope")).wantStatus(t, http.StatusNotFound),
		n.do(t, http.MethodOptions, api.LivePlaylistPath("cam"), nil, nil).wantStatus(t, http.StatusNoContent),
	} {
		for _, h := range []string{"Access-Control-Allow-Origin", "Access-Control-Expose-Headers"} {
			if v, ok := a.Header[h]; ok {
				t.Errorf("%s %s: %s %q without a configured origin", a.Request.Method, a.Request.URL.Path, h, v)
			}
		}
	}
}

func TestLiveSegments(t *testing.T) {
	n := start(t, vod.Config{CORSOrigin: origin})
	seqs, data := appendSegs(t, n.live, "cam", 3, 2)

	for i, seq := range seqs {
		a := n.get(t, segPath("cam", seq)).wantStatus(t, http.StatusOK)
		if !bytes.Equal(a.body, data[i]) {
			t.Errorf("segment %d: %d bytes differ from the %d appended", seq, len(a.body), len(data[i]))
		}
		if a.ContentLength != int64(len(data[i])) {
			t.Errorf("segment %d: Content-Length %d, want %d", seq, a.ContentLength, len(data[i]))
		}
		if ct := a.Header.Get("Content-Type"); ct != "video/mp2t" {
			t.Errorf("segment %d: Content-Type %q", seq, ct)
		}
		if cc := a.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
			t.Errorf("segment %d: Cache-Control %q", seq, cc)
		}
		if a.Header.Get("Access-Control-Allow-Origin") != origin {
			t.Errorf("segment %d: no CORS origin", seq)
		}
	}

	seq, want := seqs[1], data[1]
	h := n.do(t, http.MethodHead, segPath("cam", seq), nil, nil).wantStatus(t, http.StatusOK)
	if h.ContentLength != int64(len(want)) || len(h.body) != 0 {
		t.Errorf("HEAD: Content-Length %d, body %d bytes; want %d and none", h.ContentLength, len(h.body), len(want))
	}

	r := n.do(t, http.MethodGet, segPath("cam", seq), nil, map[string]string{"Range": "bytes=10-99"}).wantStatus(t, http.StatusPartialContent)
	if got, wantCR := r.Header.Get("Content-Range"), fmt.Sprintf("bytes 10-99/%d", len(want)); got != wantCR {
		t.Errorf("Content-Range %q, want %q", got, wantCR)
	}
	if !bytes.Equal(r.body, want[10:100]) {
		t.Errorf("range body: %d bytes, not bytes 10-99 of the segment", len(r.body))
	}

	bad := n.do(t, http.MethodGet, segPath("cam", seq), nil, map[string]string{"Range": fmt.Sprintf("bytes=%d-", len(want))})
	bad.envelope(t, http.StatusRequestedRangeNotSatisfiable, "outside")
	if got, wantCR := bad.Header.Get("Content-Range"), fmt.Sprintf("bytes */%d", len(want)); got != wantCR {
		t.Errorf("416 Content-Range %q, want %q", got, wantCR)
	}

	// Bad names and sequences the window never had.
	n.get(t, api.PathLivePrefix+"cam/abc.ts").envelope(t, http.StatusNotFound, "live segments are named")
	n.get(t, api.PathLivePrefix+"cam/12.mp4").envelope(t, http.StatusNotFound, "live segments are named")
	n.get(t, segPath("cam", seqs[2]+1)).envelope(t, http.StatusNotFound, "left the live window")
}

func TestLiveSegmentLeavesTheWindow(t *testing.T) {
	n := start(t, vod.Config{})
	// Three 1 s segments are listed and three more that slid out are kept.
	seqs, data := appendSegs(t, n.live, "fast", 10, 1)
	pl := n.get(t, api.LivePlaylistPath("fast")).wantStatus(t, http.StatusOK).body
	for i, seq := range seqs {
		listed := bytes.Contains(pl, []byte("\n"+strconv.FormatUint(seq, 10)+".ts\n"))
		a := n.get(t, segPath("fast", seq))
		switch {
		case i >= 7: // listed
			if !listed {
				t.Errorf("segment %d not listed:\n%s", seq, pl)
			}
			if a.wantStatus(t, http.StatusOK); !bytes.Equal(a.body, data[i]) {
				t.Errorf("listed segment %d: wrong bytes", seq)
			}
		case i >= 4: // slid out, kept for late players
			if listed {
				t.Errorf("segment %d still listed:\n%s", seq, pl)
			}
			if a.wantStatus(t, http.StatusOK); !bytes.Equal(a.body, data[i]) {
				t.Errorf("slid-out segment %d: wrong bytes", seq)
			}
		default: // gone with the tail
			a.envelope(t, http.StatusNotFound, "left the live window")
		}
	}
}

func TestLiveNotAvailable(t *testing.T) {
	n := start(t, vod.Config{CORSOrigin: origin})
	for _, tt := range []struct {
		name, path string
		code       int
		message    string
	}{
		{"unknown source playlist", api.LivePlaylistPath("nope"), http.StatusNotFound, `source "nope" not found`},
		{"unknown source segment", segPath("nope", 1), http.StatusNotFound, `source "nope" not found`},
		{"not streaming playlist", api.LivePlaylistPath("off"), http.StatusNotFound, `source "off" is not streaming`},
		{"not streaming segment", segPath("off", 1), http.StatusNotFound, `source "off" is not streaming`},
		{"streaming, nothing yet", api.LivePlaylistPath("waiting"), http.StatusNotFound, "no live segments yet"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := n.get(t, tt.path)
			a.envelope(t, tt.code, tt.message)
			if a.Header.Get("Access-Control-Allow-Origin") != origin {
				t.Errorf("error answer without CORS origin: a player could not read why")
			}
		})
	}

	n.sources.err = errors.New("database is locked")
	n.get(t, api.LivePlaylistPath("cam")).envelope(t, http.StatusInternalServerError, "database is locked")
}

func TestMethodsAndPaths(t *testing.T) {
	n := start(t, vod.Config{CORSOrigin: origin})
	appendSegs(t, n.live, "cam", 1, 2)

	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		n.do(t, m, api.LivePlaylistPath("cam"), strings.NewReader("x"), nil).envelope(t, http.StatusMethodNotAllowed, m, "not allowed")
	}

	pre := n.do(t, http.MethodOptions, api.LivePlaylistPath("cam"), nil, map[string]string{
		"Origin": origin, "Access-Control-Request-Method": "GET",
	}).wantStatus(t, http.StatusNoContent)
	for h, want := range map[string]string{
		"Access-Control-Allow-Origin":  origin,
		"Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
		"Access-Control-Allow-Headers": "Range, Accept, Origin",
		"Access-Control-Max-Age":       "86400",
	} {
		if got := pre.Header.Get(h); got != want {
			t.Errorf("preflight %s %q, want %q", h, got, want)
		}
	}
	if len(pre.body) != 0 {
		t.Errorf("preflight body %q", pre.body)
	}

	for _, p := range []string{"/nope", "/v1/vod/live/cam", "/v1/vod/live/cam/a/b/c.ts", "/v1/vod/other/x/vid.m3u8", "/v1/ingest/"} {
		env := n.get(t, p).envelope(t, http.StatusNotFound, "no such playback path GET "+p)
		if !strings.Contains(env.Error.Detail, api.PathLivePrefix) {
			t.Errorf("%s: detail %q does not say where playlists are", p, env.Error.Detail)
		}
	}
	// The caller's request id is echoed.
	a := n.do(t, http.MethodGet, "/nope", nil, map[string]string{"X-Request-ID": "req-42"})
	if env := a.envelope(t, http.StatusNotFound); env.RequestID != "req-42" || a.Header.Get("X-Request-ID") != "req-42" {
		t.Errorf("request id %q / header %q, want req-42", env.RequestID, a.Header.Get("X-Request-ID"))
	}

	if h := n.get(t, api.PathHealth).wantStatus(t, http.StatusOK); !strings.Contains(string(h.body), `"success":true`) {
		t.Errorf("health: %s", h.body)
	}
}

func TestRecordingPlayback(t *testing.T) {
	n := start(t, vod.Config{CORSOrigin: origin})
	seg := bytes.Repeat([]byte("recorded"), 100)
	n.recs.playlists = map[string]recording.Playlist{
		"rec-on":   {Body: []byte("#EXTM3U\n#EXT-X-PLAYLIST-TYPE:EVENT\n"), Active: true},
		"rec-done": {Body: []byte("#EXTM3U\n#EXT-X-ENDLIST\n")},
	}
	n.recs.segments = map[string][]byte{"rec-done/1700000000000": seg}
	n.recs.errs["rec-broken"] = recording.ErrUnavailable

	for id, cc := range map[string]string{"rec-on": "max-age=1", "rec-done": "max-age=60"} {
		a := n.get(t, api.RecordingPlaylistPath(id)).wantStatus(t, http.StatusOK)
		if !bytes.Equal(a.body, n.recs.playlists[id].Body) {
			t.Errorf("%s playlist %q", id, a.body)
		}
		if a.Header.Get("Content-Type") != "application/vnd.apple.mpegurl" || a.Header.Get("Cache-Control") != cc {
			t.Errorf("%s: Content-Type %q, Cache-Control %q (want %s)", id, a.Header.Get("Content-Type"), a.Header.Get("Cache-Control"), cc)
		}
		if a.Header.Get("Access-Control-Allow-Origin") != origin {
			t.Errorf("%s: no CORS origin", id)
		}
		h := n.do(t, http.MethodHead, api.RecordingPlaylistPath(id), nil, nil).wantStatus(t, http.StatusOK)
		if h.ContentLength != int64(len(a.body)) || len(h.body) != 0 {
			t.Errorf("HEAD %s: Content-Length %d, body %d", id, h.ContentLength, len(h.body))
		}
	}

	path := api.PathRecordingPrefix + "rec-done/1700000000000.ts"
	a := n.get(t, path).wantStatus(t, http.StatusOK)
	if !bytes.Equal(a.body, seg) || a.Header.Get("Content-Type") != "video/mp2t" || a.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Errorf("recorded segment: %d bytes, headers %v", len(a.body), a.Header)
	}
	r := n.do(t, http.MethodGet, path, nil, map[string]string{"Range": "bytes=10-99"}).wantStatus(t, http.StatusPartialContent)
	if !bytes.Equal(r.body, seg[10:100]) || r.Header.Get("Content-Range") != fmt.Sprintf("bytes 10-99/%d", len(seg)) {
		t.Errorf("recorded range: %q, Content-Range %q", r.body, r.Header.Get("Content-Range"))
	}
	if h := n.do(t, http.MethodHead, path, nil, nil).wantStatus(t, http.StatusOK); h.ContentLength != int64(len(seg)) || len(h.body) != 0 {
		t.Errorf("HEAD recorded segment: Content-Length %d, body %d", h.ContentLength, len(h.body))
	}

	n.get(t, api.RecordingPlaylistPath("rec-nope")).envelope(t, http.StatusNotFound, "not found", "rec-nope")
	n.get(t, api.PathRecordingPrefix+"rec-done/42.ts").envelope(t, http.StatusNotFound, "no segment 42")
	n.get(t, api.PathRecordingPrefix+"rec-done/x.ts").envelope(t, http.StatusNotFound, "recorded segments are named")
	n.get(t, api.RecordingPlaylistPath("rec-broken")).envelope(t, http.StatusServiceUnavailable, "unavailable")
	n.get(t, api.PathRecordingPrefix+"rec-broken/1.ts").envelope(t, http.StatusServiceUnavailable, "unavailable")
	n.recs.errs["rec-err"] = errors.New("disk read error")
	n.get(t, api.RecordingPlaylistPath("rec-err")).envelope(t, http.StatusInternalServerError, "disk read error")
}

func uploadHeadersFor(seq int) map[string]string {
	return map[string]string{
		"Authorization":            "Bearer tok",
		broker.HeaderEdge:          "edge-1",
		broker.HeaderBoot:          "boot-7",
		broker.HeaderSeq:           strconv.Itoa(seq),
		broker.HeaderDuration:      "2.002",
		broker.HeaderStart:         "2025-03-04T05:06:07.5Z",
		broker.HeaderDiscontinuity: "1",
		broker.HeaderPurpose:       "live,record",
		broker.HeaderRecordings:    "rec-a,rec-b",
	}
}

func TestUpload(t *testing.T) {
	n := start(t, vod.Config{})
	n.ingest.reply = broker.IngestReply{Live: true, Acked: []string{"rec-a"}, Rejected: []string{"rec-b"}}
	body := bytes.Repeat([]byte{0x47, 1, 2, 3}, 1000)
	hdr := uploadHeadersFor(9)

	before := time.Now()
	a := n.do(t, http.MethodPut, broker.IngestPath("cam"), bytes.NewReader(body), hdr).wantStatus(t, http.StatusCreated)
	var reply broker.IngestReply
	if err := json.Unmarshal(a.body, &reply); err != nil {
		t.Fatalf("reply %s: %v", a.body, err)
	}
	if fmt.Sprint(reply) != fmt.Sprint(n.ingest.reply) {
		t.Errorf("reply %+v, want %+v", reply, n.ingest.reply)
	}
	if a.Header.Get("X-Request-ID") == "" {
		t.Errorf("no request id on the answer")
	}
	got := n.ingest.lastUpload(t)
	if got.source != "cam" || got.auth != "Bearer tok" || got.contentLength != len(body) || !bytes.Equal(got.body, body) {
		t.Errorf("upload: source %q auth %q length %d body %d bytes; want cam, Bearer tok, %d, the body", got.source, got.auth, got.contentLength, len(got.body), len(body))
	}
	for _, h := range uploadHeaders {
		if got.headers[h] != hdr[h] {
			t.Errorf("header %s = %q, want %q", h, got.headers[h], hdr[h])
		}
	}
	if got.arrived.Before(before.Add(-time.Second)) || got.arrived.After(time.Now().Add(time.Second)) {
		t.Errorf("arrived %v, want about now", got.arrived)
	}

	// Sent without a length: ingest sees -1 (and answers 411 itself).
	chunked := io.MultiReader(bytes.NewReader(body[:100]), bytes.NewReader(body[100:]))
	req, _ := http.NewRequest(http.MethodPut, n.base+broker.IngestPath("cam"), chunked)
	req.ContentLength = -1
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := n.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if got := n.ingest.lastUpload(t); got.contentLength != -1 || !bytes.Equal(got.body, body) {
		t.Errorf("chunked upload: ContentLength %d, body %d bytes; want -1 and the body", got.contentLength, len(got.body))
	}
}

// TestUploadStringsOutliveTheRequest: what ingest keeps of an upload (names
// for metric labels and the live window) must not change when the next
// request on the same connection reuses fasthttp's buffers.
func TestUploadStringsOutliveTheRequest(t *testing.T) {
	n := start(t, vod.Config{})
	tr := &http.Transport{MaxConnsPerHost: 1}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	names := []string{"cam-a", "cam-b", "cam-c"}
	for i, name := range names {
		hdr := uploadHeadersFor(i)
		hdr[broker.HeaderEdge] = "edge-" + strconv.Itoa(i)
		req, _ := http.NewRequest(http.MethodPut, n.base+broker.IngestPath(name), strings.NewReader("segment"))
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	ups, _ := n.ingest.seen()
	if len(ups) != len(names) {
		t.Fatalf("%d uploads reached ingest, want %d", len(ups), len(names))
	}
	for i, up := range ups {
		if up.source != names[i] || up.headers[broker.HeaderEdge] != "edge-"+strconv.Itoa(i) {
			t.Errorf("upload %d kept source %q edge %q, want %q edge-%d", i, up.source, up.headers[broker.HeaderEdge], names[i], i)
		}
	}
}

func TestUploadErrors(t *testing.T) {
	n := start(t, vod.Config{MaxBodyBytes: 4096})
	n.ingest.setErr(&ingest.Error{Status: http.StatusInsufficientStorage, Message: "segment could not be held", Detail: "raise --live-memory"})
	env := n.do(t, http.MethodPut, broker.IngestPath("cam"), strings.NewReader("segment"), uploadHeadersFor(1)).
		envelope(t, http.StatusInsufficientStorage, "segment could not be held")
	if env.Error.Detail != "raise --live-memory" {
		t.Errorf("detail %q", env.Error.Detail)
	}

	n.ingest.setErr(&ingest.Error{Status: http.StatusForbidden, Message: "edge token missing or wrong"})
	n.do(t, http.MethodPut, broker.IngestPath("cam"), strings.NewReader("segment"), nil).envelope(t, http.StatusForbidden, "edge token")

	// An error that is not ingest's own is the node's fault.
	n.ingest.setErr(errors.New("boom"))
	n.do(t, http.MethodPut, broker.IngestPath("cam"), strings.NewReader("segment"), nil).envelope(t, http.StatusInternalServerError, "boom")

	// Over the listener's bound: 413, and ingest (which reads the body
	// only once it has checked the credential) gets none of it, declared
	// or chunked.
	n.ingest.setErr(nil)
	for _, chunked := range []bool{false, true} {
		req, _ := http.NewRequest(http.MethodPut, n.base+broker.IngestPath("cam"), bytes.NewReader(make([]byte, 4097)))
		if chunked {
			req.ContentLength = -1
		}
		a := n.send(t, req)
		env = a.envelope(t, http.StatusRequestEntityTooLarge, "over 4096 bytes")
		if !strings.Contains(env.Error.Detail, "--max-segment-bytes") {
			t.Errorf("413 detail %q", env.Error.Detail)
		}
		if got := n.ingest.lastUpload(t); len(got.body) != 0 {
			t.Errorf("chunked %v: an oversized body reached ingest (%d bytes)", chunked, len(got.body))
		}
	}
	// Exactly at the bound it reaches ingest.
	n.do(t, http.MethodPut, broker.IngestPath("cam"), bytes.NewReader(make([]byte, 4096)), nil).wantStatus(t, http.StatusCreated)
	if got := n.ingest.lastUpload(t); got.contentLength != 4096 || len(got.body) != 4096 {
		t.Errorf("upload at the bound: length %d, body %d", got.contentLength, len(got.body))
	}

	// Uploads go by PUT, to a flat name.
	n.do(t, http.MethodPost, broker.IngestPath("cam"), strings.NewReader("x"), nil).envelope(t, http.StatusNotFound, "no such playback path")
	n.do(t, http.MethodPut, broker.IngestPath("cam/x"), strings.NewReader("x"), nil).envelope(t, http.StatusNotFound, "no such playback path")
}

func TestRegister(t *testing.T) {
	n := start(t, vod.Config{})
	path := broker.IngestPath("cam") + "/register"
	a := n.do(t, http.MethodPost, path, nil, map[string]string{broker.HeaderEdge: "edge-5", "Authorization": "Bearer tok"}).wantStatus(t, http.StatusOK)
	var reply api.SourceReply
	if err := json.Unmarshal(a.body, &reply); err != nil {
		t.Fatalf("%s: %v", a.body, err)
	}
	if !reply.Success || reply.RequestID == "" || reply.Error != nil {
		t.Errorf("envelope %+v", reply.Envelope)
	}
	if reply.Source.ID != "id-cam" || reply.Source.Name != "cam" || reply.Source.Edge != "edge-5" || !reply.Source.IsStreaming() {
		t.Errorf("source %+v", reply.Source)
	}
	if _, regs := n.ingest.seen(); len(regs) != 1 || regs[0] != (gotRegister{"cam", "edge-5", "Bearer tok"}) {
		t.Errorf("registers %+v, want one of cam by edge-5 with Bearer tok", regs)
	}

	n.ingest.setErr(&ingest.Error{Status: http.StatusNotFound, Message: `source "cam" is not registered`, Detail: "create it"})
	n.do(t, http.MethodPost, path, nil, nil).envelope(t, http.StatusNotFound, "not registered")

	// Only POST, only a flat name.
	n.ingest.setErr(nil)
	_, before := n.ingest.seen()
	n.do(t, http.MethodGet, path, nil, nil).envelope(t, http.StatusNotFound, "no such playback path")
	n.do(t, http.MethodPost, broker.IngestPath("a/b")+"/register", nil, nil).envelope(t, http.StatusNotFound, "no such playback path")
	n.do(t, http.MethodPost, broker.IngestPath("")+"register", nil, nil).envelope(t, http.StatusNotFound, "no such playback path")
	if _, after := n.ingest.seen(); len(after) != len(before) {
		t.Errorf("a bad register path reached ingest")
	}
}

// TestLiveSegmentsWhileTheWindowSlides: players fetching segments while
// uploads slide the window get either the exact bytes or a 404, never
// another segment's bytes or a torn one.
func TestLiveSegmentsWhileTheWindowSlides(t *testing.T) {
	n := start(t, vod.Config{})
	const total = 300
	data := make([][]byte, total)
	for i := range data {
		data[i] = make([]byte, 1000+rand.IntN(30000))
		for j := range data[i] {
			data[i][j] = byte(rand.Uint32())
		}
	}
	first, err := n.live.Append("id-fast", "fast", 1, live.Arrival{Edge: "e", EdgeSeq: 1, Duration: 1}, data[0])
	if err != nil {
		t.Fatal(err)
	}
	var published atomic.Int64 // index of the newest appended segment
	var done atomic.Bool
	var ok200, ok206, gone atomic.Int64

	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for r := range 8 {
		wg.Go(func() {
			for !done.Load() {
				p := int(published.Load())
				i := max(0, p-8+rand.IntN(11)) // mostly held, some gone, some not yet there
				i = min(i, total-1)
				req, _ := http.NewRequest(http.MethodGet, n.base+segPath("fast", first+uint64(i)), nil)
				ranged := r%2 == 1 && len(data[i]) > 600
				if ranged {
					req.Header.Set("Range", "bytes=100-599")
				}
				resp, err := n.hc.Do(req)
				if err != nil {
					errs <- err
					return
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				switch {
				case err != nil:
					errs <- fmt.Errorf("segment %d: reading: %v", i, err)
					return
				case resp.StatusCode == http.StatusOK:
					if !bytes.Equal(b, data[i]) {
						errs <- fmt.Errorf("segment %d: 200 with %d bytes that are not its %d", i, len(b), len(data[i]))
						return
					}
					ok200.Add(1)
				case resp.StatusCode == http.StatusPartialContent && ranged:
					if !bytes.Equal(b, data[i][100:600]) {
						errs <- fmt.Errorf("segment %d: 206 with the wrong bytes", i)
						return
					}
					ok206.Add(1)
				case resp.StatusCode == http.StatusNotFound:
					gone.Add(1)
				default:
					errs <- fmt.Errorf("segment %d: %d %s", i, resp.StatusCode, b)
					return
				}
			}
		})
	}
	for i := 1; i < total; i++ {
		seq, err := n.live.Append("id-fast", "fast", 1, live.Arrival{Edge: "e", EdgeSeq: uint64(i + 1), Duration: 1}, data[i])
		if err != nil {
			t.Fatal(err)
		}
		if seq != first+uint64(i) {
			t.Fatalf("append %d got sequence %d, want %d", i, seq, first+uint64(i))
		}
		published.Store(int64(i))
		if i%10 == 0 {
			// Let the players catch up now and then, so the
			// run covers every state a segment goes through.
			for ok200.Load()+ok206.Load()+gone.Load() < 3*int64(i) && len(errs) == 0 {
				runtime.Gosched()
			}
		}
	}
	done.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	t.Logf("200: %d, 206: %d, 404: %d", ok200.Load(), ok206.Load(), gone.Load())
	if ok200.Load() == 0 || ok206.Load() == 0 || gone.Load() == 0 {
		t.Errorf("the run did not cover whole, ranged and gone segments")
	}
}
