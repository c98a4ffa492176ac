package demo

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lmx-video/lmx/edged"
	"github.com/lmx-video/lmx/internal/syncbuf"
)

// freePorts returns n distinct loopback ports nothing listens on.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close() // held until all are picked, so they differ
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

// testConfig is a demo on free ports with its temporary data directory in
// a directory of the test's, which isolated checks is empty again at the end.
func testConfig(t *testing.T) Config {
	p := freePorts(t, 4)
	return Config{Source: "camera-0", APIPort: p[0], VODPort: p[1], MQTTPort: p[2], EdgePort: p[3]}
}

// isolated points the demo's temporary directory into the test's and, at
// the end, checks that the demo removed what it made there and that the
// goroutines it started are gone.
func isolated(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	before := goroutines()
	t.Cleanup(func() {
		if t.Failed() {
			return
		}
		if left, _ := os.ReadDir(tmp); len(left) > 0 {
			t.Errorf("the demo left %s in the temporary directory", left[0].Name())
		}
		// A goroutine may take a moment to go once told to.
		var left []string
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			left = left[:0]
			for id, stack := range goroutines() {
				if _, ok := before[id]; !ok && !benign(stack) {
					left = append(left, stack)
				}
			}
			if len(left) == 0 {
				return
			}
		}
		t.Errorf("%d goroutines left after the demo:\n\n%s", len(left), strings.Join(left, "\n\n"))
	})
}

// goroutines are the stacks of the running goroutines by id.
func goroutines() map[string]string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	out := map[string]string{}
	for _, g := range strings.Split(string(buf), "\n\n") {
		if id, _, ok := strings.Cut(strings.TrimPrefix(g, "goroutine "), " "); ok {
			out[id] = g
		}
	}
	return out
}

// benign are goroutines of the libraries below that outlive what started
// them by design: fasthttp's process-wide clock, and its worker pool's
// cleaner, which notices the pool stopped at its next tick, up to 10 s on.
func benign(stack string) bool {
	return strings.Contains(stack, "fasthttp.updateServerDate") ||
		strings.Contains(stack, "fasthttp.(*workerPool).Start.func2")
}

// portsFree fails unless every port can be bound again.
func portsFree(t *testing.T, ports ...int) {
	t.Helper()
	for _, p := range ports {
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			t.Errorf("port %d still taken after the demo returned: %v", p, err)
			continue
		}
		ln.Close()
	}
}

// testLogger collects the demo's log, shown if the test fails.
func testLogger(t *testing.T) *slog.Logger {
	var logs syncbuf.Buffer
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("demo log:\n%s", logs.String())
		}
	})
	return slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// started is a demo running in the background.
type started struct {
	out    *syncbuf.Buffer
	cancel context.CancelFunc
	done   chan error
}

func start(t *testing.T, cfg Config, newEdge newEdgeFunc) *started {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &started{out: &syncbuf.Buffer{}, cancel: cancel, done: make(chan error, 1)}
	logger := testLogger(t)
	go func() { s.done <- run(ctx, cfg, logger, s.out, "v0-test", newEdge) }()
	t.Cleanup(func() {
		// A test that failed half-way still stops its demo.
		cancel()
		select {
		case <-s.done:
		case <-time.After(30 * time.Second):
			t.Error("the demo did not stop within 30 s of its cancel")
		}
	})
	return s
}

// waitOutput waits until the demo's output matches re and returns the match.
func (s *started) waitOutput(t *testing.T, re *regexp.Regexp, limit time.Duration) []string {
	t.Helper()
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if m := re.FindStringSubmatch(s.out.String()); m != nil {
			return m
		}
		select {
		case err := <-s.done:
			s.done <- err
			t.Fatalf("the demo returned %v before printing %s; output:\n%s", err, re, s.out.String())
		default:
		}
	}
	t.Fatalf("no %s in the demo's output after %s:\n%s", re, limit, s.out.String())
	return nil
}

// stop cancels the demo and returns what Run returned.
func (s *started) stop(t *testing.T) error {
	t.Helper()
	s.cancel()
	select {
	case err := <-s.done:
		s.done <- err
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("the demo did not stop within 30 s of its cancel")
		return nil
	}
}

