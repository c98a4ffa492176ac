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
