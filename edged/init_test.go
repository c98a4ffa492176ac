package edged

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lmx-video/lmx/broker"
)

// fmp4Edge is an edge with an allowed directory and no control node
// reachable (pushes are taken, nothing is uploaded), and its log.
func fmp4Edge(t *testing.T) (*Edge, string, *strings.Builder) {
	t.Helper()
	dir := t.TempDir()
	var logs strings.Builder
	cfg := Config{
		Name: "edge-t", Listen: "127.0.0.1:0",
		MQTT: "mqtt://127.0.0.1:1", Ingest: "http://127.0.0.1:1", AllowDirs: []string{dir},
		Buffer: time.Minute, BufferBytes: 8 << 20,
		MaxPlaylistBytes: 1 << 20, MaxSegmentBytes: 1 << 20, Heartbeat: time.Second,
	}
	e, err := New(cfg, slog.New(slog.NewTextHandler(&logs, nil)), "test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.ln.Close() })
	return e, dir, &logs
}

// push sends body to path with LiveMix's headers for source cam in dir.
func push(e *Edge, method, path, dir string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("Video-Source-Name", "cam")
	req.Header.Set("MPEG-TS-URI-Prefix", "file://"+dir)
	rec := httptest.NewRecorder()
	e.routes().ServeHTTP(rec, req)
	return rec
}

func fmp4Playlist(initName string, seq int, segs ...string) []byte {
	var b strings.Builder
	b.WriteString("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:1\n")
	b.WriteString("#EXT-X-MEDIA-SEQUENCE:" + strconv.Itoa(seq) + "\n")
	b.WriteString(`#EXT-X-MAP:URI="` + initName + "\"\n")
	for _, s := range segs {
		b.WriteString("#EXTINF:1.000000,\n" + s + "\n")
	}
	return []byte(b.String())
}

// TestPushFMP4: what ffmpeg -hls_segment_type fmp4 sends: the init
// segment to /v1/init.mp4 (POST, or PUT with -method PUT, under the name
// of -hls_fmp4_init_filename), then playlists naming it in EXT-X-MAP. The
// ring's segments follow it; a new run with another init segment under
// the same name starts with a discontinuity and follows the new one,
// while the old run's segments keep theirs.
func TestPushFMP4(t *testing.T) {
	e, dir, _ := fmp4Edge(t)
	for _, n := range []string{"a0.m4s", "a1.m4s", "b0.m4s"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("moof "+n), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	initA, initB := []byte("ftyp moov 320x240"), []byte("ftyp moov 640x480")
	if rec := push(e, http.MethodPost, "/v1/init.mp4", dir, initA); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), broker.InitID(initA)) {
		t.Fatalf("init POST = %d %s", rec.Code, rec.Body)
	}
	if rec := push(e, http.MethodPost, "/v1/playlist", dir, fmp4Playlist("init.mp4", 0, "a0.m4s", "a1.m4s")); rec.Code != http.StatusOK {
		t.Fatalf("playlist = %d %s", rec.Code, rec.Body)
	}
	// ffmpeg restarted with other parameters: the same name, other bytes.
	if rec := push(e, http.MethodPut, "/v1/init.mp4", dir, initB); rec.Code != http.StatusOK {
		t.Fatalf("init PUT = %d %s", rec.Code, rec.Body)
	}
	if rec := push(e, http.MethodPost, "/v1/playlist", dir, fmp4Playlist("init.mp4", 0, "b0.m4s")); rec.Code != http.StatusOK {
		t.Fatalf("playlist of the new run = %d %s", rec.Code, rec.Body)
	}
	var got []*segment
	for s := e.ring.after("cam", 0); s != nil; s = e.ring.after("cam", s.Seq) {
		got = append(got, s)
	}
	if len(got) != 3 {
		t.Fatalf("ring holds %d segments, want 3", len(got))
	}
	for i, want := range []struct {
		init []byte
		disc bool
	}{{initA, true}, {initA, false}, {initB, true}} {
		s := got[i]
		if s.Init == nil || !bytes.Equal(s.Init.Data, want.init) || s.Init.ID != broker.InitID(want.init) || s.Init.Name != "init.mp4" {
			t.Errorf("segment %d (%s) follows %+v, want %q", i, s.Name, s.Init, want.init)
		}
		if s.Discontinuity != want.disc {
			t.Errorf("segment %d (%s): discontinuity %v, want %v", i, s.Name, s.Discontinuity, want.disc)
		}
	}
	// The bitrate is the media's: init segments are not in the ring's bytes.
	if _, bytes, _, _ := e.ring.stats("cam"); bytes != int64(len("moof a0.m4smoof a1.m4smoof b0.m4s")) {
		t.Errorf("ring bytes %d count more than the media segments", bytes)
	}
}

