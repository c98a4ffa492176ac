package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lmx-video/lmx/hls"
)

// The camera's password in the pull tests: it must never appear in an
// answer, an event or a log line.
const camPassword = "Kq7-hunter2-zX9"

// pythonGI is a python3 that has GStreamer's RTSP server bindings
// (Debian's python3-gi and gir1.2-gst-rtsp-server-1.0 are for the
// system's python, which a pyenv shim may hide).
func pythonGI(t *testing.T) string {
	t.Helper()
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		bin, err := exec.LookPath(py)
		if err != nil {
			continue
		}
		check := exec.Command(bin, "-c", "import gi; gi.require_version('GstRtspServer', '1.0'); from gi.repository import GstRtspServer")
		if check.Run() == nil {
			return bin
		}
	}
	t.Fatal("no python3 with GStreamer's RTSP server (python3-gi, gir1.2-gst-rtsp-server-1.0): run `make test-deps`")
	return ""
}

// startRTSPServer starts GStreamer's RTSP server (e2e/testdata/rtsp_server.py)
// serving a live 320x240 H.264 test pattern at rtsp://USER:PASS@127.0.0.1:PORT/test.
func startRTSPServer(t *testing.T, port int, user, pass string, extra ...string) *proc {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("testdata", "rtsp_server.py"))
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{script, strconv.Itoa(port), user, pass}, extra...)
	p := startProc(t, "rtsp-server", false, pythonGI(t), args...)
	eventually(t, 15*time.Second, 50*time.Millisecond, "RTSP server ready", func() (bool, string) {
		if p.Exited() {
			t.Fatalf("RTSP server exited: %s", p.Output())
		}
		return strings.Contains(p.Output(), "ready"), p.Output()
	})
	return p
}

