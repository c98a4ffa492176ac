package edged

import (
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func tsPlaylist(seq int, segs ...string) []byte {
	var b strings.Builder
	b.WriteString("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:")
	b.WriteString(strconv.Itoa(seq) + "\n")
	for _, s := range segs {
		b.WriteString("#EXTINF:2.000000,\n" + s + "\n")
	}
	return []byte(b.String())
}

func writeSegments(t *testing.T, dir string, names ...string) {
	t.Helper()
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("\x47segment "+n), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func ringOf(e *Edge) []*segment {
	var got []*segment
	for s := e.ring.after("cam", 0); s != nil; s = e.ring.after("cam", s.Seq) {
		got = append(got, s)
	}
	return got
}

// Several new segments in one push without program date-times get rising
// starts, the newest ending at the push: recordings order by start.
func TestOnePushOfSeveralSegmentsGetsRisingStarts(t *testing.T) {
	e, dir, _ := fmp4Edge(t)
	writeSegments(t, dir, "s0.ts", "s1.ts", "s2.ts")
	before := time.Now()
	if rec := push(e, http.MethodPost, "/v1/playlist", dir, tsPlaylist(0, "s0.ts", "s1.ts", "s2.ts")); rec.Code != http.StatusOK {
		t.Fatalf("push = %d %s", rec.Code, rec.Body)
	}
	got := ringOf(e)
	if len(got) != 3 {
		t.Fatalf("ring holds %d segments", len(got))
	}
	for i := 1; i < 3; i++ {
		if d := got[i].Start.Sub(got[i-1].Start); d != 2*time.Second {
			t.Errorf("segment %d starts %v after the one before, want its length (2s)", i, d)
		}
	}
	if end := got[2].end(); end.Before(before) || end.After(time.Now()) {
		t.Errorf("the newest ends at %v, want the push's time", end)
	}
}

// A rendition's pushes at /v1/playlist/{rendition} keep their own tracker
// and numbers; ffmpeg's master at /v1/playlist/master.m3u8 says what each
// is, and goes with its segments.
func TestRenditionPushes(t *testing.T) {
	e, dir, _ := fmp4Edge(t)
	writeSegments(t, dir, "a_0_0.ts", "a_0_1.ts", "a_1_0.ts", "a_1_1.ts")
	master := "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-STREAM-INF:BANDWIDTH=880000,RESOLUTION=640x360,CODECS=\"avc1.64001e\"\n0.m3u8\n" +
		"#EXT-X-STREAM-INF:BANDWIDTH=2200000,RESOLUTION=1280x720,CODECS=\"avc1.64001f\"\n1.m3u8\n"
	for _, p := range []struct{ path, body string }{
		{"/v1/playlist/0", string(tsPlaylist(0, "a_0_0.ts"))},
		{"/v1/playlist/1", string(tsPlaylist(0, "a_1_0.ts"))},
		{"/v1/playlist/master.m3u8", master},
		{"/v1/playlist/0", string(tsPlaylist(0, "a_0_0.ts", "a_0_1.ts"))},
		{"/v1/playlist/1", string(tsPlaylist(0, "a_1_0.ts", "a_1_1.ts"))},
	} {
		if rec := push(e, http.MethodPost, p.path, dir, []byte(p.body)); rec.Code != http.StatusOK {
			t.Fatalf("%s = %d %s", p.path, rec.Code, rec.Body)
		}
	}
	got := ringOf(e)
	if len(got) != 4 {
		t.Fatalf("ring holds %d segments, want 4", len(got))
	}
	want := []struct {
		rendition string
		rseq      uint64
		variant   string
	}{{"0", 1, ""}, {"1", 1, ""}, {"0", 2, "RESOLUTION=640x360"}, {"1", 2, "RESOLUTION=1280x720"}}
	for i, w := range want {
		s := got[i]
		if s.Rendition != w.rendition || s.RSeq != w.rseq || !strings.Contains(s.Variant, w.variant) || s.Seq != uint64(i+1) {
			t.Errorf("segment %d: rendition %q rseq %d seq %d variant %q, want %+v", i, s.Rendition, s.RSeq, s.Seq, s.Variant, w)
		}
		if s.Discontinuity != (w.rseq == 1) {
			t.Errorf("segment %d: discontinuity %v", i, s.Discontinuity)
		}
	}
	for _, bad := range []struct {
		path, body string
		code       int
		says       string
	}{
		{"/v1/playlist/a%20b", string(tsPlaylist(0, "a_0_0.ts")), http.StatusBadRequest, "rendition"},
		{"/v1/playlist/master.m3u8", "#EXTM3U\n#EXT-X-STREAM-INF:RESOLUTION=1x1\n0.m3u8\n", http.StatusBadRequest, "BANDWIDTH"},
		{"/v1/playlist/master.m3u8", "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n../../x y.m3u8\n", http.StatusBadRequest, "does not name a rendition"},
		{"/v1/playlist", master, http.StatusUnsupportedMediaType, "/v1/playlist/%v"},
	} {
		rec := push(e, http.MethodPost, bad.path, dir, []byte(bad.body))
		if rec.Code != bad.code || !strings.Contains(rec.Body.String(), bad.says) {
			t.Errorf("%s %q = %d %s, want %d saying %q", bad.path, bad.body, rec.Code, rec.Body, bad.code, bad.says)
		}
	}
}
