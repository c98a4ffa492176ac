package main

// ondemand: what an on-demand source costs while nobody watches, and how
// long a player waits for its first playlist.
//
//	lmxbench ondemand -edge URL -api URL -vod URL -dir SEGDIR -edge-pid PID [-source NAME]
//	                  [-quiet 3m] [-wakes 20] [-idle 3s] [-seglen 2]
//
// It creates the source on demand, starts ffmpeg pushing a real H.264 test
// pattern to the edge (as LiveMix's command does), and then:
//   - quiet: for -quiet nobody asks for the playlist; what the control node
//     received for the source (its /metrics), what the edge uploaded live
//     (its status) and what the edge process wrote to any socket or file
//     (/proc/PID/io wchar: MQTT status heartbeats and its answers to ffmpeg
//     included) are scaled to an hour;
//   - wakes: -wakes times, once the source is asleep again (-idle after the
//     last request), one playlist request as a player makes it, timed from
//     the request to the answer with a playable playlist (200, at least one
//     segment, its first segment fetched).

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

func cmdOnDemand(args []string) error {
	fs := flag.NewFlagSet("ondemand", flag.ExitOnError)
	edge := fs.String("edge", "", "edge base URL")
	api := fs.String("api", "", "management API base URL (serves /metrics too)")
	vod := fs.String("vod", "", "playback base URL")
	dir := fs.String("dir", "", "segment directory ffmpeg writes (an --allow-dir of the edge)")
	edgePID := fs.Int("edge-pid", 0, "the edge's pid, for /proc/PID/io")
	source := fs.String("source", "bench-ondemand", "source name")
	quiet := fs.Duration("quiet", 3*time.Minute, "how long nobody watches")
	wakes := fs.Int("wakes", 20, "wake-ups to time")
	idle := fs.Duration("idle", 3*time.Second, "the source's idle time")
	seglen := fs.Int("seglen", 2, "segment length ffmpeg cuts (s)")
	ffmpeg := fs.String("ffmpeg", "ffmpeg", "ffmpeg binary")
	_ = fs.Parse(args)
	if *edge == "" || *api == "" || *vod == "" || *dir == "" {
		return errors.New("ondemand: -edge, -api, -vod and -dir are required")
	}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: tokenTransport{http.DefaultTransport}}

	body, _ := json.Marshal(map[string]any{"name": *source, "segment_len": *seglen, "on_demand": true, "idle_seconds": int(*idle / time.Second)})
	if code, b, err := post(hc, *api+"/v1/source", body); err != nil || code != http.StatusOK {
		return fmt.Errorf("create source: %d %s %v", code, b, err)
	}
	req, _ := http.NewRequest(http.MethodPut, *api+"/v1/source/"+*source+"/streaming?new_state=true", nil)
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("streaming on: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("streaming on: %s", resp.Status)
	}

	// A real encoder: 640x360 H.264 at about 2 Mbit/s, in segments of
	// -seglen, pushed exactly as LiveMix's command does.
	gop := strconv.Itoa(25 * *seglen)
	ff := exec.Command(*ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error",
		"-re", "-f", "lavfi", "-i", "testsrc=size=640x360:rate=25",
		"-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-b:v", "2M", "-maxrate", "2M", "-bufsize", "4M",
		"-g", gop, "-keyint_min", gop, "-sc_threshold", "0", "-an",
		"-f", "hls", "-hls_time", strconv.Itoa(*seglen), "-hls_list_size", "5",
		"-hls_flags", "delete_segments+independent_segments",
		"-hls_segment_filename", filepath.Join(*dir, *source+"-%d.ts"),
		"-headers", "Video-Source-Name: "+*source+"\r\nMPEG-TS-URI-Prefix: file://"+*dir+"\r\n",
		"-method", "POST", *edge+"/v1/playlist")
	ff.Stderr = os.Stderr
	if err := ff.Start(); err != nil {
		return fmt.Errorf("ffmpeg: %w", err)
	}
	defer func() {
		_ = ff.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = ff.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = ff.Process.Kill()
			<-done
		}
	}()
	if err := waitUntil(60*time.Second, "the edge to buffer 12 s", func() (bool, error) {
		s, err := edgeStatus(hc, *edge, *source)
		return s.BufferedSeconds >= 12, err
	}); err != nil {
		return err
	}

	// Quiet: nobody watches.
	label := `{source="` + *source + `"}`
	metricsURL := *api + "/metrics"
	in0, err := metricValue(hc, metricsURL, "lmx_segment_bytes_in_total", label)
	if err != nil {
		return err
	}
	seg0, _ := metricValue(hc, metricsURL, "lmx_segments_in_total", label)
	st0, err := edgeStatus(hc, *edge, *source)
	if err != nil {
		return err
	}
	w0 := wchar(*edgePID)
	statusBytes := statusSize(hc, *edge)
	fmt.Fprintf(os.Stderr, "ondemand: nobody watches for %s\n", *quiet)
	t0 := time.Now()
	time.Sleep(*quiet)
	secs := time.Since(t0).Seconds()
	in1, _ := metricValue(hc, metricsURL, "lmx_segment_bytes_in_total", label)
	seg1, _ := metricValue(hc, metricsURL, "lmx_segments_in_total", label)
	st1, err := edgeStatus(hc, *edge, *source)
	if err != nil {
		return err
	}
	w1 := wchar(*edgePID)
	perHour := 3600 / secs
	fmt.Printf("QUIET_S=%.0f\n", secs)
	fmt.Printf("QUIET_SEGMENTS_IN=%.0f\n", seg1-seg0)
	fmt.Printf("QUIET_BYTES_IN=%.0f\n", in1-in0)
	fmt.Printf("QUIET_BYTES_IN_PER_HOUR=%.0f\n", (in1-in0)*perHour)
	fmt.Printf("QUIET_EDGE_LIVE_UPLOADS=%d\n", st1.Uploaded-st0.Uploaded)
	fmt.Printf("QUIET_EDGE_BUFFERED_S=%.1f\n", st1.BufferedSeconds)
	fmt.Printf("QUIET_EDGE_BITRATE_BPS=%d\n", st1.BitrateBPS)
	fmt.Printf("STATUS_BYTES=%d\n", statusBytes)
	if w0 >= 0 && w1 >= 0 {
		fmt.Printf("QUIET_EDGE_WCHAR_PER_HOUR=%.0f\n", float64(w1-w0)*perHour)
	} else {
		fmt.Println("QUIET_EDGE_WCHAR_PER_HOUR=NA")
	}

	// Wakes.
	play := *vod + "/v1/vod/live/" + *source + "/vid.m3u8"
	var took []time.Duration
	var segsListed []int
	failures := 0
	for i := range *wakes {
		if err := waitUntil(*idle+30*time.Second, "the source asleep", func() (bool, error) {
			awake, err := isAwake(hc, *api, *source)
			return !awake, err
		}); err != nil {
			return err
		}
		// Players come at any moment, not just after a segment.
		time.Sleep(time.Duration(i%5) * 230 * time.Millisecond)
		start := time.Now()
		code, b, err := get(hc, play)
		d := time.Since(start)
		n := bytes.Count(b, []byte("#EXTINF"))
		if err != nil || code != http.StatusOK || n == 0 {
			failures++
			fmt.Fprintf(os.Stderr, "ondemand: wake %d: %d after %s: %s %v\n", i+1, code, d, strings.TrimSpace(string(b)), err)
			continue
		}
		if err := firstSegment(hc, play, b); err != nil {
			failures++
			fmt.Fprintf(os.Stderr, "ondemand: wake %d: %v\n", i+1, err)
			continue
		}
		took = append(took, d)
		segsListed = append(segsListed, n)
		fmt.Fprintf(os.Stderr, "ondemand: wake %d: playable in %s, %d segments\n", i+1, d.Round(time.Millisecond), n)
	}
	slices.Sort(took)
	slices.Sort(segsListed)
	fmt.Printf("WAKES=%d\n", len(took))
	fmt.Printf("WAKE_FAILURES=%d\n", failures)
	if len(took) > 0 {
		fmt.Printf("WAKE_P50_MS=%s\nWAKE_P99_MS=%s\nWAKE_MIN_MS=%s\nWAKE_MAX_MS=%s\n", ms(pct(took, 50)), ms(pct(took, 99)), ms(took[0]), ms(took[len(took)-1]))
		fmt.Printf("WAKE_SEGMENTS_MIN=%d\nWAKE_SEGMENTS_MEDIAN=%d\n", segsListed[0], segsListed[len(segsListed)/2])
	}
	return nil
}