// kill ends the process at once (SIGKILL), as a camera losing power does.
func (p *proc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// pullJSON is a source's pull report as the API shows it.
type pullJSON struct {
	State     string    `json:"state"`
	Since     time.Time `json:"since"`
	Restarts  int       `json:"restarts"`
	LastError string    `json:"last_error"`
	Video     string    `json:"video"`
	Audio     string    `json:"audio"`
	Warnings  []string  `json:"warnings"`
}

// answers keeps every API answer a test fetched, to search for secrets.
type answers struct {
	mu   sync.Mutex
	all  []string
	test *testing.T
}

func (a *answers) do(method, u, body string) *response {
	a.test.Helper()
	var rd *strings.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	var r *response
	if rd != nil {
		r = mustDo(a.test, method, u, nil, rd)
	} else {
		r = mustDo(a.test, method, u, nil, nil)
	}
	a.mu.Lock()
	a.all = append(a.all, string(r.Body))
	a.mu.Unlock()
	return r
}

// sourcePull is GET /v1/source/{name}'s pull report (nil without one).
func (a *answers) sourcePull(cn *controlNode, name string) (*pullJSON, string) {
	r := a.do(http.MethodGet, cn.apiURL+"/v1/source/"+url.PathEscape(name), "")
	var out struct {
		Source struct {
			PullURL string    `json:"pull_url"`
			Pull    *pullJSON `json:"pull"`
		} `json:"source"`
	}
	if err := json.Unmarshal(r.Body, &out); err != nil || r.Status != http.StatusOK {
		a.test.Fatalf("GET source %s: %v %s", name, err, r)
	}
	return out.Source.Pull, out.Source.PullURL
}

// edgePull is the edge's report of a source's pull in GET /v1/edge: found
// says whether the edge lists the source at all.
func (a *answers) edgePull(cn *controlNode, edge, source string) (p *pullJSON, found bool) {
	r := a.do(http.MethodGet, cn.apiURL+"/v1/edge", "")
	var out struct {
		Edges []struct {
			Name    string `json:"name"`
			Sources []struct {
				Name string    `json:"name"`
				Pull *pullJSON `json:"pull"`
			} `json:"sources"`
		} `json:"edges"`
	}
	if err := json.Unmarshal(r.Body, &out); err != nil {
		a.test.Fatalf("GET /v1/edge: %v", err)
	}
	for _, e := range out.Edges {
		if e.Name != edge {
			continue
		}
		for _, s := range e.Sources {
			if s.Name == source {
				return s.Pull, true
			}
		}
	}
	return nil, false
}

// childrenRunning are the pids of parent's children whose command line
// holds every one of subs.
func childrenRunning(parent int, subs ...string) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, ent := range ents {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", ent.Name(), "stat"))
		if err != nil {
			continue
		}
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(f) < 2 || f[1] != strconv.Itoa(parent) {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", ent.Name(), "cmdline"))
		all := true
		for _, s := range subs {
			all = all && bytes.Contains(cmdline, []byte(s))
		}
		if all {
			out = append(out, pid)
		}
	}
	return out
}

// noSecret fails the test if secret appears in any of texts; masked, when
// set, must appear in at least one.
func noSecret(t *testing.T, secret, masked string, texts map[string]string) {
	t.Helper()
	seen := false
	for what, s := range texts {
		if i := strings.Index(s, secret); i >= 0 {
			t.Errorf("the camera's password appears in %s: …%s…", what, s[max(0, i-80):min(len(s), i+40)])
		}
		seen = seen || strings.Contains(s, masked)
	}
	if masked != "" && !seen {
		t.Errorf("the masked URL %q appears nowhere", masked)
	}
}

// TestPullRTSPCamera: `POST /v1/source` with a pull URL makes the bound
// edge (the small lmx-edge binary) run ffmpeg against a real RTSP server
// (GStreamer's, RTP over TCP, basic auth, H.264 with G.711 audio): live
// decodes through the control node with the G.711 audio dropped and said
// so; the camera dead for 10 s shows in the status (state, error,
// restarts), and live resumes with a discontinuity and a media sequence
// that never goes back; a camera that stalls (its connection open, sending
// nothing) is restarted by progress and live resumes; clearing the pull URL
// stops ffmpeg; the password
// is in no answer, event or log line.
func TestPullRTSPCamera(t *testing.T) {
	cn := startControld(t)
	events := followEvents(t, cn)
	edge := startEdge(t, lmxEdgeBin, "cam-gw-1", cn, t.TempDir())
	port := freePort(t)
	rtsp := startRTSPServer(t, port, "cam", camPassword, "--audio", "alaw")
	pullURL := fmt.Sprintf("rtsp://cam:%s@127.0.0.1:%d/test", camPassword, port)
	masked := fmt.Sprintf("rtsp://cam:xxxxx@127.0.0.1:%d/test", port)
	a := &answers{test: t}

	r := a.do(http.MethodPost, cn.apiURL+"/v1/source", `{"name":"camera-0","pull_url":"`+pullURL+`","edge":"cam-gw-1","segment_len":1}`)
	if r.Status != http.StatusOK {
		t.Fatalf("POST /v1/source with a pull URL: %s", r)
	}
	live := cn.liveURL("camera-0")
	start := time.Now()
	waitLive(t, live, 40*time.Second)
	t.Logf("live through the control node %s after the source was added", time.Since(start).Round(time.Millisecond))
	expectH264(t, live) // one stream: the G.711 track is not carried

	pull, shown := a.sourcePull(cn, "camera-0")
	if shown != masked {
		t.Errorf("pull_url shown as %q, want %q", shown, masked)
	}
	if pull == nil || pull.State != "running" || pull.Video != "h264" || pull.Audio != "" {
		t.Fatalf("pull report %+v: want running, h264, no audio carried", pull)
	}
	// A loaded machine may also make the test camera's encoder stretch a
	// GOP past the segment length, which the edge rightly warns about too.
	if !slices.ContainsFunc(pull.Warnings, func(w string) bool { return strings.Contains(w, "G.711") }) {
		t.Errorf("warnings %q: want one saying the G.711 audio is dropped", pull.Warnings)
	}

	// The media sequence of the live playlist, watched from here on.
	var lastMS uint64
	var lastSeg string
	watch := func() (*hls.MediaPlaylist, error) {
		pl, _, err := fetchPlaylist(live)
		if err != nil {
			return nil, err
		}
		if pl.MediaSequence < lastMS {
			t.Errorf("EXT-X-MEDIA-SEQUENCE went back from %d to %d", lastMS, pl.MediaSequence)
		}
		lastMS = pl.MediaSequence
		if n := len(pl.Segments); n > 0 {
			lastSeg = pl.Segments[n-1].URI
		}
		return pl, nil
	}
	if _, err := watch(); err != nil {
		t.Fatal(err)
	}
	before := lastSeg

	// The camera loses power for 10 s.
	rtsp.kill()
	killed := time.Now()
	eventually(t, 25*time.Second, 250*time.Millisecond, "the pull reports the camera gone", func() (bool, string) {
		_, _ = watch()
		p, _ := a.sourcePull(cn, "camera-0")
		return p != nil && p.State != "running" && p.LastError != "" && p.Restarts > 0, fmt.Sprintf("%+v", p)
	})
	p, _ := a.sourcePull(cn, "camera-0")
	t.Logf("%s after the camera died: %+v", time.Since(killed).Round(time.Millisecond), *p)
	for time.Since(killed) < 10*time.Second {
		_, _ = watch()
		time.Sleep(500 * time.Millisecond)
	}
	rtsp = startRTSPServer(t, port, "cam", camPassword, "--audio", "alaw")
	back := time.Now()
	eventually(t, 40*time.Second, 250*time.Millisecond, "live resumes with a discontinuity", func() (bool, string) {
		pl, err := watch()
		if err != nil {
			return false, err.Error()
		}
		// The segments after the last one listed before the outage (all of
		// them once it slid out).
		from := 0
		for i, s := range pl.Segments {
			if s.URI == before {
				from = i + 1
			}
		}
		disc, newer := false, len(pl.Segments)-from
		for _, s := range pl.Segments[from:] {
			disc = disc || s.Discontinuity
		}
		return disc && newer >= 3, fmt.Sprintf("%d segments after the outage, discontinuity %t", newer, disc)
	})
	t.Logf("live again %s after the camera came back", time.Since(back).Round(time.Millisecond))
	expectH264(t, live)
	p, _ = a.sourcePull(cn, "camera-0")
	if p == nil || p.State != "running" || p.Restarts < 1 {
		t.Errorf("after the camera came back: %+v, want running with restarts", p)
	}

	// The camera stalls: its connection stays open and sends nothing
	// (SIGSTOP), as RTSP cameras do rather than exit. The edge notices by
	// progress, restarts ffmpeg, and live resumes once the camera does.
	restarts, lastErr := p.Restarts, p.LastError
	if err := rtsp.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stalled := time.Now()
	eventually(t, 30*time.Second, 250*time.Millisecond, "the pull reports the stalled camera", func() (bool, string) {
		_, _ = watch()
		p, _ := a.sourcePull(cn, "camera-0")
		// The restart itself may wait out a backoff the outage above
		// stretched; the state and the new error line come first.
		return p != nil && p.State != "running" && p.LastError != lastErr, fmt.Sprintf("%+v", p)
	})
	p, _ = a.sourcePull(cn, "camera-0")
	t.Logf("%s after the camera stalled: %+v", time.Since(stalled).Round(time.Millisecond), *p)
	if err := rtsp.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	before = lastSeg
	eventually(t, 45*time.Second, 250*time.Millisecond, "live resumes after the stall", func() (bool, string) {
		pl, err := watch()
		if err != nil {
			return false, err.Error()
		}
		p, _ := a.sourcePull(cn, "camera-0")
		newer := 0
		for i, s := range pl.Segments {
			if s.URI == before {
				newer = len(pl.Segments) - i - 1
			}
		}
		return p != nil && p.State == "running" && p.Restarts > restarts && newer >= 2, fmt.Sprintf("%d new segments, pull %+v", newer, p)
	})

	// Clearing the pull URL stops ffmpeg.
	if r := a.do(http.MethodPatch, cn.apiURL+"/v1/source/camera-0", `{"pull_url":""}`); r.Status != http.StatusOK {
		t.Fatalf("PATCH pull_url \"\": %s", r)
	}
	edgePid := edge.proc.cmd.Process.Pid
	eventually(t, 15*time.Second, 200*time.Millisecond, "ffmpeg stopped and the pull reported stopped", func() (bool, string) {
		kids := childrenRunning(edgePid, "ffmpeg", "rtsp://")
		p, _ := a.edgePull(cn, "cam-gw-1", "camera-0")
		return len(kids) == 0 && p != nil && p.State == "stopped", fmt.Sprintf("ffmpeg children %v, pull %+v", kids, p)
	})

	noSecret(t, camPassword, masked, map[string]string{
		"the control node's log": cn.proc.Output(),
		"the edge's log":         edge.proc.Output(),
		"the API's answers":      strings.Join(a.all, "\n"),
		"the event stream":       events.text(),
	})
}

// rtmpListener is ffmpeg serving a live test pattern as an RTMP server
// (-listen 1), started again each time its one client has gone: a camera
// that takes one client at a time (the edge's probe, then its ffmpeg).
func rtmpListener(t *testing.T, port int) string {
	t.Helper()
	u := fmt.Sprintf("rtmp://127.0.0.1:%d/live/cam", port)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			cmd := exec.CommandContext(ctx, ffmpegBin, "-hide_banner", "-nostdin", "-loglevel", "error",
				"-re", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25",
				"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-pix_fmt", "yuv420p", "-g", "25",
				"-f", "flv", "-listen", "1", u)
			_ = cmd.Run()
			time.Sleep(50 * time.Millisecond)
		}
	}()
	t.Cleanup(func() { cancel(); wg.Wait() })
	return u
}

