package edged

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a pullClock that moves only when the test says.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []fakeWaiter
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, fakeWaiter{at: c.now.Add(d), ch: ch})
	return ch
}

// pending is how many timers wait for a time still to come.
func (c *fakeClock) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}

// waitingUntil reports whether a timer waits for exactly at.
func (c *fakeClock) waitingUntil(at time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, w := range c.waiters {
		if w.at.Equal(at) {
			return true
		}
	}
	return false
}

// advance moves the clock by d and fires every timer due.
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(c.now) {
			w.ch <- c.now
		} else {
			kept = append(kept, w)
		}
	}
	c.waiters = kept
}

// fakeRun is one ffmpeg run of the fake runner.
type fakeRun struct {
	args    []string
	stderr  func(string)
	exit    chan error
	stopped chan struct{} // closed when the supervisor stopped the run
}

// fakeRunner probes with a fixed answer and hands each run to the test.
type fakeRunner struct {
	mu       sync.Mutex
	streams  []probeStream
	probeErr error
	probes   int
	runs     chan *fakeRun
}

func newFakeRunner(streams ...probeStream) *fakeRunner {
	return &fakeRunner{streams: streams, runs: make(chan *fakeRun, 16)}
}

func (f *fakeRunner) probe(context.Context, string) ([]probeStream, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.probes++
	return f.streams, f.probeErr
}

func (f *fakeRunner) run(ctx context.Context, args []string, stderr func(string)) error {
	r := &fakeRun{args: args, stderr: stderr, exit: make(chan error, 1), stopped: make(chan struct{})}
	f.runs <- r
	select {
	case err := <-r.exit:
		return err
	case <-ctx.Done():
		close(r.stopped)
		return errors.New("signal: terminated")
	}
}

var h264 = probeStream{Type: "video", Codec: "h264"}

const camURL = "rtsp://admin:hunter2@10.0.0.7:554/stream"

// startPuller runs a puller of camURL with the fake runner and clock.
func startPuller(t *testing.T, r *fakeRunner, c *fakeClock, segLen int) (*puller, context.CancelFunc) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "cam")
	p := newPuller("cam", pullSpec{url: camURL, segLen: segLen}, dir, "http://127.0.0.1:9080/v1/playlist", r, c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	go p.loop(ctx)
	t.Cleanup(func() {
		cancel()
		<-p.done
	})
	return p, cancel
}

func nextRun(t *testing.T, r *fakeRunner) *fakeRun {
	t.Helper()
	select {
	case run := <-r.runs:
		return run
	case <-time.After(10 * time.Second):
		t.Fatal("ffmpeg was not started")
		return nil
	}
}

func waitState(t *testing.T, p *puller, state string) {
	t.Helper()
	waitFor(t, "pull state "+state, func() bool { return p.status().State == state })
}

// TestPullBackoff: each failure in a row doubles the wait before ffmpeg
// starts again, up to 30 s; a good run starts the doubling over; the
// error line is kept, masked; restarts are counted.
func TestPullBackoff(t *testing.T) {
	r, c := newFakeRunner(h264), newFakeClock()
	p, _ := startPuller(t, r, c, 2)
	for i, want := range []time.Duration{1, 2, 4, 8, 16, 30, 30} {
		want *= time.Second
		run := nextRun(t, r)
		if got := p.status().Restarts; got != i {
			t.Fatalf("run %d: restarts %d, want %d", i+1, got, i)
		}
		run.stderr("[rtsp @ 0x55d1] [error] method DESCRIBE failed: 401 Unauthorized rtsp://admin:hunter2@10.0.0.7:554/stream")
		run.exit <- errors.New("exit status 1")
		waitState(t, p, pullBackoff)
		st := p.status()
		if strings.Contains(st.LastError, "hunter2") || !strings.HasPrefix(st.LastError, "[rtsp @ 0x55d1] method DESCRIBE failed: 401 Unauthorized") {
			t.Fatalf("LastError %q: want ffmpeg's error line with the password masked", st.LastError)
		}
		var retryAt time.Time
		waitFor(t, "the backoff timer", func() bool {
			p.mu.Lock()
			retryAt = p.retryAt
			p.mu.Unlock()
			return retryAt.After(c.Now()) && c.waitingUntil(retryAt)
		})
		if got := retryAt.Sub(c.Now()); got != want {
			t.Fatalf("failure %d: next start in %s, want %s", i+1, got, want)
		}
		// Not a moment early.
		c.advance(want - time.Millisecond)
		select {
		case <-r.runs:
			t.Fatalf("failure %d: ffmpeg started again before its %s backoff", i+1, want)
		case <-time.After(20 * time.Millisecond):
		}
		c.advance(time.Millisecond)
	}

	// A run that failed without a segment does not probe again: a camera
	// that serves one connection at a time would be taken by each probe.
	r.mu.Lock()
	if r.probes != 1 {
		t.Errorf("%d probes for 8 runs that delivered nothing, want 1", r.probes)
	}
	r.mu.Unlock()

	// A run that delivers segments for 30 s resets the backoff.
	run := nextRun(t, r)
	for range 16 {
		p.segment(2)
		waitFor(t, "the stall watch", func() bool { return c.pending() > 0 })
		c.advance(2 * time.Second)
	}
	if st := p.status(); st.State != pullRunning {
		t.Fatalf("state %q after segments, want running", st.State)
	}
	run.exit <- nil
	waitState(t, p, pullBackoff)
	waitFor(t, "the backoff timer", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.retryAt.Sub(c.Now()) == pullMinBackoff
	})
	if st := p.status(); st.LastError != "ffmpeg exited (the camera ended the stream)" {
		t.Errorf("LastError %q after a clean exit", st.LastError)
	}
	// After a run that delivered, the camera is probed again (it may have
	// come back with other settings).
	c.advance(pullMinBackoff)
	nextRun(t, r)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.probes != 2 {
		t.Errorf("%d probes after a run that delivered, want 2", r.probes)
	}
}

