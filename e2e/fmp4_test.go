package e2e

import (
	"fmt"
	"math"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lmx-video/lmx/hls"
)

// startFFmpegFMP4 starts ffmpeg pushing a live test pattern of size (WxH)
// to the edge as fMP4 (-hls_segment_type fmp4), 1 s segments named
// prefix-N.m4s in dir: it POSTs its init segment to the edge's
// /v1/init.mp4, then the playlists, exactly as LiveMix's command line
// does with the fMP4 flag added.
func startFFmpegFMP4(t *testing.T, e *edgeNode, name, dir, size, prefix string) *proc {
	t.Helper()
	return startProc(t, "ffmpeg "+name+" "+size, false, ffmpegBin,
		"-hide_banner", "-nostdin", "-loglevel", "error",
		"-re", "-f", "lavfi", "-i", "testsrc=size="+size+":rate=25",
		"-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
		"-g", "25", "-keyint_min", "25", "-sc_threshold", "0", "-an",
		"-f", "hls", "-hls_time", "1", "-hls_list_size", "5", "-hls_segment_type", "fmp4",
		"-hls_flags", "delete_segments+independent_segments",
		"-hls_segment_filename", dir+"/"+prefix+"-%d.m4s",
		"-headers", "Video-Source-Name: "+name+"\r\nMPEG-TS-URI-Prefix: file://"+dir+"\r\n",
		"-method", "POST", e.pushURL())
}

