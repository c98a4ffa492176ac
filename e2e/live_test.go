package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lmx-video/lmx/hls"
)

// TestLivePath is the whole live path: ffmpeg → edge → control node →
// players (ffprobe, ffmpeg, and a strict RFC 8216 playlist checker).
func TestLivePath(t *testing.T) {
	t.Parallel()
	const src = "cam-1"
	cn := startControld(t)
	edge := startEdge(t, lmxBin, "edge-live", cn, t.TempDir())
	startFFmpeg(t, edge, src, edge.allowDir)

	// The first push registers the source; then streaming is turned on and
	// the CLI waits for the edge to confirm.
	waitSourceKnown(t, cn, src, 20*time.Second)
	out := mustLMX(t, cn, "source", "stream", "on", src, "--timeout", "30s")
	if !strings.Contains(out, "playback: "+cn.liveURL(src)) {
		t.Errorf("stream on printed %q, want the playback URL %s", out, cn.liveURL(src))
	}
	live := cn.liveURL(src)
	first := waitLive(t, live, 20*time.Second)
	t.Logf("live playlist full: target %d s, media sequence %d, %d segments", first.TargetDuration, first.MediaSequence, len(first.Segments))

	// (c) runs alongside the players, as a third client would.
	var wg sync.WaitGroup
	var stats checkStats
	wg.Add(1)
	go func() {
		defer wg.Done()
		stats = checkLivePlaylist(t, live, 20*time.Second, 500*time.Millisecond)
	}()

	t.Run("ffprobe", func(t *testing.T) { expectH264(t, live) })
	t.Run("decode5s", func(t *testing.T) { decodeSeconds(t, live, 5) })

	wg.Wait()
	t.Logf("playlist checker: %d polls, %d segments fetched (%d distinct), media sequence %d → %d",
		stats.polls, stats.fetches, stats.distinct, stats.firstSeq, stats.lastSeq)
	if stats.polls < 30 {
		t.Errorf("playlist checker polled only %d times in 20 s, want about 40", stats.polls)
	}
	if stats.lastSeq < stats.firstSeq+10 {
		t.Errorf("media sequence rose only from %d to %d in 20 s of 1 s segments: the stream is not advancing", stats.firstSeq, stats.lastSeq)
	}

	t.Run("metrics", func(t *testing.T) {
		in := metricValues(t, cn, "lmx_segments_in_total")
		if v := in[`{source="`+src+`"}`]; v <= 0 {
			t.Errorf("lmx_segments_in_total{source=%q} = %v, want > 0 (all: %v)", src, v, in)
		}
		on := metricValues(t, cn, "lmx_edges_online")
		if v, ok := on[""]; !ok || v != 1 {
			t.Errorf("lmx_edges_online = %v (present %v), want 1", v, ok)
		}
	})

	t.Run("source-ls", func(t *testing.T) {
		var found *sourceJSON
		for _, s := range sourceLs(t, cn) {
			if s.Name == src {
				found = &s
			}
		}
		switch {
		case found == nil:
			t.Errorf("lmx source ls --json does not list %s", src)
		case found.Streaming != 1 || !found.EdgeStreaming || !found.EdgeOnline || found.Edge != edge.name || found.LiveSegments < 3:
			t.Errorf("lmx source ls --json: %+v, want streaming 1, edge_streaming and edge_online true, edge %q, live_segments >= 3", *found, edge.name)
		}
	})

	t.Run("edge-ls", func(t *testing.T) {
		// In a healthy run the edge takes every segment ffmpeg writes.
		for _, e := range edgeLs(t, cn) {
			if e.Name != edge.name {
				continue
			}
			if !e.Online {
				t.Errorf("lmx edge ls --json: %s offline", e.Name)
			}
			for _, s := range e.Sources {
				if s.Name == src {
					if !s.Streaming || s.Dropped != 0 || s.Uploaded < 10 {
						t.Errorf("lmx edge ls --json: source %+v, want streaming, dropped 0 and at least 10 uploaded", s)
					}
					return
				}
			}
		}
		t.Errorf("lmx edge ls --json does not list %s under edge %s", src, edge.name)
	})

	// (f) Off: the CLI waits for the edge, and the playlist is gone for good.
	off := mustLMX(t, cn, "source", "stream", "off", src)
	if !strings.Contains(off, "not streaming") {
		t.Errorf("stream off printed %q, want it to say the source is not streaming", off)
	}
	checkGone := func(when string) {
		r := mustDo(t, http.MethodGet, live, nil, nil)
		expectError(t, "live playlist "+when+" stream off", r, http.StatusNotFound, true, "not streaming")
	}
	checkGone("right after")
	// The edge has confirmed; no straggling upload may bring the window back.
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) && !t.Failed() {
		time.Sleep(500 * time.Millisecond)
		checkGone("3 s after")
	}
	expectNoErrorsLogged(t, cn.proc)
	expectNoErrorsLogged(t, edge.proc)
}