// TestPushFMP4Refusals: an fMP4 playlist whose init segment never came is
// refused with a 424 saying so (logged once), an init segment over the
// bound with a 413, an empty one with a 400, one with a bad name or a bad
// method clearly, and one with bad push headers like a playlist would be.
func TestPushFMP4Refusals(t *testing.T) {
	e, dir, logs := fmp4Edge(t)
	if err := os.WriteFile(filepath.Join(dir, "a0.m4s"), []byte("moof"), 0o600); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		rec := push(e, http.MethodPost, "/v1/playlist", dir, fmp4Playlist("init.mp4", 0, "a0.m4s"))
		if rec.Code != http.StatusFailedDependency || !strings.Contains(rec.Body.String(), "init.mp4") || !strings.Contains(rec.Body.String(), "restart ffmpeg") {
			t.Fatalf("playlist without its init = %d %s, want 424 naming init.mp4", rec.Code, rec.Body)
		}
	}
	if n := strings.Count(logs.String(), "fMP4 init segment missing"); n != 1 {
		t.Errorf("logged %d times for three pushes, want once:\n%s", n, logs)
	}
	if n, _, _, _ := e.ring.stats("cam"); n != 0 {
		t.Errorf("ring holds %d segments of refused pushes", n)
	}
	for name, c := range map[string]struct {
		method, path string
		body         []byte
		code         int
		says         string
	}{
		"over the bound": {http.MethodPost, "/v1/init.mp4", make([]byte, broker.MaxInitBytes+1), http.StatusRequestEntityTooLarge, "over"},
		"empty":          {http.MethodPost, "/v1/init.mp4", nil, http.StatusBadRequest, "empty"},
		"GET":            {http.MethodGet, "/v1/init.mp4", nil, http.StatusMethodNotAllowed, "POST"},
		"not .mp4":       {http.MethodPost, "/v1/init.bin", []byte("x"), http.StatusNotFound, "/v1/init.mp4"},
		"a master":       {http.MethodPost, "/v1/master.m3u8", []byte("#EXTM3U"), http.StatusUnsupportedMediaType, "multivariant"},
		"bad name":       {http.MethodPost, "/v1/a:b.mp4", []byte("x"), http.StatusBadRequest, "':'"},
	} {
		rec := push(e, c.method, c.path, dir, c.body)
		if rec.Code != c.code || !strings.Contains(rec.Body.String(), c.says) {
			t.Errorf("%s: %d %s, want %d saying %q", name, rec.Code, rec.Body, c.code, c.says)
		}
	}
	req := httptest.NewRequest(http.MethodPost, "/v1/init.mp4", strings.NewReader("ftyp"))
	req.Header.Set("Video-Source-Name", "cam")
	rec := httptest.NewRecorder()
	e.routes().ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), HeaderURIPrefix) {
		t.Errorf("init without %s = %d %s, want 400 naming it", HeaderURIPrefix, rec.Code, rec.Body)
	}
	req = httptest.NewRequest(http.MethodPost, "/v1/init.mp4", strings.NewReader("ftyp"))
	req.Header.Set("Video-Source-Name", "cam")
	req.Header.Set("MPEG-TS-URI-Prefix", "file:///etc")
	rec = httptest.NewRecorder()
	e.routes().ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden {
		t.Errorf("init for a directory outside --allow-dir = %d %s, want 403", rec.Code, rec.Body)
	}
}

// initIngest is a control node's ingest that records what arrives and can
// forget the init segments it holds (as a restarted one has).
type initIngest struct {
	mu     sync.Mutex
	inits  map[string]bool
	calls  []string // "init ID" or "segment NAME ID"
	forget bool
}

func (f *initIngest) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.inits == nil {
		f.inits = map[string]bool{}
	}
	id := r.Header.Get(broker.HeaderInit)
	if strings.HasSuffix(r.URL.Path, broker.InitPathSuffix) {
		if broker.InitID(body) != id || r.Header.Get(broker.HeaderInitName) != "init.mp4" {
			http.Error(w, "bad init", http.StatusBadRequest)
			return
		}
		f.calls = append(f.calls, "init "+id)
		f.inits[id] = true
		w.WriteHeader(http.StatusCreated)
		return
	}
	if f.forget {
		f.inits, f.forget = map[string]bool{}, false
	}
	if !f.inits[id] {
		f.calls = append(f.calls, "missing "+r.Header.Get(broker.HeaderSegmentName))
		http.Error(w, "init not held", broker.StatusInitMissing)
		return
	}
	f.calls = append(f.calls, "segment "+r.Header.Get(broker.HeaderSegmentName)+" "+r.Header.Get("Content-Type"))
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write([]byte(`{"live":true}`))
}

// TestUploadInitFirst: an fMP4 segment's init segment is uploaded before
// the first segment that follows it and not again; a control node that
// lost it (answering 424) gets it again, then the segment.
func TestUploadInitFirst(t *testing.T) {
	fake := &initIngest{}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	up := newUploader(srv.URL, "edge-t", "", "boot1", nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	iseg := &initSegment{ID: broker.InitID([]byte("ftyp moov")), Name: "init.mp4", Data: []byte("ftyp moov")}
	ctx := context.Background()
	for i, name := range []string{"a0.m4s", "a1.m4s", "a2.m4s"} {
		if i == 2 {
			fake.mu.Lock()
			fake.forget = true
			fake.mu.Unlock()
		}
		seg := &segment{Seq: uint64(i + 1), Name: name, Duration: 1, Start: time.Now(), Data: []byte("moof"), Init: iseg}
		if _, err := up.upload(ctx, "cam", seg, true, nil); err != nil {
			t.Fatalf("upload %s: %v", name, err)
		}
	}
	want := []string{
		"init " + iseg.ID,
		"segment a0.m4s video/iso.segment",
		"segment a1.m4s video/iso.segment",
		"missing a2.m4s",
		"init " + iseg.ID,
		"segment a2.m4s video/iso.segment",
	}
	if got := strings.Join(fake.calls, "\n"); got != strings.Join(want, "\n") {
		t.Fatalf("uploads:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}