// TestPullRTMPListen: a pull from ffmpeg serving RTMP in listen mode
// decodes through the control node; deleting the source stops the edge's
// ffmpeg.
func TestPullRTMPListen(t *testing.T) {
	cn := startControld(t)
	edge := startEdge(t, lmxBin, "gw-rtmp", cn, t.TempDir())
	u := rtmpListener(t, freePort(t))
	a := &answers{test: t}
	if r := a.do(http.MethodPost, cn.apiURL+"/v1/source", `{"name":"cam-rtmp","pull_url":"`+u+`","segment_len":1}`); r.Status != http.StatusOK {
		t.Fatalf("POST /v1/source (the one online edge pulls): %s", r)
	}
	live := cn.liveURL("cam-rtmp")
	waitLive(t, live, 40*time.Second)
	expectH264(t, live)
	p, _ := a.sourcePull(cn, "cam-rtmp")
	if p == nil || p.State != "running" || p.Video != "h264" {
		t.Errorf("pull report %+v", p)
	}
	edgePid := edge.proc.cmd.Process.Pid
	if kids := childrenRunning(edgePid, "ffmpeg", u); len(kids) != 1 {
		t.Errorf("ffmpeg children of the edge pulling %s: %v, want one", u, kids)
	}
	if r := a.do(http.MethodDelete, cn.apiURL+"/v1/source/cam-rtmp", ""); r.Status != http.StatusOK {
		t.Fatalf("DELETE the pulled source: %s", r)
	}
	eventually(t, 15*time.Second, 200*time.Millisecond, "ffmpeg stopped with the source", func() (bool, string) {
		kids := childrenRunning(edgePid, "ffmpeg", u)
		p, _ := a.edgePull(cn, "gw-rtmp", "cam-rtmp")
		return len(kids) == 0 && (p == nil || p.State == "stopped"), fmt.Sprintf("ffmpeg children %v, pull %+v", kids, p)
	})
}

