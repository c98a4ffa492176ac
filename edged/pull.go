package edged

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/internal/pullurl"
	"github.com/lmx-video/lmx/internal/redact"
)

// Pull process states (broker.PullStatus.State), the API's words.
const (
	pullStarting = "starting"
	pullRunning  = "running"
	pullBackoff  = "backoff"
	pullRefused  = "refused"
	pullStopped  = "stopped"
)

// Supervision of a pull's ffmpeg.
const (
	// pullMinBackoff and pullMaxBackoff bound the wait before ffmpeg is
	// started again; the wait doubles on each failure in a row.
	pullMinBackoff = time.Second
	pullMaxBackoff = 30 * time.Second
	// pullGoodRun is how long a run must have delivered segments for the
	// next failure to start again from pullMinBackoff.
	pullGoodRun = 30 * time.Second
	// pullMinStall is the shortest silence that counts as a stall; the
	// watch waits at least three segment lengths.
	pullMinStall = 10 * time.Second
	// pullCheckEvery is how often the stall watch looks.
	pullCheckEvery = time.Second
	// pullRefusedRetry is how long a refused camera (H.265, no video,
	// ffmpeg missing) waits before it is probed again: a camera's settings
	// are changed without the edge being told.
	pullRefusedRetry = time.Minute
)

// ErrNoFFmpeg is returned by the process runner when ffmpeg or ffprobe is
// not installed.
var ErrNoFFmpeg = errors.New("ffmpeg is not installed: install it (Debian, Raspberry Pi OS: apt-get install ffmpeg) to pull cameras")

// pullRunner runs the camera's ffmpeg and ffprobe; the supervisor's logic
// is tested with a fake one.
type pullRunner interface {
	// probe lists the streams at the camera URL raw; a failure's error is
	// ffprobe's last error line, not yet masked.
	probe(ctx context.Context, raw string) ([]probeStream, error)
	// run runs ffmpeg with args until it exits or ctx ends (then it stops
	// it: SIGTERM, SIGKILL a few seconds later), and returns once the
	// process is gone. Each line ffmpeg writes to stderr goes to stderr.
	run(ctx context.Context, args []string, stderr func(line string)) error
}

// pullClock is the supervisor's time, controllable in tests.
type pullClock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// pullSpec is what the desired state says of one pull.
type pullSpec struct {
	url    string
	segLen int
}

// puller supervises the ffmpeg that pulls one source's camera into the
// edge's own ingest.
type puller struct {
	source  string
	spec    pullSpec
	dir     string // the segment directory, the edge's own
	pushURL string
	runner  pullRunner
	clock   pullClock
	logger  *slog.Logger
	// onStart is called before each ffmpeg start (the edge forgets the
	// previous run's playlist); onChange when the status changes.
	onStart, onChange func()

	cancel context.CancelFunc
	done   chan struct{}
	// after, when set, is the done channel of the puller this one
	// replaces (same directory): the loop starts once it is closed.
	after <-chan struct{}

	mu           sync.Mutex
	st           broker.PullStatus
	lastProgress time.Time
	runStarted   time.Time
	gotSegment   bool
	longest      float64 // longest segment of this run, seconds
	gop          string  // the GOP warning of this run, if any
	planWarnings []string
	lastErrLine  string    // this run's last error line from ffmpeg, masked
	retryAt      time.Time // when the current backoff ends
}

func newPuller(source string, spec pullSpec, dir, pushURL string, runner pullRunner, clock pullClock, logger *slog.Logger) *puller {
	if spec.segLen <= 0 {
		spec.segLen = defaultPullSegmentLen
	}
	p := &puller{source: source, spec: spec, dir: dir, pushURL: pushURL, runner: runner, clock: clock,
		logger: logger.With("source", source, "pull", redact.URL(spec.url)), onStart: func() {}, onChange: func() {},
		done: make(chan struct{})}
	p.st = broker.PullStatus{State: pullStarting, Since: clock.Now().UTC()}
	return p
}

// status is the pull's report for the edge's status.
func (p *puller) status() *broker.PullStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.st
	st.Warnings = slices.Clone(p.planWarnings)
	if p.gop != "" {
		st.Warnings = append(st.Warnings, p.gop)
	}
	return &st
}

// setState changes the state (and its Since) under p.mu.
func (p *puller) setStateLocked(state string) bool {
	if p.st.State == state {
		return false
	}
	p.st.State, p.st.Since = state, p.clock.Now().UTC()
	return true
}