var playbackLine = regexp.MustCompile(`(?m)^  ffplay (\S+)$`)

// get fetches url and returns the body of a 200 answer.
// status is the status code of GET url.
func status(t *testing.T, url string) int {
	t.Helper()
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func get(t *testing.T, url string) []byte {
	t.Helper()
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", url, resp.Status, body)
	}
	return body
}

// TestDemo runs the whole demo with each test source: it prints a playback
// URL, that URL serves a live playlist whose segments play, and a cancel
// stops everything, leaving the ports free and no temporary files.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a control node, an edge and a test source for a few seconds")
	}
	_, ffmpegErr := exec.LookPath("ffmpeg")
	for _, tt := range []struct {
		name     string
		noFFmpeg bool
		noPath   bool // ffmpeg is not on PATH
		from     string
	}{
		{name: "ffmpeg", from: "ffmpeg's test pattern"},
		{name: "no-ffmpeg flag", noFFmpeg: true, from: "the lmx demo clip, looped"},
		{name: "ffmpeg not installed", noPath: true, from: "the lmx demo clip (ffmpeg not found), looped"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "ffmpeg" && ffmpegErr != nil {
				t.Skip("ffmpeg is not installed")
			}
			if tt.noPath {
				t.Setenv("PATH", t.TempDir())
			}
			isolated(t)
			cfg := testConfig(t)
			cfg.NoFFmpeg = tt.noFFmpeg
			d := start(t, cfg, edged.New)

			first := d.waitOutput(t, regexp.MustCompile(`lmx demo: control node at (\S+), edge "demo-edge" at (\S+), source "camera-0" from (.*)\n`), 15*time.Second)
			if want := "http://127.0.0.1:" + strconv.Itoa(cfg.APIPort); first[1] != want {
				t.Errorf("control node at %s, want %s", first[1], want)
			}
			if want := "127.0.0.1:" + strconv.Itoa(cfg.EdgePort); first[2] != want {
				t.Errorf("edge at %s, want %s", first[2], want)
			}
			if !strings.HasPrefix(first[3], tt.from) {
				t.Errorf("source from %q, want %q", first[3], tt.from)
			}

			playback := d.waitOutput(t, playbackLine, 60*time.Second)[1]
			// Access control is on: the URL is signed, and plays as it is.
			if want := "http://127.0.0.1:" + strconv.Itoa(cfg.VODPort) + "/v1/vod/live/camera-0/vid.m3u8?grant="; !strings.HasPrefix(playback, want) {
				t.Errorf("playback URL %s, want %s…", playback, want)
			}
			unsigned, _, _ := strings.Cut(playback, "?")
			if code := status(t, unsigned); code != http.StatusForbidden {
				t.Errorf("the playlist without its grant: %d, want 403", code)
			}
			pl := get(t, playback)
			if !bytes.HasPrefix(pl, []byte("#EXTM3U\n")) || !bytes.Contains(pl, []byte("#EXTINF:")) {
				t.Fatalf("playlist:\n%s", pl)
			}
			var segment string
			for sc := bufio.NewScanner(bytes.NewReader(pl)); sc.Scan(); {
				if line := sc.Text(); line != "" && !strings.HasPrefix(line, "#") {
					segment = line
					break
				}
			}
			base, _ := url.Parse(playback)
			ref, err := url.Parse(segment)
			if err != nil || segment == "" {
				t.Fatalf("no segment URI in the playlist:\n%s", pl)
			}
			if ts := get(t, base.ResolveReference(ref).String()); len(ts) < 188 || ts[0] != 0x47 {
				t.Errorf("segment %s is not MPEG-TS (%d bytes)", segment, len(ts))
			}

			if err := d.stop(t); err != nil {
				t.Fatalf("Run after cancel: %v", err)
			}
			if !strings.HasSuffix(d.out.String(), "\nlmx demo stopped.\n") {
				t.Errorf("output does not end with the stop message:\n%s", d.out.String())
			}
			portsFree(t, cfg.APIPort, cfg.VODPort, cfg.MQTTPort, cfg.EdgePort)
		})
	}
}

