package edged

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/broker/client"
)

// rtmpCamera is ffmpeg serving a live test pattern as an RTMP server
// (-listen 1), started again each time a client has come and gone (the
// probe, then the pull), like a camera that takes one client at a time.
func rtmpCamera(t *testing.T) string {
	t.Helper()
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("ffmpeg not installed (make test-deps)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	u := "rtmp://127.0.0.1:" + strconv.Itoa(port) + "/live/cam"
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			cmd := exec.CommandContext(ctx, ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error",
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

// pullChildren are the pids of this process's children running ffmpeg
// with dir in their command line.
func pullChildren(t *testing.T, dir string) []int {
	t.Helper()
	ents, _ := os.ReadDir("/proc")
	var out []int
	me := strconv.Itoa(os.Getpid())
	for _, ent := range ents {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", ent.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(f) < 2 || f[1] != me {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", ent.Name(), "cmdline"))
		if bytes.Contains(cmdline, []byte(dir)) {
			out = append(out, pid)
		}
	}
	return out
}

// TestPullRealFFmpeg: the edge runs the real ffmpeg on a desired state
// naming a pull URL; its segments arrive at the edge's own ingest (in the
// ring buffer), the status reports the pull running with its codec, and
// once Run returns no ffmpeg child is left and the directory is gone.
func TestPullRealFFmpeg(t *testing.T) {
	if testing.Short() {
		t.Skip("runs ffmpeg for a few seconds")
	}
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("needs /proc")
	}
	cam := rtmpCamera(t)
	state := t.TempDir()
	cfg := Config{
		Name: "edge-t", Listen: "127.0.0.1:0", StateDir: state,
		// No control node: pushes are taken while it cannot be reached.
		MQTT: "mqtt://127.0.0.1:1", Ingest: "http://127.0.0.1:1",
		AllowDirs: []string{t.TempDir()}, Buffer: time.Minute, BufferBytes: 64 << 20,
		MaxPlaylistBytes: 1 << 20, MaxSegmentBytes: 16 << 20, Heartbeat: time.Second,
	}
	e, err := New(cfg, slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})), "test")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runDone := make(chan error, 1)
	go func() { runDone <- e.Run(ctx) }()
	waitFor(t, "Run to start", func() bool {
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.runCtx != nil
	})
	d := broker.Desired{V: broker.Version, Edge: "edge-t", Generation: 1,
		Sources: map[string]broker.DesiredSource{"cam": {PullURL: cam, SegmentLen: 1}}}
	e.onDesired(client.Message{Payload: broker.Encode(d)})

	// Shown at once, before any segment.
	if st := findSource(e.Status(true), "cam"); st == nil || st.Pull == nil {
		t.Fatalf("status right after the desired state: %+v", e.Status(true).Sources)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		n, _, _, _ := e.ring.stats("cam")
		st := findSource(e.Status(true), "cam")
		if n >= 3 && st.Pull.State == pullRunning {
			t.Logf("after %d segments: %+v", n, *st.Pull)
			if st.Pull.Video != "h264" || st.Pull.Audio != "" {
				t.Errorf("codecs %q/%q, want h264 and no audio", st.Pull.Video, st.Pull.Audio)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no segments from the pull after 30 s: %d buffered, status %+v", n, st.Pull)
		}
		time.Sleep(100 * time.Millisecond)
	}
	dir := filepath.Join(state, pullDirName, "cam")
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("segment directory %s: %v %v, want 0700", dir, fi, err)
	}
	pids := pullChildren(t, dir)
	if len(pids) != 1 {
		t.Fatalf("ffmpeg children pulling into %s: %v, want one", dir, pids)
	}

	cancel()
	select {
	case err := <-runDone:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return")
	}
	if _, err := os.Stat(filepath.Join("/proc", strconv.Itoa(pids[0]))); !os.IsNotExist(err) {
		t.Errorf("ffmpeg (pid %d) is still there after Run returned: %v", pids[0], err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("segment directory left behind: %v", err)
	}
}

func findSource(st broker.EdgeStatus, name string) *broker.SourceStatus {
	for i := range st.Sources {
		if st.Sources[i].Name == name {
			return &st.Sources[i]
		}
	}
	return nil
}

// testWriter sends log lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
