package edged

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPushWithoutAllowDir: an edge started without --allow-dir (one that
// only pulls cameras) refuses a push with a 403 that says how to allow it,
// and reads nothing.
func TestPushWithoutAllowDir(t *testing.T) {
	dir := t.TempDir()
	seg := filepath.Join(dir, "seg0.ts")
	if err := os.WriteFile(seg, []byte("secret bytes"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Name: "edge-t", Listen: "127.0.0.1:0",
		MQTT: "mqtt://127.0.0.1:1", Ingest: "http://127.0.0.1:1",
		Buffer: time.Minute, BufferBytes: 8 << 20,
		MaxPlaylistBytes: 1 << 20, MaxSegmentBytes: 1 << 20, Heartbeat: time.Second,
	}
	e, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), "test")
	if err != nil {
		t.Fatalf("New without --allow-dir: %v", err)
	}
	defer e.ln.Close()
	body := "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:2.0,\nseg0.ts\n"
	req := httptest.NewRequest(http.MethodPost, "/v1/playlist", strings.NewReader(body))
	req.Header.Set("Video-Source-Name", "cam")
	req.Header.Set("MPEG-TS-URI-Prefix", dir+"/")
	rec := httptest.NewRecorder()
	e.routes().ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "--allow-dir") {
		t.Fatalf("push without --allow-dir = %d %q, want 403 naming --allow-dir", rec.Code, rec.Body.String())
	}
	if n, _, _, _ := e.ring.stats("cam"); n != 0 {
		t.Errorf("ring holds %d segments of a refused push", n)
	}
}

// TestPushOfFormNotCarried: an fMP4 push with its init segment inside the
// media file (ffmpeg -hls_flags single_file) or a multivariant playlist is
// refused with a 415 that names the form and what to push instead, before
// any segment is read, and logged once.
func TestPushOfFormNotCarried(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "seg0.m4s"), []byte("moof"), 0o600); err != nil {
		t.Fatal(err)
	}
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
	defer e.ln.Close()
	single := "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-MAP:URI=\"seg0.m4s\",BYTERANGE=\"720@0\"\n#EXTINF:2.0,\n#EXT-X-BYTERANGE:100@720\nseg0.m4s\n"
	for range 3 {
		req := httptest.NewRequest(http.MethodPost, "/v1/playlist", strings.NewReader(single))
		req.Header.Set("Video-Source-Name", "cam")
		req.Header.Set("MPEG-TS-URI-Prefix", dir+"/")
		rec := httptest.NewRecorder()
		e.routes().ServeHTTP(rec, req)
		if rec.Code != http.StatusUnsupportedMediaType || !strings.Contains(rec.Body.String(), "BYTERANGE") || !strings.Contains(rec.Body.String(), "single_file") {
			t.Fatalf("single-file fMP4 push = %d %q, want 415 naming the form and what to push", rec.Code, rec.Body.String())
		}
	}
	if n, _, _, _ := e.ring.stats("cam"); n != 0 {
		t.Errorf("ring holds %d segments of a refused push", n)
	}
	if got := strings.Count(logs.String(), "playlist form not carried"); got != 1 {
		t.Errorf("logged %d times for three pushes, want once:\n%s", got, logs.String())
	}
}