func (p *puller) setState(state, lastErr string) {
	p.mu.Lock()
	changed := p.setStateLocked(state)
	if lastErr != "" && p.st.LastError != lastErr {
		p.st.LastError, changed = lastErr, true
	}
	p.mu.Unlock()
	if changed {
		p.onChange()
	}
}

// segment notes a segment of this pull taken by the ingest, d seconds
// long: progress for the stall watch, the first one makes the state
// running, and one longer than the segment length is the camera's GOP.
func (p *puller) segment(d float64) {
	p.mu.Lock()
	p.lastProgress = p.clock.Now()
	p.gotSegment = true
	changed := false
	if p.st.State == pullStarting {
		changed = p.setStateLocked(pullRunning)
	}
	if overlong(d, p.spec.segLen) && d > p.longest {
		p.longest = d
		p.gop = gopWarning(d, p.spec.segLen)
		changed = true
	}
	p.mu.Unlock()
	if changed {
		p.onChange()
	}
}

// stderrLine takes one line of ffmpeg's stderr: masked before anything
// else sees it, kept when it is an error, logged at debug otherwise.
func (p *puller) stderrLine(line string) {
	line = redact.Line(line, p.spec.url)
	if len(line) > 512 {
		line = line[:512]
	}
	if line == "" {
		return
	}
	if tag := errorTag(line); tag != "" {
		line = strings.Join(strings.Fields(strings.Replace(line, tag, "", 1)), " ")
		p.mu.Lock()
		p.lastErrLine = line
		p.mu.Unlock()
		p.logger.Warn("ffmpeg: " + line)
		return
	}
	p.logger.Debug("ffmpeg: " + line)
}

// errorTag is the level tag of one of ffmpeg's error lines ("" for a
// warning): -loglevel level+warning tags each line with its level.
func errorTag(line string) string {
	for _, tag := range []string{"[error]", "[fatal]", "[panic]"} {
		if strings.Contains(line, tag) {
			return tag
		}
	}
	return ""
}

// loop is the supervisor: probe, decide, run ffmpeg, watch its progress,
// start it again with backoff, until ctx ends.
func (p *puller) loop(ctx context.Context) {
	defer close(p.done)
	defer func() {
		if err := os.RemoveAll(p.dir); err != nil {
			p.logger.Warn("pull: removing the segment directory", "dir", p.dir, "err", err)
		}
		p.setState(pullStopped, "")
	}()
	if p.after != nil {
		select {
		case <-p.after:
		case <-ctx.Done():
			return
		}
	}
	if err := pullurl.Validate(p.spec.url); err != nil {
		// Validate quotes the URL masked.
		p.setState(pullRefused, err.Error())
		p.logger.Warn("pull refused", "err", err)
		<-ctx.Done()
		return
	}
	backoff := pullMinBackoff
	first := true
	// plan is the last probe's decision. It is reused while runs fail
	// without a segment (a camera that takes one connection at a time
	// must not be probed between every try), and probed again after a run
	// that delivered (the camera may come back reconfigured) or a refusal.
	var plan *pullPlan
	for ctx.Err() == nil {
		if !first {
			p.mu.Lock()
			p.st.Restarts++
			p.mu.Unlock()
		}
		first = false
		if plan == nil {
			pl, ok := p.probe(ctx, &backoff)
			if !ok {
				continue
			}
			plan = &pl
		}
		good, delivered, why := p.runOnce(ctx, *plan)
		if ctx.Err() != nil {
			return
		}
		if good {
			backoff = pullMinBackoff
		}
		if delivered {
			plan = nil
		}
		p.logger.Warn("pull: ffmpeg stopped; starting it again", "why", why, "in", backoff)
		p.setState(pullBackoff, why)
		if !p.backoff(ctx, backoff) {
			return
		}
		backoff = min(backoff*2, pullMaxBackoff)
	}
}