// expectNoErrorsLogged fails the test if p logged at level ERROR during a
// run in which nothing went wrong.
func expectNoErrorsLogged(t *testing.T, p *proc) {
	t.Helper()
	var bad []string
	for _, l := range strings.Split(p.Output(), "\n") {
		if strings.Contains(l, "level=ERROR") {
			bad = append(bad, l)
		}
	}
	if len(bad) > 0 {
		t.Errorf("%s logged errors during a healthy run:\n%s", p.name, strings.Join(bad, "\n"))
	}
}

// decodeSeconds decodes secs seconds of the live stream at u with ffmpeg and
// checks, from its -progress report, that it really did.
func decodeSeconds(t *testing.T, u string, secs int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	args := append([]string{"-hide_banner", "-nostdin", "-v", "error", "-progress", "pipe:1"}, playerAuth(u)...)
	cmd := exec.CommandContext(ctx, ffmpegBin, append(args, "-i", u, "-t", strconv.Itoa(secs), "-f", "null", "-")...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	if err != nil {
		t.Fatalf("ffmpeg decoding %s: %v after %s: %s", u, err, took, stderr.String())
	}
	if s := strings.TrimSpace(stderr.String()); s != "" {
		t.Errorf("ffmpeg decoding reported errors: %s", s)
	}
	var outTimeUS, frames int64
	end := false
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), "=")
		switch k {
		case "out_time_us":
			outTimeUS, _ = strconv.ParseInt(v, 10, 64)
		case "frame":
			frames, _ = strconv.ParseInt(v, 10, 64)
		case "progress":
			end = v == "end"
		}
	}
	t.Logf("decoded %d frames, out_time %.3f s, in %s", frames, float64(outTimeUS)/1e6, took.Round(time.Millisecond))
	if !end {
		t.Errorf("ffmpeg's progress report never reached progress=end")
	}
	if want := int64(secs)*1e6 - 200e3; outTimeUS < want {
		t.Errorf("decoded %.3f s, want at least %.1f s", float64(outTimeUS)/1e6, float64(want)/1e6)
	}
	if want := int64(secs*25) - 5; frames < want {
		t.Errorf("decoded %d frames, want at least %d (25 fps)", frames, want)
	}
	// ffmpeg starts three segments from the live edge, so the rest of the
	// 5 s can only come from segments the edge uploads while it plays.
	if took < time.Second {
		t.Errorf("decoding %d s of a live stream took only %s: the playlist does not look live", secs, took)
	}
}

type checkStats struct {
	polls, fetches, distinct int
	firstSeq, lastSeq        uint64
}

