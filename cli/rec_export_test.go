package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/lmx-video/lmx/api"
)

// recServer is a playback listener serving one recording: a playlist and
// its segments, by name. It notes which paths were asked for, and what the
// output directory held while the second segment was being served.
type recServer struct {
	*httptest.Server
	mu       sync.Mutex
	playlist string
	segments map[string][]byte
	fail     map[string]int // path -> status to answer instead
	asked    []string
	// While serving 1.ts: the names in dir, to see the .part being written.
	dir       string
	dirDuring []string
}

const recPath = "/v1/vod/recording/" + recStopped + "/"

func newRecServer(t *testing.T, playlist string, segments map[string][]byte) *recServer {
	s := &recServer{playlist: playlist, segments: segments, fail: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *recServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.asked = append(s.asked, r.URL.Path)
	name, ok := strings.CutPrefix(r.URL.Path, recPath)
	if status := s.fail[name]; status != 0 {
		http.Error(w, `{"success":false,"error":{"code":503,"message":"recorded segment unavailable"}}`, status)
		return
	}
	if name == "1.ts" && s.dir != "" {
		entries, _ := os.ReadDir(s.dir)
		for _, e := range entries {
			s.dirDuring = append(s.dirDuring, e.Name())
		}
	}
	switch seg, isSeg := s.segments[name]; {
	case ok && name == "vid.m3u8":
		w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
		io.WriteString(w, s.playlist)
	case ok && isSeg:
		w.Header().Set("Content-Type", "video/mp2t")
		w.Write(seg)
	default:
		http.NotFound(w, r)
	}
}

func (s *recServer) playlistURL() string { return s.URL + recPath + "vid.m3u8" }

// playlist renders a recording playlist of 2-second segments named 0.ts,
// 1.ts, …; disc marks the segments after a discontinuity.
func playlist(ended bool, n int, disc ...int) string {
	var b strings.Builder
	typ := "EVENT"
	if ended {
		typ = "VOD"
	}
	fmt.Fprintf(&b, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:%s\n", typ)
	for i := range n {
		if slices.Contains(disc, i) {
			b.WriteString("#EXT-X-DISCONTINUITY\n")
		}
		fmt.Fprintf(&b, "#EXT-X-PROGRAM-DATE-TIME:2025-03-01T10:00:%02d.000Z\n#EXTINF:2.000,\n%d.ts\n", 2*i, i)
	}
	if ended {
		b.WriteString("#EXT-X-ENDLIST\n")
	}
	return b.String()
}

// threeSegments are three segments with different bytes and lengths.
func threeSegments() map[string][]byte {
	return map[string][]byte{
		"0.ts": bytes.Repeat([]byte{'a'}, 1000),
		"1.ts": bytes.Repeat([]byte{'b'}, 2000),
		"2.ts": bytes.Repeat([]byte{'c'}, 500),
	}
}

// exportFake is recFake with the stopped recording played back from srv.
func exportFake(srv *recServer) *fakeClient {
	fc := recFake()
	fc.recordings[fc.findRec(recStopped)].PlaybackURL = srv.playlistURL()
	return fc
}

func TestWriteSegmentsInOrder(t *testing.T) {
	srv := newRecServer(t, playlist(true, 3), threeSegments())
	f := httpFetcher{client: srv.Client()}
	pl, base, err := fetchPlaylist(context.Background(), f, srv.playlistURL())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	res, err := writeSegments(context.Background(), f, base, pl, &buf, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	want := string(bytes.Repeat([]byte{'a'}, 1000)) + string(bytes.Repeat([]byte{'b'}, 2000)) + string(bytes.Repeat([]byte{'c'}, 500))
	if buf.String() != want {
		t.Errorf("wrote %d bytes not in playlist order", buf.Len())
	}
	if res.segments != 3 || res.bytes != 3500 || res.seconds != 6 || res.discontinuities != 0 {
		t.Errorf("result %+v", res)
	}
	wantAsked := []string{recPath + "vid.m3u8", recPath + "0.ts", recPath + "1.ts", recPath + "2.ts"}
	if !slices.Equal(srv.asked, wantAsked) {
		t.Errorf("asked %v, want %v", srv.asked, wantAsked)
	}
}

// mapFetcher serves URLs from a map and fails the ones in fail.
type mapFetcher struct {
	bodies map[string]string
	fail   map[string]error
	asked  []string
}

func (m *mapFetcher) fetch(_ context.Context, u string) (io.ReadCloser, error) {
	m.asked = append(m.asked, u)
	if err := m.fail[u]; err != nil {
		return nil, err
	}
	b, ok := m.bodies[u]
	if !ok {
		return nil, &statusError{url: u, status: "404 Not Found"}
	}
	return io.NopCloser(strings.NewReader(b)), nil
}

func TestWriteSegmentsResolvesURIs(t *testing.T) {
	// Segment URIs are relative to the playlist, or absolute.
	pl := "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\n0.ts\n#EXTINF:4,\n../other/1.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:3.5,\nhttp://cdn.example/2.ts\n#EXT-X-ENDLIST\n"
	m := &mapFetcher{bodies: map[string]string{
		"http://ctl/v1/vod/recording/r/vid.m3u8": pl,
		"http://ctl/v1/vod/recording/r/0.ts":     "zero,",
		"http://ctl/v1/vod/recording/other/1.ts": "one,",
		"http://cdn.example/2.ts":                "two",
	}}
	ctx := context.Background()
	p, base, err := fetchPlaylist(ctx, m, "http://ctl/v1/vod/recording/r/vid.m3u8")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	res, err := writeSegments(ctx, m, base, p, &buf, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if buf.String() != "zero,one,two" || res.seconds != 11.5 || res.discontinuities != 1 {
		t.Errorf("wrote %q, %+v", buf.String(), res)
	}
}

func TestReplaceFileRemovesPartOnFailure(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "clip.ts")
	m := &mapFetcher{
		bodies: map[string]string{"http://ctl/r/0.ts": "zero"},
		fail:   map[string]error{"http://ctl/r/1.ts": errors.New("connection reset by peer")},
	}
	p := "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\n0.ts\n#EXTINF:2,\n1.ts\n#EXTINF:2,\n2.ts\n"
	m.bodies["http://ctl/r/vid.m3u8"] = p
	ctx := context.Background()
	pl, base, err := fetchPlaylist(ctx, m, "http://ctl/r/vid.m3u8")
	if err != nil {
		t.Fatal(err)
	}
	err = replaceFile(out, func(part string) error {
		_, err := writeSegmentsTo(ctx, m, base, pl, part, slog.New(slog.DiscardHandler))
		return err
	})
	if err == nil || err.Error() != "segment 2 of 3: connection reset by peer" {
		t.Errorf("error %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("left %v behind", entries)
	}
	if len(m.asked) != 3 {
		t.Errorf("asked %v: went on after a failure", m.asked)
	}
}

func TestRecExportTS(t *testing.T) {
	srv := newRecServer(t, playlist(true, 3), threeSegments())
	dir := t.TempDir()
	srv.dir = dir
	out := filepath.Join(dir, "clip.ts")
	r := runCLI(t, exportFake(srv), "rec", "export", recStopped, "-o", out)
	wantOK(t, r, "wrote "+out+": 3.4 KiB (3500 bytes), 6s in 3 segments\n")

	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3500 || got[0] != 'a' || got[999] != 'a' || got[1000] != 'b' || got[2999] != 'b' || got[3000] != 'c' {
		t.Errorf("file is not the segments in order (%d bytes)", len(got))
	}
	// Written as clip.ts.part, renamed once complete.
	if !slices.Equal(srv.dirDuring, []string{"clip.ts.part"}) {
		t.Errorf("while downloading the directory held %v, want [clip.ts.part]", srv.dirDuring)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("directory holds %v, want only clip.ts", entries)
	}
}

func TestRecExportRefusesOverwrite(t *testing.T) {
	srv := newRecServer(t, playlist(true, 3), threeSegments())
	dir := t.TempDir()
	out := filepath.Join(dir, "clip.ts")
	if err := os.WriteFile(out, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	fc := exportFake(srv)
	wantErr(t, runCLI(t, fc, "rec", "export", recStopped, "-o", out), 1, out+" exists: pass --force to overwrite it")
	if b, _ := os.ReadFile(out); string(b) != "keep me" {
		t.Errorf("file changed to %d bytes", len(b))
	}
	if len(fc.recCalls) != 0 || len(srv.asked) != 0 {
		t.Errorf("asked the servers before refusing: %v %v", fc.recCalls, srv.asked)
	}

	r := runCLI(t, fc, "rec", "export", recStopped, "-o", out, "--force")
	wantOK(t, r, "wrote "+out+": 3.4 KiB (3500 bytes), 6s in 3 segments\n")
	if fi, _ := os.Stat(out); fi.Size() != 3500 {
		t.Errorf("not overwritten: %d bytes", fi.Size())
	}

	wantErr(t, runCLI(t, fc, "rec", "export", recStopped, "-o", dir, "--force"), 1,
		dir+" is a directory: give a file name, such as "+filepath.Join(dir, "clip.ts"))
}

func TestRecExportActive(t *testing.T) {
	srv := newRecServer(t, playlist(false, 2, 1), threeSegments())
	fc := exportFake(srv)
	i := fc.findRec(recStopped)
	fc.recordings[i].Active = api.ActiveOn
	out := filepath.Join(t.TempDir(), "clip.ts")
	wantOK(t, runCLI(t, fc, "rec", "export", recStopped, "-o", out),
		"wrote "+out+": 2.9 KiB (3000 bytes), 4s in 2 segments\n"+
			"note: 1 discontinuities (gaps or encoder restarts): timestamps jump there; see lmx rec show "+recStopped+"\n"+
			"note: recording "+recStopped+" is still recording: this is what it held so far; export again after lmx rec stop "+recStopped+" for all of it\n")
}

func TestRecExportErrors(t *testing.T) {
	t.Run("segment fails", func(t *testing.T) {
		srv := newRecServer(t, playlist(true, 3), threeSegments())
		srv.fail["1.ts"] = http.StatusServiceUnavailable
		dir := t.TempDir()
		r := runCLI(t, exportFake(srv), "rec", "export", recStopped, "-o", filepath.Join(dir, "clip.ts"))
		wantErr(t, r, 1, "segment 2 of 3: GET "+srv.URL+recPath+"1.ts: 503 Service Unavailable: "+
			`{"success":false,"error":{"code":503,"message":"recorded segment unavailable"}}`)
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("left %v behind", entries)
		}
	})
	t.Run("no segments", func(t *testing.T) {
		srv := newRecServer(t, playlist(true, 0), nil)
		dir := t.TempDir()
		wantErr(t, runCLI(t, exportFake(srv), "rec", "export", recStopped, "-o", filepath.Join(dir, "clip.ts")), 1,
			"recording "+recStopped+" holds no segments yet: nothing to export")
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("left %v behind", entries)
		}
	})
	t.Run("bad playlist", func(t *testing.T) {
		srv := newRecServer(t, "<html>not a playlist</html>", nil)
		wantErr(t, runCLI(t, exportFake(srv), "rec", "export", recStopped, "-o", filepath.Join(t.TempDir(), "clip.ts")), 1,
			"reading the recording's playlist "+srv.playlistURL()+`: hls: playlist syntax error: line 1: playlist must start with #EXTM3U, found "<html>not a playlist</html>"`)
	})
	t.Run("playlist 404", func(t *testing.T) {
		srv := newRecServer(t, "", nil)
		fc := exportFake(srv)
		fc.recordings[fc.findRec(recStopped)].PlaybackURL = srv.URL + "/elsewhere.m3u8"
		wantErr(t, runCLI(t, fc, "rec", "export", recStopped, "-o", filepath.Join(t.TempDir(), "clip.ts")), 1,
			"fetching the recording's playlist: GET "+srv.URL+"/elsewhere.m3u8: 404 Not Found: 404 page not found")
	})
	t.Run("playback unreachable", func(t *testing.T) {
		srv := newRecServer(t, "", nil)
		fc := exportFake(srv)
		srv.Close()
		r := runCLI(t, fc, "rec", "export", recStopped, "-o", filepath.Join(t.TempDir(), "clip.ts"))
		if r.code != 1 || !strings.HasPrefix(r.stderr, "lmx: fetching the recording's playlist: Get ") ||
			!strings.HasSuffix(r.stderr, "(the playback address is the control node's --public-url: is it reachable from here?)\n") {
			t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
		}
	})
	t.Run("no playback URL", func(t *testing.T) {
		wantErr(t, runCLI(t, recFake(), "rec", "export", recEmpty, "-o", filepath.Join(t.TempDir(), "clip.ts")), 1,
			"recording "+recEmpty+" has no playback URL: the control node does not know its public address (lmx controld --public-url)")
	})
}

func TestRecExportWithoutFFmpeg(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	for _, name := range []string{"clip.mp4", "clip.MKV", "clip.mov"} {
		fc := recFake()
		dir := t.TempDir()
		wantErr(t, runCLI(t, fc, "rec", "export", recStopped, "-o", filepath.Join(dir, name)), 1,
			"ffmpeg not found on PATH: install it (Debian: apt-get install ffmpeg) or export to .ts")
		if len(fc.recCalls) != 0 {
			t.Errorf("%s: asked the control node before refusing", name)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("%s: left %v behind", name, entries)
		}
	}
}

func TestRecExportRemux(t *testing.T) {
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("ffmpeg not on PATH")
	}
	// One second of test pattern as MPEG-TS, cut into three segments at
	// packet boundaries, as a recording's segments concatenate back.
	ts, err := exec.Command(ffmpeg, "-v", "error", "-f", "lavfi", "-i", "testsrc=size=64x64:rate=5", "-t", "1", "-f", "mpegts", "-").Output()
	if err != nil {
		t.Fatalf("making a test stream: %v", err)
	}
	if len(ts)%188 != 0 || len(ts) < 3*188 {
		t.Fatalf("ffmpeg wrote %d bytes of MPEG-TS", len(ts))
	}
	packets := len(ts) / 188
	cut1, cut2 := packets/3*188, 2*packets/3*188
	segs := map[string][]byte{"0.ts": ts[:cut1], "1.ts": ts[cut1:cut2], "2.ts": ts[cut2:]}

	for _, tc := range []struct {
		name  string
		magic []byte // what the container starts with
		at    int
	}{
		{"clip.mp4", []byte("ftyp"), 4},
		{"clip.mkv", []byte{0x1a, 0x45, 0xdf, 0xa3}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newRecServer(t, playlist(true, 3), segs)
			dir := t.TempDir()
			out := filepath.Join(dir, tc.name)
			r := runCLI(t, exportFake(srv), "rec", "export", recStopped, "-o", out)
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
			}
			got, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) < tc.at+len(tc.magic) || !bytes.Equal(got[tc.at:tc.at+len(tc.magic)], tc.magic) {
				t.Errorf("%s does not start like one: % x", tc.name, got[:min(len(got), 16)])
			}
			want := fmt.Sprintf("wrote %s: %s (%d bytes), 6s in 3 segments (remuxed by ffmpeg from %s of MPEG-TS)\n",
				out, byteSize(int64(len(got))), len(got), byteSize(int64(len(ts))))
			if r.stdout != want {
				t.Errorf("stdout:\n%s\nwant:\n%s", r.stdout, want)
			}
			// Neither the .part nor the temporary .ts stay behind.
			if entries, _ := os.ReadDir(dir); len(entries) != 1 {
				t.Errorf("directory holds %v, want only %s", entries, tc.name)
			}
		})
	}

	t.Run("ffmpeg fails", func(t *testing.T) {
		srv := newRecServer(t, playlist(true, 3), map[string][]byte{"0.ts": []byte("not"), "1.ts": []byte("mpeg"), "2.ts": []byte("ts")})
		dir := t.TempDir()
		out := filepath.Join(dir, "clip.mp4")
		r := runCLI(t, exportFake(srv), "rec", "export", recStopped, "-o", out)
		if r.code != 1 || !strings.HasPrefix(r.stderr, "lmx: ffmpeg could not remux the recording to "+out+" (exit status ") {
			t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("left %v behind", entries)
		}
	})
}
