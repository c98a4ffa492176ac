package e2e

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Browser playback: headless Chromium runs hls.js from a page on an origin
// of its own (a test server on another port than the control node's
// playback listener), so every playlist and segment request is a
// cross-origin one and the control node's CORS answers are exercised as a
// web player meets them. scripts/test-deps.sh installs Debian's chromium
// and, with npm ci, the hls.js that testdata/browser/package-lock.json pins.

//go:embed testdata/browser/player.html
var playerPage []byte

// hlsJSPath is hls.js as npm ci puts it, relative to this package (go test
// runs in the package's directory).
const hlsJSPath = "testdata/browser/node_modules/hls.js/dist/hls.min.js"

// browserOpts says how long playInBrowser plays and what else it does.
type browserOpts struct {
	// PlaySeconds is how much the video element must have played before
	// the page reports its result (4 s when 0).
	PlaySeconds float64
	// SwitchLevel, when >= 0, is the level the page switches to
	// (hls.currentLevel = N) once a second has played; the result then
	// waits for the level-switched event as well. -1: no switch.
	SwitchLevel int
	// Timeout bounds the whole run, Chromium's start included (60 s when 0).
	Timeout time.Duration
}

// browserLevel is one hls.js level (variant) as the page saw it.
type browserLevel struct {
	Width   int `json:"width"`
	Height  int `json:"height"`
	Bitrate int `json:"bitrate"`
}

// browserResult is what the page reported, as a progress report or as its
// result.
type browserResult struct {
	Levels          []browserLevel `json:"levels"`
	FragmentsLoaded int            `json:"fragmentsLoaded"`
	// PlayedSeconds adds up the ranges the video element played
	// (video.played), so a seek adds nothing.
	PlayedSeconds float64 `json:"played"`
	// FatalError is hls.js's fatal error ("type/details HTTP code URL"), a
	// media element error or a page error; "" when there was none.
	FatalError string `json:"fatal"`
	// HTTPStatus is the status of the failed request behind the fatal error,
	// or of the last failed request hls.js retried past; 0 when none failed
	// or the request got no answer (a network or CORS failure).
	HTTPStatus int `json:"httpStatus"`
	// LevelSwitched is the level of the level-switched event after the
	// switch opts.SwitchLevel asked for; -1 when none.
	LevelSwitched int `json:"levelSwitched"`

	CurrentTime   float64 `json:"currentTime"`   // video.currentTime
	DecodedFrames int     `json:"decodedFrames"` // getVideoPlaybackQuality().totalVideoFrames
	VideoWidth    int     `json:"videoWidth"`
	VideoHeight   int     `json:"videoHeight"`
	ManifestURL   string  `json:"manifestURL"` // the URL hls.js loaded first
	HLSVersion    string  `json:"hlsVersion"`
	Errors        int     `json:"errors"`  // non-fatal hls.js errors
	Elapsed       float64 `json:"elapsed"` // seconds since the page started
	Reason        string  `json:"reason"`  // why the page reported: "played" or "fatal error"
}

func (r browserResult) String() string {
	s := fmt.Sprintf("played %.2f s (currentTime %.2f, %d frames decoded, %dx%d), %d fragments, levels %v, level switched %d, %d non-fatal errors, after %.1f s",
		r.PlayedSeconds, r.CurrentTime, r.DecodedFrames, r.VideoWidth, r.VideoHeight, r.FragmentsLoaded, r.Levels, r.LevelSwitched, r.Errors, r.Elapsed)
	if r.FatalError != "" {
		s += fmt.Sprintf("; fatal: %s (HTTP status %d)", r.FatalError, r.HTTPStatus)
	}
	return s
}

// browserDeps finds Chromium and hls.js. When either is missing the test
// fails (skips under -short): `make test` installs both.
func browserDeps(t *testing.T) (chromium, hlsJS string) {
	t.Helper()
	var missing []string
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			chromium = p
			break
		}
	}
	if chromium == "" {
		missing = append(missing, "chromium (not in PATH)")
	}
	hlsJS, err := filepath.Abs(hlsJSPath)
	if err == nil {
		_, err = os.Stat(hlsJS)
	}
	if err != nil {
		missing = append(missing, "hls.js ("+err.Error()+")")
	}
	if len(missing) > 0 {
		msg := "browser playback needs " + strings.Join(missing, " and ") +
			": `make test` installs them (scripts/test-deps.sh: apt-get install chromium, npm ci in e2e/testdata/browser)"
		if testing.Short() {
			t.Skip(msg)
		}
		t.Fatal(msg)
	}
	return chromium, hlsJS
}