// checkLivePlaylist polls the live playlist at u every interval for dur and
// checks each answer and each transition against RFC 8216 and the contract,
// fetching every listed segment.
func checkLivePlaylist(t *testing.T, u string, dur, interval time.Duration) checkStats {
	var st checkStats
	var prev *hls.MediaPlaylist
	bodies := map[string][32]byte{} // segment URL -> sha256 of its bytes
	failures := 0
	fail := func(format string, args ...any) {
		failures++
		if failures <= 10 {
			t.Errorf("playlist checker (poll %d): "+format, append([]any{st.polls}, args...)...)
		}
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	deadline := time.Now().Add(dur)
	for ; time.Now().Before(deadline) && failures < 10; <-tick.C {
		st.polls++
		r, err := get(u)
		if err != nil {
			fail("%v", err)
			continue
		}
		if r.Status != http.StatusOK {
			fail("status %s, want 200", r)
			continue
		}
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/vnd.apple.mpegurl" {
			fail("Content-Type %q, want application/vnd.apple.mpegurl", r.Header.Get("Content-Type"))
		}
		if got := r.Header.Get("Access-Control-Allow-Origin"); got != "*" {
			fail("Access-Control-Allow-Origin %q, want *", got)
		}
		p, err := hls.ParseMediaPlaylist(bytes.NewReader(r.Body), 0)
		if err != nil {
			fail("%v\n%s", err, r.Body)
			continue
		}
		maxAge, err := maxAgeOf(r.Header.Get("Cache-Control"))
		if err != nil {
			fail("%v", err)
		} else if 2*maxAge > p.TargetDuration {
			fail("Cache-Control %q: max-age above half the target duration %d s", r.Header.Get("Cache-Control"), p.TargetDuration)
		}
		if err := hls.CheckLive(p); err != nil {
			fail("CheckLive: %v\n%s", err, r.Body)
		}
		if prev != nil {
			if err := hls.CheckLiveTransition(prev, p); err != nil {
				fail("CheckLiveTransition: %v\nprev media sequence %d, cur:\n%s", err, prev.MediaSequence, r.Body)
			}
		}
		for i, s := range p.Segments {
			if s.ProgramDateTime.IsZero() {
				fail("segment %d (%s) has no EXT-X-PROGRAM-DATE-TIME", i, s.URI)
			}
			su := resolve(u, s.URI)
			sr, err := get(su)
			st.fetches++
			if err != nil {
				fail("segment %s: %v", su, err)
				continue
			}
			if err := checkSegment(sr); err != nil {
				fail("segment %s: %v", su, err)
				continue
			}
			sum := sha256.Sum256(sr.Body)
			if old, ok := bodies[su]; !ok {
				bodies[su] = sum
			} else if old != sum {
				fail("segment %s changed between two fetches", su)
			}
		}
		if st.polls == 1 {
			st.firstSeq = p.MediaSequence
		}
		st.lastSeq = p.MediaSequence
		prev = p
	}
	st.distinct = len(bodies)
	return st
}

// checkSegment checks one segment answer: 200, video/mp2t, MPEG-TS packets.
func checkSegment(r *response) error {
	if r.Status != http.StatusOK {
		return fmt.Errorf("status %s, want 200", r)
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "video/mp2t" {
		return fmt.Errorf("Content-Type %q, want video/mp2t", r.Header.Get("Content-Type"))
	}
	if len(r.Body) < 188 || r.Body[0] != 0x47 {
		return fmt.Errorf("%d bytes not starting with the MPEG-TS sync byte 0x47", len(r.Body))
	}
	if len(r.Body)%188 != 0 {
		return fmt.Errorf("%d bytes, not a whole number of 188-byte TS packets", len(r.Body))
	}
	return nil
}

// maxAgeOf returns the max-age of a Cache-Control header.
func maxAgeOf(cc string) (int, error) {
	for _, d := range strings.Split(cc, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(d), "max-age="); ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return 0, fmt.Errorf("Cache-Control %q: bad max-age", cc)
			}
			return n, nil
		}
	}
	return 0, fmt.Errorf("Cache-Control %q has no max-age", cc)
}

// decodeJSON is json.Unmarshal that fails the test.
func decodeJSON(t *testing.T, what string, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v: %s", what, err, b)
	}
}