// probe asks the camera what it sends and decides what to carry. When
// there is nothing to run (no answer, or a refusal) it has waited its
// backoff, or the refusal's retry, and reports false.
func (p *puller) probe(ctx context.Context, backoff *time.Duration) (pullPlan, bool) {
	pctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	streams, err := p.runner.probe(pctx, p.spec.url)
	cancel()
	switch {
	case ctx.Err() != nil:
		return pullPlan{}, false
	case errors.Is(err, ErrNoFFmpeg):
		p.refuse(ctx, err.Error(), "", "")
		return pullPlan{}, false
	case err != nil:
		msg := "probe: " + redact.Line(err.Error(), p.spec.url)
		p.logger.Warn("pull: the camera did not answer ffprobe; retrying", "err", msg, "in", *backoff)
		p.setState(pullBackoff, msg)
		p.backoff(ctx, *backoff)
		*backoff = min(*backoff*2, pullMaxBackoff)
		return pullPlan{}, false
	}
	plan := decidePull(streams)
	p.mu.Lock()
	p.st.Video, p.st.Audio, p.planWarnings = plan.video, plan.audio, plan.warnings
	p.mu.Unlock()
	if plan.refused != "" {
		p.refuse(ctx, plan.refused, plan.video, plan.audio)
		return pullPlan{}, false
	}
	return plan, true
}

// refuse reports a camera that cannot be carried and waits before the
// next probe.
func (p *puller) refuse(ctx context.Context, why, video, audio string) {
	p.logger.Warn("pull refused", "why", why, "video", video, "audio", audio)
	p.setState(pullRefused, why)
	p.sleep(ctx, pullRefusedRetry)
}

// runOnce runs ffmpeg once and watches it. It returns whether the run was
// a good one (delivered segments for pullGoodRun), whether it delivered
// any, and why it ended.
func (p *puller) runOnce(ctx context.Context, plan pullPlan) (good, delivered bool, why string) {
	// A fresh directory: a killed ffmpeg leaves its last segments behind,
	// and the next run reuses their names.
	_ = os.RemoveAll(p.dir)
	if err := os.MkdirAll(p.dir, 0o700); err != nil {
		return false, false, fmt.Sprintf("segment directory %s: %v", p.dir, err)
	}
	p.onStart()
	now := p.clock.Now()
	p.mu.Lock()
	p.runStarted, p.lastProgress, p.gotSegment = now, now, false
	p.longest, p.gop, p.lastErrLine = 0, "", ""
	p.mu.Unlock()
	p.setState(pullStarting, "")
	args := pullFFmpegArgs(p.source, p.spec.url, p.dir, p.pushURL, p.spec.segLen, plan)
	p.logger.Info("pull: starting ffmpeg", "video", plan.video, "audio", plan.audio, "segment_len", p.spec.segLen)
	p.logger.Debug("pull: ffmpeg command", "args", maskArgs(args, p.spec.url))

	rctx, stop := context.WithCancel(ctx)
	defer stop()
	exited := make(chan error, 1)
	go func() { exited <- p.runner.run(rctx, args, p.stderrLine) }()
	stallAfter := max(time.Duration(3*p.spec.segLen)*time.Second, pullMinStall)
	var runErr error
	stalled := time.Duration(0)
wait:
	for {
		select {
		case runErr = <-exited:
			break wait
		case <-ctx.Done():
			stop()
			<-exited
			return false, false, ""
		case <-p.clock.After(pullCheckEvery):
			p.mu.Lock()
			silent := p.clock.Now().Sub(p.lastProgress)
			p.mu.Unlock()
			if silent >= stallAfter {
				stalled = silent
				stop()
				runErr = <-exited
				break wait
			}
		}
	}
	p.mu.Lock()
	delivered = p.gotSegment
	good = delivered && p.lastProgress.Sub(p.runStarted) >= pullGoodRun
	last := p.lastErrLine
	p.mu.Unlock()
	switch {
	case stalled > 0:
		why = fmt.Sprintf("stalled: no segment for %ds", int(stalled.Round(time.Second)/time.Second))
		if last != "" {
			why += " (" + last + ")"
		}
	case last != "":
		why = last
	case runErr != nil:
		why = "ffmpeg exited: " + redact.Line(runErr.Error(), p.spec.url)
	default:
		why = "ffmpeg exited (the camera ended the stream)"
	}
	return good, delivered, why
}

// backoff waits d before the next start, noting when it ends.
func (p *puller) backoff(ctx context.Context, d time.Duration) bool {
	p.mu.Lock()
	p.retryAt = p.clock.Now().Add(d)
	p.mu.Unlock()
	return p.sleep(ctx, d)
}

// sleep waits d or until ctx ends; false when ctx ended.
func (p *puller) sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-p.clock.After(d):
		return true
	}
}