// TestFMP4 is fMP4 end to end, nothing transcoded: ffmpeg pushing
// -hls_segment_type fmp4 → edge → control node → live playback through a
// signed URL (EXT-X-MAP, init segment and .m4s segments all reached by the
// grant, refused without it) decoded by ffprobe and ffmpeg; a recording,
// replayed and exported to .mp4 and .ts; and an ffmpeg restart at another
// resolution: a new EXT-X-MAP after an EXT-X-DISCONTINUITY, live and in
// the recording, both runs decoding.
func TestFMP4(t *testing.T) {
	t.Parallel()
	const src = "cam-fmp4"
	cn := startControld(t)
	dir := t.TempDir()
	edge := startEdge(t, lmxEdgeBin, "edge-fmp4", cn, dir)
	ff := startFFmpegFMP4(t, edge, src, dir, "320x240", "a")
	waitSourceKnown(t, cn, src, 20*time.Second)
	mustLMX(t, cn, "source", "stream", "on", src, "--timeout", "30s")
	source := getSource(t, cn, src)
	live := cn.grantURL(t, "source", source.ID)

	// (1) Live: a version 6 playlist of .m4s segments after EXT-X-MAP,
	// every URI carrying the grant.
	pl := waitLive(t, live, 20*time.Second)
	r := mustDo(t, http.MethodGet, live, http.Header{anonymous: {"1"}}, nil)
	if pl.Version < 6 || !strings.Contains(string(r.Body), "#EXT-X-MAP:URI=\"init-") {
		t.Fatalf("live playlist:\n%s", r.Body)
	}
	for i, s := range pl.Segments {
		if !strings.HasPrefix(s.Map, "init-") || !strings.Contains(s.Map, "grant=") || !strings.Contains(s.URI, ".m4s?grant=") {
			t.Fatalf("live segment %d: %+v, want an .m4s after an init-….mp4 map, both with the grant", i, s)
		}
	}
	initURL, segURL := resolve(live, pl.Segments[0].Map), resolve(live, pl.Segments[0].URI)
	checkFMP4Files(t, initURL, segURL)
	// Without the grant, neither the init segment nor a segment plays.
	for _, u := range []string{initURL, segURL} {
		bare := strings.Split(u, "?")[0]
		expectError(t, "GET "+bare+" without a grant", mustDo(t, http.MethodGet, bare, http.Header{anonymous: {"1"}}, nil), http.StatusForbidden, true, "grant")
	}
	// And with the admin token instead of a grant, as any player with one.
	if r := mustDo(t, http.MethodGet, strings.Split(initURL, "?")[0], nil, nil); r.Status != http.StatusOK {
		t.Errorf("init segment with a bearer token: %s", r)
	}
	t.Run("ffprobe", func(t *testing.T) { expectH264(t, live) })
	t.Run("decode3s", func(t *testing.T) { decodeSeconds(t, live, 3) })

	// (2) Record from 3 s back, across an ffmpeg restart at 640x360.
	rec := recStart(t, cn, src, "-3s")
	time.Sleep(4 * time.Second)
	firstMap := pl.Segments[0].Map
	ff.Stop()
	startFFmpegFMP4(t, edge, src, dir, "640x360", "b")
	var changed *hls.MediaPlaylist
	eventually(t, 20*time.Second, 250*time.Millisecond, "a new EXT-X-MAP after a discontinuity in the live playlist", func() (bool, string) {
		p, r, err := fetchPlaylist(live)
		if err != nil {
			return false, err.Error()
		}
		for i, s := range p.Segments {
			if i > 0 && s.Map != p.Segments[i-1].Map {
				if !s.Discontinuity {
					t.Fatalf("init segment changes at segment %d without EXT-X-DISCONTINUITY:\n%s", i, r.Body)
				}
				changed = p
				return true, ""
			}
		}
		return false, string(r.Body)
	})
	t.Logf("live across the restart: %d segments, maps %s → %s", len(changed.Segments), changed.Segments[0].Map, changed.Segments[len(changed.Segments)-1].Map)
	if last := changed.Segments[len(changed.Segments)-1].Map; last == firstMap {
		t.Errorf("the new run's segments follow the old init segment")
	}
	// Once the old run has slid out, players read the new resolution.
	eventually(t, 20*time.Second, 500*time.Millisecond, "live playlist of the new run only", func() (bool, string) {
		p, _, err := fetchPlaylist(live)
		if err != nil {
			return false, err.Error()
		}
		return p.Segments[0].Map != firstMap && len(p.Segments) >= 3, p.Segments[0].Map
	})
	streams, err := ffprobe(t, live)
	if err != nil || len(streams) != 1 || streams[0].CodecName != "h264" || streams[0].Width != 640 || streams[0].Height != 360 {
		t.Errorf("ffprobe of the live stream after the restart: %+v, %v; want one h264 640x360", streams, err)
	}
	time.Sleep(3 * time.Second)
	stopped := recStop(t, cn, rec.ID)
	final := waitRecordingComplete(t, cn, edge, src, stopped)

	// (3) Replay: both init segments, the second after a discontinuity;
	// each run decodes on its own (init segment, then its segments).
	vod := cn.grantURL(t, "recording", rec.ID)
	rpl, rr, err := fetchPlaylist(vod)
	if err != nil {
		t.Fatal(err)
	}
	if rpl.PlaylistType != "VOD" || !rpl.EndList || rpl.Version < 6 || len(rpl.Segments) != final.Segments {
		t.Fatalf("recording playlist (%d segments recorded):\n%s", final.Segments, rr.Body)
	}
	runs := fmp4Runs(t, rpl)
	if len(runs) != 2 {
		t.Fatalf("recording has %d runs of one init segment, want 2:\n%s", len(runs), rr.Body)
	}
	tmp := t.TempDir()
	var total float64
	for i, run := range runs {
		if i > 0 && !run[0].Discontinuity {
			t.Errorf("run %d starts without EXT-X-DISCONTINUITY:\n%s", i, rr.Body)
		}
		file := filepath.Join(tmp, fmt.Sprintf("run%d.mp4", i))
		body := mustDo(t, http.MethodGet, resolve(vod, run[0].Map), http.Header{anonymous: {"1"}}, nil)
		if body.Status != http.StatusOK {
			t.Fatalf("init segment of run %d: %s", i, body)
		}
		data := body.Body
		var want float64
		for _, s := range run {
			seg := mustDo(t, http.MethodGet, resolve(vod, s.URI), http.Header{anonymous: {"1"}}, nil)
			if seg.Status != http.StatusOK {
				t.Fatalf("segment %s: %s", s.URI, seg)
			}
			data = append(data, seg.Body...)
			want += s.Duration
		}
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
		p, err := probeDecode(file)
		if err != nil {
			t.Errorf("run %d: %v", i, err)
			continue
		}
		wantW, wantH := 320, 240
		if i == 1 {
			wantW, wantH = 640, 360
		}
		if len(p.Streams) != 1 || p.Streams[0].Width != wantW || p.Streams[0].Height != wantH || math.Abs(p.Duration-want) > 1.1 {
			t.Errorf("run %d decodes as %+v, want %dx%d for %.1f s", i, p, wantW, wantH, want)
		}
		total += want
	}

	// (4) Export: .mp4 and .ts, remuxed from the fMP4 runs, decode and
	// last about as long as the recording.
	for _, ext := range []string{"mp4", "ts"} {
		file := filepath.Join(tmp, "clip."+ext)
		out := mustLMX(t, cn, "rec", "export", rec.ID, "-o", file)
		if !strings.Contains(out, "wrote "+file) || !strings.Contains(out, "fMP4 in 2 runs") {
			t.Errorf("rec export -o %s printed %q", file, out)
		}
		streams, err := ffprobe(t, file)
		if err != nil || len(streams) != 1 || streams[0].CodecName != "h264" {
			t.Errorf("exported %s: %+v, %v; want one h264 stream", file, streams, err)
		}
		p, err := probeDuration(file)
		if err != nil {
			t.Errorf("%v", err)
		} else if math.Abs(p-total) > 2.5 {
			t.Errorf("exported %s lasts %.3f s, the recording %.3f s", file, p, total)
		}
	}

	// (5) rm takes the init objects with the segments.
	mustLMX(t, cn, "rec", "rm", rec.ID)
	expectNoErrorsLogged(t, cn.proc)
	expectNoErrorsLogged(t, edge.proc)
}