// TestWalkthrough runs the README's walkthrough (LiveMix's, against lmx)
// step by step as a user types it. With `lmx controld --auth none` it is
// LiveMix's open behaviour: curl-like requests with no credential at all,
// an edge started with the --mqtt/--ingest line the control node prints,
// and a plain ffprobe on the unsigned URL. With the secure default the
// same steps carry the admin token, the edge joins, and the player gets a
// signed URL (the unsigned one is refused).
func TestWalkthrough(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name  string
		extra []string
	}{
		{"auth-none", []string{"--auth", "none"}},
		{"auth-on", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			walkthrough(t, c.extra...)
		})
	}
}

func walkthrough(t *testing.T, controldArgs ...string) {
	const src, edgeName = "camera-0", "cam-gw-1"

	// 1. Start the control node; it prints the line an edge needs (HOST:
	// how the edge's machine reaches this one).
	cn := startControld(t, controldArgs...)
	want := "lmx edged --name EDGE-NAME --mqtt " + strings.Replace(cn.mqttURL, "127.0.0.1", "HOST", 1) +
		" --ingest " + strings.Replace(cn.vodURL, "127.0.0.1", "HOST", 1) + " --allow-dir"
	if cn.authOn() {
		want = "lmx edge add EDGE-NAME"
	}
	if !strings.Contains(cn.proc.Output(), want) {
		t.Errorf("controld did not print %q", want)
	}

	// curl, as the walkthrough uses it: a plain HTTP client, with the
	// admin token only when the node wants one (curl -H 'Authorization: …');
	// request sends token ("" for none).
	plain := &http.Client{Timeout: 45 * time.Second}
	request := func(method, u, body, token string) *response {
		t.Helper()
		req, err := http.NewRequest(method, u, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("User-Agent", "curl/8.5.0")
		req.Header.Set("Accept", "*/*")
		if body != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded") // what curl -d sends
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := plain.Do(req)
		if err != nil {
			t.Fatalf("curl -X %s %s: %v", method, u, err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		if _, err := b.ReadFrom(resp.Body); err != nil {
			t.Fatalf("curl -X %s %s: %v", method, u, err)
		}
		return &response{Status: resp.StatusCode, Header: resp.Header, Body: b.Bytes()}
	}
	curl := func(method, u, body string) *response {
		t.Helper()
		return request(method, u, body, cn.adminToken)
	}
	type sourceReply struct {
		Success bool `json:"success"`
		Source  struct {
			sourceJSON
			Description   string `json:"description"`
			SegmentLength int    `json:"segment_length"`
		} `json:"source"`
	}
	source := func(what string, r *response) sourceReply {
		t.Helper()
		var out sourceReply
		if r.Status != http.StatusOK {
			t.Fatalf("%s: %s, want 200", what, r)
		}
		decodeJSON(t, what, r.Body, &out)
		if !out.Success || out.Source.Name != src {
			t.Fatalf("%s: %s, want success and source %s", what, r, src)
		}
		return out
	}

	// 2. Start an edge (with --auth none the printed --mqtt/--ingest line;
	// with auth on, lmx edge add and --join). It prints the ffmpeg command.
	edge := startEdge(t, lmxBin, edgeName, cn, t.TempDir())
	if !strings.Contains(edge.proc.Output(), "-method POST "+edge.pushURL()) {
		t.Errorf("the edge did not print the ffmpeg command for %s", edge.pushURL())
	}

	// 3. Create the source, as in LiveMix.
	created := source("POST /v1/source", curl(http.MethodPost, cn.apiURL+"/v1/source",
		`{"name": "camera-0", "description": "front door", "segment_len": 2}`))
	if created.Source.Description != "front door" || created.Source.SegmentLength != 2 {
		t.Errorf("created %+v, want description \"front door\", segment length 2", created.Source)
	}

	// 4. Push the camera with LiveMix's flags (a test pattern stands in
	// for rtsp://camera/stream).
	dir := edge.allowDir
	startProc(t, "ffmpeg "+src, false, ffmpegBin, "-hide_banner", "-nostdin", "-loglevel", "error",
		"-re", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25",
		"-c:v", "libx264", "-preset", "veryfast", "-g", "50", "-sc_threshold", "0", "-an",
		"-strftime", "1", "-f", "hls", "-hls_time", "2", "-hls_list_size", "5",
		"-hls_flags", "delete_segments+independent_segments",
		"-hls_segment_filename", dir+"/camera-0-%s.ts",
		"-headers", "Video-Source-Name: camera-0\r\nMPEG-TS-URI-Prefix: file://"+dir+"\r\n",
		"-method", "POST", edge.pushURL())
	eventually(t, 20*time.Second, 250*time.Millisecond, "the source on the edge that pushes it", func() (bool, string) {
		r := curl(http.MethodGet, cn.apiURL+"/v1/source/camera-0", "")
		s := source("GET /v1/source/camera-0", r)
		return s.Source.Edge == edgeName && s.Source.EdgeOnline, r.String()
	})

	// 5. Stream it: the answer comes once the edge confirms.
	on := source("PUT streaming", curl(http.MethodPut, cn.apiURL+"/v1/source/camera-0/streaming?new_state=true", ""))
	if on.Source.Streaming != 1 {
		t.Errorf("streaming on answered %+v, want streaming 1", on.Source)
	}

	// 6. Watch with any HLS player: the URL as printed, or with auth on the
	// one `lmx source url` signs. A player has no token.
	live := cn.liveURL(src)
	player := live
	if cn.authOn() {
		player = sourceURL(t, cn, src)
	}
	var pl *hls.MediaPlaylist
	eventually(t, 30*time.Second, 250*time.Millisecond, "the live playlist full", func() (bool, string) {
		r := request(http.MethodGet, player, "", "")
		if r.Status != http.StatusOK {
			return false, r.String()
		}
		p, err := hls.ParseMediaPlaylist(bytes.NewReader(r.Body), 0)
		if err != nil {
			return false, err.Error()
		}
		if err := hls.CheckLive(p); err != nil {
			return false, err.Error()
		}
		pl = p
		return true, ""
	})
	if pl.TargetDuration != 2 {
		t.Errorf("target duration %d, want 2 (ffmpeg's -hls_time 2)", pl.TargetDuration)
	}
	seg := request(http.MethodGet, resolve(player, pl.Segments[len(pl.Segments)-1].URI), "", "")
	if err := checkSegment(seg); err != nil {
		t.Errorf("newest live segment: %v", err)
	}
	expectH264(t, player) // with --auth none: the plain URL, no header
	if cn.authOn() {
		expectError(t, "the unsigned live playlist with auth on", request(http.MethodGet, live, "", ""), http.StatusForbidden, true, "needs a grant")
	}

	// 7. Look around.
	var who struct {
		Whoami struct {
			Auth bool   `json:"auth"`
			Role string `json:"role"`
		} `json:"whoami"`
	}
	decodeJSON(t, "GET /v1/whoami", curl(http.MethodGet, cn.apiURL+"/v1/whoami", "").Body, &who)
	if who.Whoami.Auth != cn.authOn() || who.Whoami.Role != "admin" {
		t.Errorf("whoami %+v, want auth %v and role admin", who.Whoami, cn.authOn())
	}
	if out := mustLMX(t, cn, "source", "ls"); !strings.Contains(out, src) {
		t.Errorf("lmx source ls does not list %s:\n%s", src, out)
	}
	if out := mustLMX(t, cn, "source", "show", src); !strings.Contains(out, "front door") || !strings.Contains(out, edgeName) {
		t.Errorf("lmx source show %s does not show its description and edge:\n%s", src, out)
	}
	if out := mustLMX(t, cn, "edge", "ls"); !strings.Contains(out, edgeName) {
		t.Errorf("lmx edge ls does not list %s:\n%s", edgeName, out)
	}
	m := curl(http.MethodGet, cn.apiURL+"/metrics", "")
	if m.Status != http.StatusOK || !bytes.Contains(m.Body, []byte(`lmx_segments_in_total{source="camera-0"}`)) {
		t.Errorf("GET /metrics: %d, want 200 counting camera-0's segments", m.Status)
	}
	expectNoErrorsLogged(t, cn.proc)
	expectNoErrorsLogged(t, edge.proc)
}