// playInBrowser plays playlistURL (its query string kept as it is) with
// hls.js in headless Chromium, from a page served by a test server of its
// own on another loopback port, and returns what the page reported: after
// opts.PlaySeconds of playback, or at the first fatal error. The test fails
// when Chromium exits early or nothing is reported within opts.Timeout, with
// the page's last progress report and the tail of Chromium's stderr.
func playInBrowser(t *testing.T, playlistURL string, opts browserOpts) browserResult {
	t.Helper()
	chromium, hlsJS := browserDeps(t)
	if opts.PlaySeconds <= 0 {
		opts.PlaySeconds = 4
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 60 * time.Second
	}
	deadline := time.Now().Add(opts.Timeout)
	if dl, ok := t.Deadline(); ok && dl.Add(-5*time.Second).Before(deadline) {
		deadline = dl.Add(-5 * time.Second) // time left to report, before go test's own panic
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	start := time.Now()

	var (
		mu       sync.Mutex
		last     browserResult // the last progress report
		reports  int
		lastLog  time.Time
		resultCh = make(chan browserResult, 1)
	)
	decode := func(w http.ResponseWriter, r *http.Request) (browserResult, bool) {
		res := browserResult{LevelSwitched: -1}
		if err := json.NewDecoder(r.Body).Decode(&res); err != nil {
			t.Errorf("browser: %s: bad JSON: %v", r.URL.Path, err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return res, false
		}
		w.WriteHeader(http.StatusNoContent)
		return res, true
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /player.html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(playerPage)
	})
	mux.HandleFunc("GET /hls.min.js", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, hlsJS)
	})
	mux.HandleFunc("POST /log", func(w http.ResponseWriter, r *http.Request) {
		var m struct {
			Msg string `json:"msg"`
		}
		if err := json.NewDecoder(r.Body).Decode(&m); err == nil {
			t.Logf("[page] %s", m.Msg)
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /progress", func(w http.ResponseWriter, r *http.Request) {
		res, ok := decode(w, r)
		if !ok {
			return
		}
		mu.Lock()
		last, reports = res, reports+1
		logIt := time.Since(lastLog) >= 2*time.Second
		if logIt {
			lastLog = time.Now()
		}
		mu.Unlock()
		if logIt {
			t.Logf("[page] progress: %s", res)
		}
	})
	mux.HandleFunc("POST /result", func(w http.ResponseWriter, r *http.Request) {
		if res, ok := decode(w, r); ok {
			select {
			case resultCh <- res:
			default:
			}
		}
	})
	srv := httptest.NewServer(mux) // 127.0.0.1, a port of its own: another origin
	defer srv.Close()

	q := url.Values{}
	q.Set("src", playlistURL)
	q.Set("play", strconv.FormatFloat(opts.PlaySeconds, 'f', -1, 64))
	q.Set("switch", strconv.Itoa(opts.SwitchLevel))
	page := srv.URL + "/player.html?" + q.Encode()

	dir := t.TempDir()
	args := []string{
		"--headless=new",
		"--no-sandbox", // root in CI and containers
		"--disable-gpu",
		"--disable-dev-shm-usage", // a container's /dev/shm is small
		"--autoplay-policy=no-user-gesture-required",
		"--mute-audio",
		"--user-data-dir=" + filepath.Join(dir, "profile"),
		"--no-first-run",
		"--no-default-browser-check",
		"--no-proxy-server",
		"--disable-extensions",
		"--disable-background-networking",
		"--disable-component-update",
		"--disable-sync",
		"--disable-default-apps",
		"--disable-background-timer-throttling",
		"--disable-renderer-backgrounding",
		"--disable-backgrounding-occluded-windows",
		"--password-store=basic",
		"--use-mock-keychain",
		"--window-size=640,480",
		page,
	}
	stderr := &tailBuffer{max: 64 << 10}
	cmd := exec.Command(chromium, args...)
	cmd.Env = append(os.Environ(),
		"XDG_CONFIG_HOME="+filepath.Join(dir, "config"),
		"XDG_CACHE_HOME="+filepath.Join(dir, "cache"))
	cmd.Stdout, cmd.Stderr = stderr, stderr
	// Chromium is a wrapper script and a tree of processes: its own process
	// group, killed whole.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 2 * time.Second
	t.Logf("browser: %s %s", filepath.Base(chromium), shellJoin(args))
	if err := cmd.Start(); err != nil {
		t.Fatalf("browser: start %s: %v", chromium, err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}()

	fail := func(format string, a ...any) {
		t.Helper()
		mu.Lock()
		prog := "none"
		if reports > 0 {
			prog = last.String()
		}
		mu.Unlock()
		t.Fatalf("browser playing %s: %s\nlast progress report: %s\nchromium's stderr (tail):\n%s",
			playlistURL, fmt.Sprintf(format, a...), prog, stderr.tail(40))
	}
	select {
	case res := <-resultCh:
		t.Logf("browser: hls.js %s, %s: %s (in %s)", res.HLSVersion, res.Reason, res, time.Since(start).Round(time.Millisecond))
		return res
	case <-exited:
		fail("chromium exited before the page reported a result: %v", waitErr)
	case <-ctx.Done():
		fail("no result within %s", time.Since(start).Round(time.Second))
	}
	panic("unreachable")
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max int
	mu  sync.Mutex
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

// tail is the last n lines written, less Chromium's complaints that a
// container has no D-Bus.
func (b *tailBuffer) tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var lines []string
	dbus := 0
	for _, l := range strings.Split(strings.TrimRight(string(b.buf), "\n"), "\n") {
		if strings.Contains(l, ":ERROR:dbus/") {
			dbus++
			continue
		}
		lines = append(lines, l)
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	if dbus > 0 {
		lines = append(lines, fmt.Sprintf("(and %d lines about D-Bus, left out)", dbus))
	}
	return strings.Join(lines, "\n")
}
