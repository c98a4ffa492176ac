package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/lmx-video/lmx/hls"
)

// startFFmpegABR has ffmpeg push two renditions of one source to the edge,
// as its own multivariant HLS output: 640x360 and 1280x720, 2 s segments,
// the output URL .../v1/playlist/%v and -master_pl_name. With bitrates,
// ffmpeg's master names BANDWIDTH, RESOLUTION and CODECS; without, it
// names nothing: the control node measures the bandwidth and probes the
// segments for the rest.
func startFFmpegABR(t *testing.T, e *edgeNode, name, dir string, withBitrates bool) *proc {
	t.Helper()
	args := []string{"-hide_banner", "-nostdin", "-loglevel", "error",
		"-re", "-f", "lavfi", "-i", "testsrc=size=1280x720:rate=25",
		"-filter_complex", "[0:v]split=2[a][b];[a]scale=640:360[lo];[b]null[hi]",
		"-map", "[lo]", "-map", "[hi]",
		"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
		"-g", "50", "-keyint_min", "50", "-sc_threshold", "0",
	}
	if withBitrates {
		args = append(args, "-b:v:0", "600k", "-b:v:1", "1500k")
	}
	args = append(args,
		"-f", "hls", "-hls_time", "2", "-hls_list_size", "5",
		"-hls_flags", "delete_segments+independent_segments",
		"-var_stream_map", "v:0 v:1", "-master_pl_name", "master.m3u8",
		"-hls_segment_filename", dir+"/"+name+"_%v_%d.ts",
		"-headers", "Video-Source-Name: "+name+"\r\nMPEG-TS-URI-Prefix: file://"+dir+"\r\n",
		"-method", "POST", e.url+"/v1/playlist/%v",
	)
	return startProc(t, "ffmpeg "+name, false, ffmpegBin, args...)
}

// variantLines are the EXT-X-STREAM-INF lines of a multivariant playlist
// and the URIs after them.
func variantLines(body []byte) (infs, uris []string) {
	lines := strings.Split(string(body), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "#EXT-X-STREAM-INF:") && i+1 < len(lines) {
			infs = append(infs, l)
			uris = append(uris, strings.TrimSpace(lines[i+1]))
		}
	}
	return infs, uris
}