// checkFMP4Files checks an init segment (video/mp4, starting with ftyp)
// and a media segment (video/iso.segment, starting with styp or moof).
func checkFMP4Files(t *testing.T, initURL, segURL string) {
	t.Helper()
	for _, c := range []struct{ u, ctype, box string }{{initURL, "video/mp4", "ftyp"}, {segURL, "video/iso.segment", ""}} {
		r := mustDo(t, http.MethodGet, c.u, http.Header{anonymous: {"1"}}, nil)
		if r.Status != http.StatusOK {
			t.Errorf("GET %s: %s", c.u, r)
			continue
		}
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != c.ctype {
			t.Errorf("GET %s: Content-Type %q, want %s", c.u, r.Header.Get("Content-Type"), c.ctype)
		}
		box := ""
		if len(r.Body) >= 8 {
			box = string(r.Body[4:8])
		}
		if c.box != "" && box != c.box || c.box == "" && box != "styp" && box != "moof" {
			t.Errorf("GET %s: first box %q", c.u, box)
		}
	}
}

// fmp4Runs splits a playlist's segments into runs that follow one init
// segment.
func fmp4Runs(t *testing.T, p *hls.MediaPlaylist) [][]hls.Segment {
	t.Helper()
	var runs [][]hls.Segment
	for i, s := range p.Segments {
		if s.Map == "" {
			t.Fatalf("segment %d (%s) has no EXT-X-MAP", i, s.URI)
		}
		if i == 0 || s.Map != p.Segments[i-1].Map {
			runs = append(runs, nil)
		}
		runs[len(runs)-1] = append(runs[len(runs)-1], s)
	}
	return runs
}

// probeDuration is the container duration ffprobe reads from a file.
func probeDuration(file string) (float64, error) {
	p, err := probeDecode(file)
	if err != nil {
		// A file whose second run changes resolution may make the decoder
		// say so; the duration is what is checked here.
		return 0, err
	}
	return p.Duration, nil
}
