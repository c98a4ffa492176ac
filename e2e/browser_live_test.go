package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestBrowserPlaysLive plays a live stream in a real browser: ffmpeg → edge
// → control node → hls.js in headless Chromium, on a page of another origin.
// The page has nothing but a signed URL (`lmx source url`): no token, no
// cookie, no header; the grant the playlist carries is on every segment URI
// it lists. The same playlist unsigned is a fatal 403 in the browser.
func TestBrowserPlaysLive(t *testing.T) {
	t.Parallel()
	browserDeps(t) // fail before starting the daemons when Chromium is missing
	const src = "cam-browser"
	cn := startControld(t)
	edge := startEdge(t, lmxBin, "edge-browser", cn, t.TempDir())
	startFFmpeg(t, edge, src, edge.allowDir)
	waitSourceKnown(t, cn, src, 20*time.Second)
	mustLMX(t, cn, "source", "stream", "on", src, "--timeout", "30s")
	waitLive(t, cn.liveURL(src), 20*time.Second)
	live := sourceURL(t, cn, src, "--ttl", "10m")
	goodFetch(t, live) // every segment URI in it carries the grant

	t.Run("play", func(t *testing.T) {
		t.Parallel()
		res := playInBrowser(t, live, browserOpts{PlaySeconds: 5, SwitchLevel: -1, Timeout: 45 * time.Second})
		if res.FatalError != "" {
			t.Fatalf("fatal error: %s (HTTP status %d)", res.FatalError, res.HTTPStatus)
		}
		if len(res.Levels) < 1 {
			t.Errorf("levels %v, want at least one", res.Levels)
		}
		if res.FragmentsLoaded < 3 {
			t.Errorf("%d fragments loaded, want at least 3", res.FragmentsLoaded)
		}
		if res.PlayedSeconds < 4 {
			t.Errorf("played %.2f s, want at least 4", res.PlayedSeconds)
		}
		if res.VideoWidth != 320 || res.VideoHeight != 240 {
			t.Errorf("video %dx%d, want the test pattern's 320x240", res.VideoWidth, res.VideoHeight)
		}
		if res.DecodedFrames < 4*25/2 {
			t.Errorf("%d frames decoded in %.2f s of 25 fps video", res.DecodedFrames, res.PlayedSeconds)
		}
		if res.ManifestURL != live {
			t.Errorf("hls.js loaded %s, want %s", res.ManifestURL, live)
		}
	})

	// Two variants, both the signed live playlist (the second with a query
	// parameter of its own beside the grant), in a multivariant playlist on
	// a third origin: the page starts on level 0 and switches to level 1.
	t.Run("switch-level", func(t *testing.T) {
		t.Parallel()
		master := fmt.Sprintf("#EXTM3U\n"+
			"#EXT-X-STREAM-INF:BANDWIDTH=300000,RESOLUTION=320x240\n%s\n"+
			"#EXT-X-STREAM-INF:BANDWIDTH=600000,RESOLUTION=320x240\n%s&variant=2\n", live, live)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Access-Control-Allow-Origin", "*")
			w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
			fmt.Fprint(w, master)
		}))
		defer srv.Close()
		res := playInBrowser(t, srv.URL+"/master.m3u8", browserOpts{PlaySeconds: 3, SwitchLevel: 1, Timeout: 45 * time.Second})
		if res.FatalError != "" {
			t.Fatalf("fatal error: %s (HTTP status %d)", res.FatalError, res.HTTPStatus)
		}
		if len(res.Levels) != 2 || res.Levels[0].Bitrate != 300000 || res.Levels[1].Height != 240 {
			t.Errorf("levels %v, want the two variants of the multivariant playlist", res.Levels)
		}
		if res.LevelSwitched != 1 {
			t.Errorf("level switched %d, want 1", res.LevelSwitched)
		}
	})

	// Without its grant the same playlist is refused, and the refusal
	// reaches the page as what it is: a fatal error with HTTP status 403
	// (the answer carries CORS headers, or the browser would hide its status).
	t.Run("unsigned", func(t *testing.T) {
		t.Parallel()
		res := playInBrowser(t, cn.liveURL(src), browserOpts{SwitchLevel: -1, Timeout: 30 * time.Second})
		if res.FatalError == "" || res.HTTPStatus != http.StatusForbidden {
			t.Errorf("result %s, want a fatal error with HTTP status 403", res)
		}
		if !strings.Contains(res.FatalError, "manifestLoadError") {
			t.Errorf("fatal error %q, want a manifestLoadError", res.FatalError)
		}
		if res.FragmentsLoaded != 0 || res.PlayedSeconds != 0 {
			t.Errorf("the unsigned playlist played: %s", res)
		}
	})
}

// TestBrowserReportsFailures checks that the browser helper reports a
// failure as one: a playlist the control node answers 404 (the signed URL
// of a source that is not streaming), and one served without CORS headers,
// which the browser must refuse to hand to hls.js.
func TestBrowserReportsFailures(t *testing.T) {
	t.Parallel()
	browserDeps(t)
	cn := startControld(t)
	mustLMX(t, cn, "source", "add", "idle-source")
	idle := sourceURL(t, cn, "idle-source")

	t.Run("404", func(t *testing.T) {
		t.Parallel()
		res := playInBrowser(t, idle, browserOpts{SwitchLevel: -1, Timeout: 30 * time.Second})
		if res.FatalError == "" || res.HTTPStatus != http.StatusNotFound {
			t.Errorf("result %s, want a fatal error with HTTP status 404", res)
		}
		if !strings.Contains(res.FatalError, "manifestLoadError") {
			t.Errorf("fatal error %q, want a manifestLoadError", res.FatalError)
		}
	})

	t.Run("no-cors", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
			fmt.Fprint(w, "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:1.0,\nseg-0.ts\n")
		}))
		defer srv.Close()
		res := playInBrowser(t, srv.URL+"/vid.m3u8", browserOpts{SwitchLevel: -1, Timeout: 30 * time.Second})
		if !strings.Contains(res.FatalError, "manifestLoadError") || res.HTTPStatus != 0 {
			t.Errorf("result %s, want a fatal manifestLoadError without an HTTP status (the browser hides a cross-origin answer without CORS headers)", res)
		}
	})
}