// TestPullStall: a camera that stalls (ffmpeg alive, no segment) is
// killed after max(3 × segment length, 10 s) of silence and started again.
func TestPullStall(t *testing.T) {
	for _, c := range []struct {
		segLen int
		stall  time.Duration
	}{{2, 10 * time.Second}, {6, 18 * time.Second}} {
		r, clk := newFakeRunner(h264), newFakeClock()
		p, _ := startPuller(t, r, clk, c.segLen)
		run := nextRun(t, r)
		// A segment 3 s in restarts the count.
		step := func() {
			waitFor(t, "the stall watch", func() bool { return clk.pending() > 0 })
			clk.advance(time.Second)
		}
		for range 3 {
			step()
		}
		p.segment(float64(c.segLen))
		for i := time.Second; i < c.stall; i += time.Second {
			step()
			select {
			case <-run.stopped:
				t.Fatalf("segment %d s: ffmpeg stopped after %s of silence, want %s", c.segLen, i, c.stall)
			case <-time.After(5 * time.Millisecond):
			}
		}
		step()
		select {
		case <-run.stopped:
		case <-time.After(5 * time.Second):
			t.Fatalf("segment %d s: ffmpeg not stopped after %s of silence", c.segLen, c.stall)
		}
		waitState(t, p, pullBackoff)
		want := "stalled: no segment for " + strconv.Itoa(int(c.stall/time.Second)) + "s"
		if st := p.status(); st.LastError != want {
			t.Errorf("LastError %q, want %q", st.LastError, want)
		}
	}
}

// TestPullDecides: what the camera sends decides what is carried.
func TestPullDecides(t *testing.T) {
	for _, c := range []struct {
		name    string
		streams []probeStream
		refused string // part of LastError, "" when it runs
		audio   string // reported audio
		maps    string // "-an" or "0:a:0"
		warning string
		video   string
	}{
		{"h264+aac", []probeStream{h264, {Type: "audio", Codec: "aac"}}, "", "aac", "0:a:0", "", "h264"},
		{"h264 alone", []probeStream{h264}, "", "", "-an", "", "h264"},
		{"h264+g711", []probeStream{h264, {Type: "audio", Codec: "pcm_alaw"}}, "", "", "-an", "G.711 A-law", "h264"},
		{"h264+mulaw", []probeStream{h264, {Type: "audio", Codec: "pcm_mulaw"}}, "", "", "-an", "G.711", "h264"},
		{"hevc", []probeStream{{Type: "video", Codec: "hevc"}, {Type: "audio", Codec: "aac"}}, "fMP4", "", "", "", "h265"},
		{"mjpeg", []probeStream{{Type: "video", Codec: "mjpeg"}}, "mjpeg video", "", "", "", "mjpeg"},
		{"audio only", []probeStream{{Type: "audio", Codec: "aac"}}, "no video", "", "", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, clk := newFakeRunner(c.streams...), newFakeClock()
			p, _ := startPuller(t, r, clk, 2)
			if c.refused != "" {
				waitState(t, p, pullRefused)
				st := p.status()
				if !strings.Contains(st.LastError, c.refused) || st.Video != c.video {
					t.Errorf("refused with %q, video %q; want %q, video %q", st.LastError, st.Video, c.refused, c.video)
				}
				select {
				case <-r.runs:
					t.Error("ffmpeg started for a camera that was refused")
				case <-time.After(20 * time.Millisecond):
				}
				// Probed again later: cameras are reconfigured.
				waitFor(t, "the refusal's retry timer", func() bool { return clk.pending() > 0 })
				clk.advance(pullRefusedRetry)
				waitFor(t, "a second probe", func() bool {
					r.mu.Lock()
					defer r.mu.Unlock()
					return r.probes == 2
				})
				return
			}
			run := nextRun(t, r)
			st := p.status()
			if st.Video != c.video || st.Audio != c.audio {
				t.Errorf("codecs %q/%q, want %q/%q", st.Video, st.Audio, c.video, c.audio)
			}
			if !slices.Contains(run.args, c.maps) {
				t.Errorf("args %q lack %q", run.args, c.maps)
			}
			if c.warning != "" && (len(st.Warnings) != 1 || !strings.Contains(st.Warnings[0], c.warning) || !strings.Contains(st.Warnings[0], "dropped")) {
				t.Errorf("warnings %q, want one saying %s audio is dropped", st.Warnings, c.warning)
			}
			if c.warning == "" && len(st.Warnings) != 0 {
				t.Errorf("warnings %q, want none", st.Warnings)
			}
		})
	}
}