func TestABRLive(t *testing.T) {
	t.Parallel()
	cn := startControld(t)
	edge := startEdge(t, lmxEdgeBin, "edge-abr", cn, t.TempDir())
	for _, tc := range []struct {
		src          string
		withBitrates bool
	}{{"cam-abr", true}, {"cam-abr-nobw", false}} {
		startFFmpegABR(t, edge, tc.src, edge.allowDir, tc.withBitrates)
		waitSourceKnown(t, cn, tc.src, 30*time.Second)
		mustLMX(t, cn, "source", "stream", "on", tc.src, "--timeout", "30s")
	}
	for _, tc := range []struct {
		src          string
		withBitrates bool
	}{{"cam-abr", true}, {"cam-abr-nobw", false}} {
		t.Run(tc.src, func(t *testing.T) {
			live := cn.liveURL(tc.src)
			var infs, uris []string
			eventually(t, 40*time.Second, 250*time.Millisecond, "a multivariant playlist with two variants", func() (bool, string) {
				r, err := get(live)
				if err != nil {
					return false, err.Error()
				}
				infs, uris = variantLines(r.Body)
				return r.Status == 200 && len(infs) == 2, r.String()
			})
			t.Logf("multivariant: %q %q", infs, uris)
			if uris[0] != "0/vid.m3u8" || uris[1] != "1/vid.m3u8" {
				t.Errorf("variant URIs %q, want 0/vid.m3u8 and 1/vid.m3u8", uris)
			}
			for i, inf := range infs {
				if !strings.Contains(inf, "BANDWIDTH=") {
					t.Errorf("variant %d has no BANDWIDTH: %s", i, inf)
				}
				// Said by ffmpeg's master, or probed from the segments.
				if !strings.Contains(inf, "RESOLUTION=") || !strings.Contains(inf, `CODECS="avc1.`) {
					t.Errorf("variant %d lacks RESOLUTION or CODECS: %s", i, inf)
				}
			}
			sizes := []string{"640x360", "1280x720"}
			var pls []*hls.MediaPlaylist
			for i := range uris {
				u := resolve(live, uris[i])
				pl := waitLive(t, u, 30*time.Second)
				pls = append(pls, pl)
				streams, err := ffprobe(t, u)
				if err != nil {
					t.Fatal(err)
				}
				if len(streams) != 1 || streams[0].CodecName != "h264" || fmt.Sprintf("%dx%d", streams[0].Width, streams[0].Height) != sizes[i] {
					t.Errorf("rendition %s: ffprobe %+v, want h264 %s", uris[i], streams, sizes[i])
				}
				if !strings.Contains(infs[i], "RESOLUTION="+sizes[i]) {
					t.Errorf("variant %d: %s, want RESOLUTION=%s", i, infs[i], sizes[i])
				}
			}
			// Lined up: the same number is the same moment in both.
			byPDT := func(pl *hls.MediaPlaylist) map[uint64]time.Time {
				m := map[uint64]time.Time{}
				for j, s := range pl.Segments {
					m[pl.MediaSequence+uint64(j)] = s.ProgramDateTime
				}
				return m
			}
			a, b := byPDT(pls[0]), byPDT(pls[1])
			common := 0
			for seq, ta := range a {
				if tb, ok := b[seq]; ok {
					common++
					if d := ta.Sub(tb); d < -time.Second || d > time.Second {
						t.Errorf("segment %d starts at %s in one rendition and %s in the other", seq, ta, tb)
					}
				}
			}
			if common < 2 {
				t.Errorf("the renditions share %d media sequence numbers, want their windows lined up: %d… and %d…", common, pls[0].MediaSequence, pls[1].MediaSequence)
			}
			// A player of the multivariant URL reads both programs.
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			args := append([]string{"-v", "error"}, playerAuth(live)...)
			args = append(args, "-show_entries", "stream=width,height", "-of", "csv=p=0", live)
			out, err := exec.CommandContext(ctx, ffprobeBin, args...).Output()
			if err != nil {
				t.Fatalf("ffprobe of the multivariant playlist: %v", err)
			}
			for _, sz := range []string{"640,360", "1280,720"} {
				if !bytes.Contains(out, []byte(sz)) {
					t.Errorf("ffprobe of the multivariant playlist: %q lacks %s", out, sz)
				}
			}
		})
	}
	show := mustLMX(t, cn, "source", "show", "cam-abr")
	for _, want := range []string{"Renditions:", "0  640x360  avc1.", "1  1280x720  avc1."} {
		if !strings.Contains(show, want) {
			t.Errorf("lmx source show lacks %q:\n%s", want, show)
		}
	}
	// A recording keeps both renditions and replays as a multivariant
	// VOD; export picks one.
	t.Run("record", func(t *testing.T) {
		rec := recStart(t, cn, "cam-abr", "-4s")
		time.Sleep(6 * time.Second)
		recStop(t, cn, rec.ID)
		got := getRecording(t, cn, rec.ID)
		t.Logf("recording: %d segments, %.1f s, gaps %+v", got.Segments, got.DurationSeconds, got.Gaps)
		if len(got.Gaps) != 0 {
			t.Errorf("gaps %+v", got.Gaps)
		}
		vod := cn.vodURL + "/v1/vod/recording/" + rec.ID + "/vid.m3u8"
		r := mustDo(t, "GET", vod, nil, nil)
		infs, uris := variantLines(r.Body)
		if len(infs) != 2 {
			t.Fatalf("recording playlist: %s, want a multivariant playlist of two", r)
		}
		sizes := []string{"640x360", "1280x720"}
		for i, u := range uris {
			streams, err := ffprobe(t, resolve(vod, u))
			if err != nil || len(streams) != 1 || fmt.Sprintf("%dx%d", streams[0].Width, streams[0].Height) != sizes[i] {
				t.Errorf("recorded rendition %s: %+v, %v; want %s", u, streams, err, sizes[i])
			}
		}
		file := t.TempDir() + "/hi.ts"
		mustLMX(t, cn, "rec", "export", rec.ID, "--rendition", "1", "-o", file)
		streams, err := ffprobe(t, file)
		if err != nil || len(streams) != 1 || streams[0].Width != 1280 {
			t.Errorf("export --rendition 1: %+v, %v; want 1280x720", streams, err)
		}
		res := runLMX(t, cn, "rec", "export", rec.ID, "--rendition", "9", "-o", file)
		if res.Code == 0 || !strings.Contains(res.Stderr, "0") || !strings.Contains(res.Stderr, "1") {
			t.Errorf("export --rendition 9: exit %d, %q; want an error naming the renditions", res.Code, res.Stderr)
		}
	})

	// An unknown rendition is a 404 that names the renditions.
	r, err := get(cn.vodURL + "/v1/vod/live/cam-abr/7/vid.m3u8")
	if err != nil || r.Status != 404 || !strings.Contains(string(r.Body), "[0 1]") {
		t.Errorf("unknown rendition: %v %v, want 404 naming the renditions", r, err)
	}
}