// TestPullRefusesH265: a camera sending H.265 is refused with a status
// line saying why (Apple players need fMP4 for it), and no ffmpeg runs.
func TestPullRefusesH265(t *testing.T) {
	cn := startControld(t)
	edge := startEdge(t, lmxEdgeBin, "gw-hevc", cn, t.TempDir())
	port := freePort(t)
	startRTSPServer(t, port, "cam", camPassword, "--codec", "h265")
	a := &answers{test: t}
	pullURL := fmt.Sprintf("rtsp://cam:%s@127.0.0.1:%d/test", camPassword, port)
	if r := a.do(http.MethodPost, cn.apiURL+"/v1/source", `{"name":"cam-hevc","pull_url":"`+pullURL+`","edge":"gw-hevc"}`); r.Status != http.StatusOK {
		t.Fatalf("POST /v1/source: %s", r)
	}
	var p *pullJSON
	eventually(t, 30*time.Second, 250*time.Millisecond, "the H.265 camera refused", func() (bool, string) {
		p, _ = a.sourcePull(cn, "cam-hevc")
		return p != nil && p.State == "refused", fmt.Sprintf("%+v", p)
	})
	t.Logf("pull report: %+v", *p)
	if p.Video != "h265" || !strings.Contains(p.LastError, "H.265") || !strings.Contains(p.LastError, "fMP4") {
		t.Errorf("pull report %+v: want video h265 and a line saying H.265 needs fMP4", p)
	}
	if kids := childrenRunning(edge.proc.cmd.Process.Pid, "ffmpeg"); len(kids) != 0 {
		t.Errorf("ffmpeg runs for a refused camera: %v", kids)
	}
	noSecret(t, camPassword, "", map[string]string{
		"the control node's log": cn.proc.Output(),
		"the edge's log":         edge.proc.Output(),
		"the API's answers":      strings.Join(a.all, "\n"),
	})
}
