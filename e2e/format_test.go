package e2e

import (
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestFMP4PushRefused: ffmpeg pushing fMP4 segments (-hls_segment_type
// fmp4), which lmx does not carry yet, is refused at the edge with a 415
// that says so and what to push instead, and nothing reaches the control
// node: no source is registered, no segment is listed.
func TestFMP4PushRefused(t *testing.T) {
	cn := startControld(t)
	dir := t.TempDir()
	edge := startEdge(t, lmxEdgeBin, "edge-fmp4", cn, dir)
	const name = "cam-fmp4"
	ff := startProc(t, "ffmpeg "+name, false, ffmpegBin,
		"-hide_banner", "-nostdin", "-loglevel", "error",
		"-re", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25",
		"-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-g", "25", "-an",
		"-f", "hls", "-hls_time", "1", "-hls_list_size", "5", "-hls_segment_type", "fmp4",
		"-hls_flags", "delete_segments",
		"-hls_segment_filename", dir+"/"+name+"-%d.m4s",
		"-headers", "Video-Source-Name: "+name+"\r\nMPEG-TS-URI-Prefix: file://"+dir+"\r\n",
		"-method", "POST", edge.pushURL())
	eventually(t, 20*time.Second, 250*time.Millisecond, "the edge refuses the fMP4 push", func() (bool, string) {
		out := edge.proc.Output()
		return strings.Contains(out, "playlist form not carried") && strings.Contains(out, "fMP4"), out
	})
	// Let ffmpeg push a few more playlists (one per segment it writes).
	eventually(t, 15*time.Second, 250*time.Millisecond, "ffmpeg pushing on", func() (bool, string) {
		segs, _ := filepath.Glob(filepath.Join(dir, name+"-*.m4s"))
		return len(segs) >= 4 && !ff.Exited(), fmt.Sprintf("%d segments written", len(segs))
	})
	// Neither the edge nor the control node took the source.
	r := mustDo(t, http.MethodGet, edge.url+"/v1/status", nil, nil)
	if r.Status != http.StatusOK || strings.Contains(string(r.Body), name) {
		t.Errorf("the edge's status lists the refused source: %s", r)
	}
	if slices.ContainsFunc(sourceLs(t, cn), func(s sourceJSON) bool { return s.Name == name }) {
		t.Errorf("source %s was registered from a refused push: %+v", name, sourceLs(t, cn))
	}
	if n := strings.Count(edge.proc.Output(), "playlist form not carried"); n != 1 {
		t.Errorf("the edge logged the refusal %d times, want once", n)
	}
}
