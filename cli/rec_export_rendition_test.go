package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lmx-video/lmx/api"
)

// multivariant is a recording's multivariant playlist of renditions 0
// (low) and 1 (high), listed low first.
const multivariant = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n" +
	"#EXT-X-STREAM-INF:BANDWIDTH=400000,AVERAGE-BANDWIDTH=300000,RESOLUTION=640x360\n0/vid.m3u8\n" +
	"#EXT-X-STREAM-INF:BANDWIDTH=1200000,AVERAGE-BANDWIDTH=1000000,RESOLUTION=1280x720\n1/vid.m3u8\n"

// abrServer serves a stopped recording of two renditions: the low one's
// segments are 'l's, the high one's 'h's, their playlists under 0/ and 1/.
func abrServer(t *testing.T) *recServer {
	segs := map[string][]byte{
		"0/vid.m3u8": []byte("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:2,\n10.ts\n#EXTINF:2,\n12.ts\n#EXT-X-ENDLIST\n"),
		"1/vid.m3u8": []byte("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:2,\n11.ts\n#EXTINF:2,\n13.ts\n#EXT-X-ENDLIST\n"),
		"0/10.ts":    bytes.Repeat([]byte{'l'}, 100),
		"0/12.ts":    bytes.Repeat([]byte{'l'}, 100),
		"1/11.ts":    bytes.Repeat([]byte{'h'}, 300),
		"1/13.ts":    bytes.Repeat([]byte{'h'}, 300),
	}
	return newRecServer(t, multivariant, segs)
}

func abrFake(srv *recServer) *fakeClient {
	fc := exportFake(srv)
	fc.recordings[fc.findRec(recStopped)].Renditions = []string{"0", "1"}
	return fc
}

func TestRecExportRendition(t *testing.T) {
	t.Run("highest bandwidth by default", func(t *testing.T) {
		srv := abrServer(t)
		out := filepath.Join(t.TempDir(), "clip.ts")
		r := runCLI(t, abrFake(srv), "rec", "export", recStopped, "-o", out)
		if r.code != 0 || r.stderr != "recording "+recStopped+" has renditions 0, 1: exporting 1, the highest bandwidth (1.2 Mbit/s); choose another with --rendition\n" {
			t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
		}
		if r.stdout != "wrote "+out+": 600 B (600 bytes), 4s in 2 segments\n" {
			t.Errorf("stdout %q", r.stdout)
		}
		if got, _ := os.ReadFile(out); string(got) != strings.Repeat("h", 600) {
			t.Errorf("file holds %d bytes, not rendition 1's segments", len(got))
		}
	})
	t.Run("named", func(t *testing.T) {
		srv := abrServer(t)
		out := filepath.Join(t.TempDir(), "low.ts")
		wantOK(t, runCLI(t, abrFake(srv), "rec", "export", recStopped, "--rendition", "0", "-o", out),
			"wrote "+out+": 200 B (200 bytes), 4s in 2 segments\n")
		if got, _ := os.ReadFile(out); string(got) != strings.Repeat("l", 200) {
			t.Errorf("file holds %q, not rendition 0's segments", got)
		}
		want := []string{recPath + "vid.m3u8", recPath + "0/vid.m3u8", recPath + "0/10.ts", recPath + "0/12.ts"}
		if !slices.Equal(srv.asked, want) {
			t.Errorf("asked %v, want %v", srv.asked, want)
		}
	})
	t.Run("unknown", func(t *testing.T) {
		srv := abrServer(t)
		dir := t.TempDir()
		wantErr(t, runCLI(t, abrFake(srv), "rec", "export", recStopped, "--rendition", "7", "-o", filepath.Join(dir, "clip.ts")), 1,
			"recording "+recStopped+` has no rendition "7": it has 0, 1 (lmx rec export `+recStopped+" --rendition 0 -o FILE)")
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("left %v behind", entries)
		}
		if len(srv.asked) != 1 {
			t.Errorf("asked %v: more than the playlist", srv.asked)
		}
	})
	t.Run("recording without renditions", func(t *testing.T) {
		srv := newRecServer(t, playlist(true, 3), threeSegments())
		wantErr(t, runCLI(t, exportFake(srv), "rec", "export", recStopped, "--rendition", "0", "-o", filepath.Join(t.TempDir(), "clip.ts")), 1,
			"recording "+recStopped+" has no renditions (its source pushed one stream): export it without --rendition")
	})
	t.Run("recording of one rendition", func(t *testing.T) {
		srv := newRecServer(t, playlist(true, 3), threeSegments())
		fc := exportFake(srv)
		fc.recordings[fc.findRec(recStopped)].Renditions = []string{"hd"}
		out := filepath.Join(t.TempDir(), "clip.ts")
		wantOK(t, runCLI(t, fc, "rec", "export", recStopped, "--rendition", "hd", "-o", out),
			"wrote "+out+": 3.4 KiB (3500 bytes), 6s in 3 segments\n")
		wantErr(t, runCLI(t, fc, "rec", "export", recStopped, "--rendition", "sd", "-o", out, "--force"), 1,
			"recording "+recStopped+` has no rendition "sd": it has hd`)
	})
	t.Run("bad multivariant playlist", func(t *testing.T) {
		srv := newRecServer(t, "#EXTM3U\n#EXT-X-STREAM-INF:RESOLUTION=1x1\n0/vid.m3u8\n", nil)
		wantErr(t, runCLI(t, exportFake(srv), "rec", "export", recStopped, "-o", filepath.Join(t.TempDir(), "clip.ts")), 1,
			"reading the recording's playlist "+srv.playlistURL()+": hls: playlist syntax error: line 2: EXT-X-STREAM-INF: BANDWIDTH is missing (RFC 8216 requires it)")
	})
}

func TestRecShowRenditions(t *testing.T) {
	fc := recFake()
	i := fc.findRec(recStopped)
	fc.recordings[i].Renditions = []string{"0", "1"}
	fc.recordings[i].Gaps = []api.Gap{{From: testNow.Add(-115 * time.Minute), To: testNow.Add(-115*time.Minute + 12*time.Second), Seconds: 12, Rendition: "1"}}
	r := runCLI(t, fc, "rec", "show", recStopped)
	if r.code != 0 || !strings.Contains(r.stdout, "Size:         80 MiB (83886080 bytes)\nRenditions:   0, 1\nGaps:         rendition 1: 2025-03-01 10:05:00 – 10:05:12 (12 s)\n") {
		t.Errorf("exit %d, stdout:\n%s%s", r.code, r.stdout, r.stderr)
	}
}