// TestPullRefusesBadURL: a URL the control node should not have let
// through is refused again on the edge, never probed or run.
func TestPullRefusesBadURL(t *testing.T) {
	r, c := newFakeRunner(h264), newFakeClock()
	p := newPuller("cam", pullSpec{url: "file:///etc/passwd"}, filepath.Join(t.TempDir(), "cam"), "http://x/v1/playlist", r, c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	go p.loop(ctx)
	waitState(t, p, pullRefused)
	if st := p.status(); !strings.Contains(st.LastError, "file") {
		t.Errorf("LastError %q", st.LastError)
	}
	cancel()
	<-p.done
	if r.probes != 0 {
		t.Errorf("probed %d times", r.probes)
	}
	if st := p.status(); st.State != pullStopped {
		t.Errorf("state %q after stop", st.State)
	}
}

// TestPullGOPWarning: segments longer than the segment length (the
// camera's keyframe interval) are reported with both numbers and the fix.
func TestPullGOPWarning(t *testing.T) {
	r, c := newFakeRunner(h264), newFakeClock()
	p, _ := startPuller(t, r, c, 2)
	nextRun(t, r)
	p.segment(2.4) // rounds to 2: fine
	if w := p.status().Warnings; len(w) != 0 {
		t.Fatalf("warnings %q for a 2.4 s segment of 2 s", w)
	}
	p.segment(4)
	w := p.status().Warnings
	if len(w) != 1 || !strings.Contains(w[0], "4.0 s") || !strings.Contains(w[0], "2 s was asked") || !strings.Contains(w[0], "keyframe interval") || !strings.Contains(w[0], "segment_len to 4") {
		t.Errorf("warnings %q", w)
	}
}

// TestPullStopRemovesDir: stopping the pull stops ffmpeg and removes the
// segment directory.
func TestPullStopRemovesDir(t *testing.T) {
	r, c := newFakeRunner(h264), newFakeClock()
	p, cancel := startPuller(t, r, c, 2)
	run := nextRun(t, r)
	if _, err := os.Stat(p.dir); err != nil {
		t.Fatalf("segment dir: %v", err)
	}
	if fi, _ := os.Stat(p.dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("segment dir mode %v, want 0700", fi.Mode().Perm())
	}
	cancel()
	<-run.stopped
	<-p.done
	if _, err := os.Stat(p.dir); !os.IsNotExist(err) {
		t.Errorf("segment dir still there: %v", err)
	}
	if st := p.status(); st.State != pullStopped {
		t.Errorf("state %q", st.State)
	}
}

func TestPullArgs(t *testing.T) {
	plan := pullPlan{video: "h264"}
	args := pullFFmpegArgs("cam", camURL, "/s/pull/cam", "http://127.0.0.1:9080/v1/playlist", 2, plan)
	line := strings.Join(args, " ")
	for _, want := range []string{
		"-protocol_whitelist rtsp,rtp,srtp,tcp,udp -analyzeduration 2000000 -rtsp_transport tcp -timeout 10000000 -i " + camURL,
		"-map 0:v:0 -an -c copy",
		"-f hls -hls_time 2 -hls_list_size 6 -hls_flags delete_segments+independent_segments",
		"-hls_segment_filename /s/pull/cam/seg_%05d.ts",
		"-headers Video-Source-Name: cam\r\nMPEG-TS-URI-Prefix: file:///s/pull/cam\r\n -method POST http://127.0.0.1:9080/v1/playlist",
	} {
		if !strings.Contains(line, want) {
			t.Errorf("args %q lack %q", line, want)
		}
	}
	rtmp := strings.Join(pullFFmpegArgs("cam", "rtmp://h/live/cam", "/d", "http://x", 2, plan), " ")
	if strings.Contains(rtmp, "rtsp_transport") || !strings.Contains(rtmp, "-protocol_whitelist rtmp,tcp -analyzeduration 2000000 -rw_timeout 10000000 -i rtmp://h/live/cam") {
		t.Errorf("rtmp args %q", rtmp)
	}
	masked := strings.Join(maskArgs(args, camURL), " ")
	if strings.Contains(masked, "hunter2") || !strings.Contains(masked, "admin:xxxxx@") {
		t.Errorf("masked args %q", masked)
	}
}