// TestBrowserABR plays an adaptive-bitrate live source in headless
// Chromium with hls.js, from its signed multivariant URL: hls.js lists
// both renditions as levels with what the playlist says of them, starts
// on the lower one, and switches to the 1280x720 one when told, which the
// video element then shows.
func TestBrowserABR(t *testing.T) {
	t.Parallel()
	browserDeps(t)
	const src = "cam-abr-browser"
	cn := startControld(t)
	edge := startEdge(t, lmxEdgeBin, "edge-abr-browser", cn, t.TempDir())
	startFFmpegABR(t, edge, src, edge.allowDir, true)
	waitSourceKnown(t, cn, src, 30*time.Second)
	mustLMX(t, cn, "source", "stream", "on", src, "--timeout", "30s")
	waitLive(t, resolve(cn.liveURL(src), "1/vid.m3u8"), 30*time.Second)
	live := sourceURL(t, cn, src, "--ttl", "10m")
	res := playInBrowser(t, live, browserOpts{PlaySeconds: 6, SwitchLevel: 1, Timeout: 60 * time.Second})
	t.Logf("hls.js: %s", res)
	if res.FatalError != "" {
		t.Fatalf("fatal error: %s (HTTP status %d)", res.FatalError, res.HTTPStatus)
	}
	if len(res.Levels) != 2 || res.Levels[0].Height != 360 || res.Levels[1].Height != 720 || res.Levels[0].Bitrate >= res.Levels[1].Bitrate {
		t.Errorf("levels %v, want 360p then 720p, the lower bitrate first", res.Levels)
	}
	if res.LevelSwitched != 1 {
		t.Errorf("level switched %d, want 1", res.LevelSwitched)
	}
	if res.VideoHeight != 720 {
		t.Errorf("after the switch the video is %dx%d, want 1280x720", res.VideoWidth, res.VideoHeight)
	}
	if res.PlayedSeconds < 5 {
		t.Errorf("played %.2f s, want at least 5", res.PlayedSeconds)
	}
}

// TestABRFMP4: adaptive bitrate in fMP4 segments. ffmpeg sends each
// rendition's init segment beside the playlists (init_%v.mp4); each
// rendition's playlist maps its own, and decodes.
func TestABRFMP4(t *testing.T) {
	t.Parallel()
	const src = "cam-abr-fmp4"
	cn := startControld(t)
	edge := startEdge(t, lmxEdgeBin, "edge-abr-fmp4", cn, t.TempDir())
	args := []string{"-hide_banner", "-nostdin", "-loglevel", "error",
		"-re", "-f", "lavfi", "-i", "testsrc=size=640x360:rate=25",
		"-filter_complex", "[0:v]split=2[a][b];[a]scale=320:180[lo];[b]null[hi]",
		"-map", "[lo]", "-map", "[hi]",
		"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
		"-g", "50", "-keyint_min", "50", "-sc_threshold", "0", "-b:v:0", "300k", "-b:v:1", "800k",
		"-f", "hls", "-hls_time", "2", "-hls_list_size", "5", "-hls_segment_type", "fmp4",
		"-hls_flags", "delete_segments+independent_segments",
		"-var_stream_map", "v:0 v:1", "-master_pl_name", "master.m3u8",
		"-hls_segment_filename", edge.allowDir + "/" + src + "_%v_%d.m4s",
		"-headers", "Video-Source-Name: " + src + "\r\nMPEG-TS-URI-Prefix: file://" + edge.allowDir + "\r\n",
		"-method", "POST", edge.url + "/v1/playlist/%v",
	}
	startProc(t, "ffmpeg "+src, false, ffmpegBin, args...)
	waitSourceKnown(t, cn, src, 30*time.Second)
	mustLMX(t, cn, "source", "stream", "on", src, "--timeout", "30s")
	live := cn.liveURL(src)
	var uris []string
	eventually(t, 40*time.Second, 250*time.Millisecond, "a multivariant playlist with two variants", func() (bool, string) {
		r, err := get(live)
		if err != nil {
			return false, err.Error()
		}
		_, uris = variantLines(r.Body)
		return r.Status == 200 && len(uris) == 2, r.String()
	})
	sizes := []string{"320x180", "640x360"}
	maps := map[string]bool{}
	for i, u := range uris {
		ru := resolve(live, u)
		pl := waitLive(t, ru, 30*time.Second)
		if len(pl.Segments) == 0 || pl.Segments[0].Map == "" {
			t.Fatalf("rendition %s lists no EXT-X-MAP: %+v", u, pl)
		}
		maps[pl.Segments[0].Map] = true
		streams, err := ffprobe(t, ru)
		if err != nil || len(streams) != 1 || fmt.Sprintf("%dx%d", streams[0].Width, streams[0].Height) != sizes[i] {
			t.Errorf("rendition %s: %+v, %v; want h264 %s", u, streams, err, sizes[i])
		}
	}
	if len(maps) != 2 {
		t.Errorf("the renditions map %v, want an init segment of their own each", maps)
	}
}