// TestDemoEdgeFailsToStart makes the edge fail to start, on a taken port and
// on a configuration it rejects: Run returns the edge's error, and the
// control node it had started is gone, its ports free again.
func TestDemoEdgeFailsToStart(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	for name, tt := range map[string]struct {
		change func(*edged.Config)
		want   string
	}{
		"port taken": {func(c *edged.Config) { c.Listen = taken.Addr().String() }, "ingest listener"},
		"bad config": {func(c *edged.Config) { c.Name = "demo/edge" }, "--name"},
	} {
		t.Run(name, func(t *testing.T) {
			isolated(t)
			cfg := testConfig(t)
			d := start(t, cfg, func(c edged.Config, l *slog.Logger, v string) (*edged.Edge, error) {
				tt.change(&c)
				return edged.New(c, l, v)
			})
			select {
			case err := <-d.done:
				if err == nil || !strings.Contains(err.Error(), "demo edge: ") || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("Run = %v, want the edge's error (%s)", err, tt.want)
				}
				d.done <- err
			case <-time.After(30 * time.Second):
				t.Fatal("Run did not return after the edge failed")
			}
			portsFree(t, cfg.APIPort, cfg.VODPort, cfg.MQTTPort, cfg.EdgePort)
			if d.out.String() != "" {
				t.Errorf("output of a demo that did not start:\n%s", d.out.String())
			}
		})
	}
}

// TestDemoControlNodeFailsToStart: a data directory the control node cannot
// use is an error, and nothing is left listening.
func TestDemoControlNodeFailsToStart(t *testing.T) {
	isolated(t)
	cfg := testConfig(t)
	cfg.DataDir = t.TempDir()
	if err := os.WriteFile(filepath.Join(cfg.DataDir, "controld"), []byte("not a directory"), 0o644); err != nil {
		t.Fatal(err)
	}
	d := start(t, cfg, func(edged.Config, *slog.Logger, string) (*edged.Edge, error) {
		t.Error("the edge was started after the control node failed")
		return nil, errors.New("unexpected")
	})
	select {
	case err := <-d.done:
		if err == nil || !strings.Contains(err.Error(), "demo control node: ") {
			t.Fatalf("Run = %v, want the control node's error", err)
		}
		d.done <- err
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after the control node failed")
	}
	portsFree(t, cfg.APIPort, cfg.VODPort, cfg.MQTTPort, cfg.EdgePort)
}

// TestDemoCancelWhileStarting ends the demo while it starts, before it
// begins and once the control node holds its ports: Run returns nil having
// stopped what it started.
func TestDemoCancelWhileStarting(t *testing.T) {
	for name, early := range map[string]bool{"before the start": true, "after the control node": false} {
		t.Run(name, func(t *testing.T) {
			isolated(t)
			cfg := testConfig(t)
			cfg.NoFFmpeg = true
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if early {
				cancel()
			}
			var out syncbuf.Buffer
			err := run(ctx, cfg, testLogger(t), &out, "v0-test", func(c edged.Config, l *slog.Logger, v string) (*edged.Edge, error) {
				cancel() // as Ctrl-C right after the control node bound its ports
				return edged.New(c, l, v)
			})
			if err != nil {
				t.Fatalf("Run = %v, want nil after a cancel", err)
			}
			if out.String() != "\nlmx demo stopped.\n" {
				t.Errorf("output:\n%s", out.String())
			}
			portsFree(t, cfg.APIPort, cfg.VODPort, cfg.MQTTPort, cfg.EdgePort)
		})
	}
}

// TestDemoTestSourceFails: an ffmpeg that exits at once ends the demo with
// an error that suggests --no-ffmpeg, after stopping everything else.
func TestDemoTestSourceFails(t *testing.T) {
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "ffmpeg"), []byte("#!/bin/sh\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin)
	isolated(t)
	cfg := testConfig(t)
	d := start(t, cfg, edged.New)
	select {
	case err := <-d.done:
		if err == nil || !strings.Contains(err.Error(), "ffmpeg stopped: exit status 3") || !strings.Contains(err.Error(), "--no-ffmpeg") {
			t.Fatalf("Run = %v, want ffmpeg's exit", err)
		}
		d.done <- err
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after ffmpeg failed")
	}
	portsFree(t, cfg.APIPort, cfg.VODPort, cfg.MQTTPort, cfg.EdgePort)
}