func post(hc *http.Client, url string, body []byte) (int, []byte, error) {
	resp, err := hc.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// waitUntil polls f every 100 ms until it says done, for at most limit.
func waitUntil(limit time.Duration, what string, f func() (bool, error)) error {
	deadline := time.Now().Add(limit)
	var last error
	for time.Now().Before(deadline) {
		ok, err := f()
		if ok {
			return nil
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("waited %s for %s (last error: %v)", limit, what, last)
}

// benchEdgeSource is what an edge says of one of its sources.
type benchEdgeSource struct {
	Name            string  `json:"name"`
	BufferedSeconds float64 `json:"buffered_seconds"`
	Uploaded        uint64  `json:"uploaded"`
	BitrateBPS      int64   `json:"bitrate_bps"`
}

func edgeStatus(hc *http.Client, edge, source string) (benchEdgeSource, error) {
	code, b, err := get(hc, edge+"/v1/status")
	if err != nil || code != http.StatusOK {
		return benchEdgeSource{}, fmt.Errorf("edge status: %d %v", code, err)
	}
	var out struct {
		Status struct {
			Sources []benchEdgeSource `json:"sources"`
		} `json:"status"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return benchEdgeSource{}, err
	}
	for _, s := range out.Status.Sources {
		if s.Name == source {
			return s, nil
		}
	}
	return benchEdgeSource{}, fmt.Errorf("edge does not list %s yet", source)
}

// statusSize is the size of the edge's status as it publishes it (its
// control-plane message every heartbeat).
func statusSize(hc *http.Client, edge string) int {
	_, b, err := get(hc, edge+"/v1/status")
	if err != nil {
		return -1
	}
	var out struct {
		Status json.RawMessage `json:"status"`
	}
	if json.Unmarshal(b, &out) != nil {
		return -1
	}
	return len(out.Status)
}

func isAwake(hc *http.Client, api, source string) (bool, error) {
	code, b, err := get(hc, api+"/v1/source/"+source)
	if err != nil || code != http.StatusOK {
		return false, fmt.Errorf("source: %d %v", code, err)
	}
	var out struct {
		Source struct {
			Awake         bool `json:"awake"`
			EdgeStreaming bool `json:"edge_streaming"`
		} `json:"source"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return false, err
	}
	return out.Source.Awake || out.Source.EdgeStreaming, nil
}

// firstSegment fetches the first segment pl lists (relative to play).
func firstSegment(hc *http.Client, play string, pl []byte) error {
	sc := bufio.NewScanner(bytes.NewReader(pl))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		u := play[:strings.LastIndexByte(play, '/')+1] + line
		code, b, err := get(hc, u)
		if err != nil || code != http.StatusOK || len(b) == 0 {
			return fmt.Errorf("first segment %s: %d %v", line, code, err)
		}
		return nil
	}
	return errors.New("no segment listed")
}

// wchar is what process pid wrote (/proc/PID/io), or -1.
func wchar(pid int) int64 {
	if pid <= 0 {
		return -1
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "wchar: "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err == nil {
				return n
			}
		}
	}
	return -1
}

// metricValue is one sample of a Prometheus text exposition (0 when the
// series does not exist yet).
func metricValue(hc *http.Client, url, name, labels string) (float64, error) {
	code, b, err := get(hc, url)
	if err != nil || code != http.StatusOK {
		return math.NaN(), fmt.Errorf("metrics: %d %v", code, err)
	}
	want := name + labels + " "
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, want); ok {
			return strconv.ParseFloat(strings.Fields(v)[0], 64)
		}
	}
	return 0, nil
}
