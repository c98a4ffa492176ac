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
	"testing"
	"time"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/hls"
)

// Failover: two edges feed one source, each with its own ffmpeg (two
// encoders, two clocks, two cuts), and the control node lists one. The
// active one is killed with SIGKILL (with its ffmpeg: a gateway losing
// power), or its uplink is black-holed, while a watcher polls the live
// playlist every 100 ms and fetches every segment it lists, and ffmpeg
// plays the live URL in real time.

// foSegment is 2 s: the budget of a switch is one target duration.
const (
	foSegmentFrames = 50
	foTarget        = 2 * time.Second
)

// feedEdge is one gateway: an edge and the ffmpeg that pushes to it.
type feedEdge struct {
	name, stateDir, allowDir string
	via                      *controlNode // what it dials (forwarders, or the node)
	node                     *edgeNode
	ffmpeg                   *proc
}

// failoverRig is a control node and a source fed by two gateways.
type failoverRig struct {
	t      *testing.T
	cn     *controlNode
	source string
	feeds  []*feedEdge
}

// startFeedEdge starts (or restarts, on the same state dir, with the
// credential it joined with) the gateway's edge and its ffmpeg.
func (r *failoverRig) startFeedEdge(f *feedEdge) {
	t := r.t
	t.Helper()
	port := freePort(t)
	args := []string{
		"--name", f.name, "--listen", loopback(port), "--allow-dir", f.allowDir,
		"--state-dir", f.stateDir, "--heartbeat", "1s",
	}
	joined := f.node != nil
	if r.cn.authOn() && !joined {
		args = append(args, "--join", r.cn.joinToken(t, f.name))
	}
	if !r.cn.authOn() || f.via != r.cn || f.via.mqttURL != r.cn.ownMQTT || f.via.vodURL != r.cn.ownVOD {
		args = append(args, "--mqtt", f.via.mqttURL, "--ingest", f.via.vodURL)
	}
	e := &edgeNode{name: f.name, allowDir: f.allowDir, url: "http://" + loopback(port)}
	e.proc = startProc(t, "edge "+f.name, false, lmxEdgeBin, args...)
	eventually(t, 15*time.Second, 100*time.Millisecond, "edge "+f.name+" serving", func() (bool, string) {
		if e.proc.Exited() {
			t.Fatalf("edge %s exited while starting (status %d)", f.name, e.proc.ExitCode())
		}
		resp, err := get(e.url + "/healthz")
		if err != nil {
			return false, err.Error()
		}
		return resp.Status == http.StatusOK, resp.String()
	})
	f.node = e
	f.ffmpeg = startFFmpegSegments(t, e, r.source, f.allowDir, foSegmentFrames)
}

// kill ends a gateway at once: its edge and its ffmpeg (SIGKILL).
func (f *feedEdge) kill() {
	f.node.proc.kill()
	f.ffmpeg.kill()
}

// newFailoverRig starts a control node and two gateways feeding source;
// via, when set, makes a gateway's uplink go through forwarders.
func newFailoverRig(t *testing.T, source string, blackHoleable bool) (*failoverRig, map[string][2]*forwarder) {
	t.Helper()
	cn := startControld(t)
	r := &failoverRig{t: t, cn: cn, source: source}
	fwds := map[string][2]*forwarder{}
	for _, name := range []string{source + "-gw-a", source + "-gw-b"} {
		f := &feedEdge{name: name, stateDir: t.TempDir(), allowDir: t.TempDir(), via: cn}
		if blackHoleable {
			m := startForwarder(t, name+"-mqtt", loopback(cn.mqttPort))
			h := startForwarder(t, name+"-http", loopback(cn.vodPort))
			via := *cn
			via.mqttURL, via.vodURL = "mqtt://"+m.addr(), "http://"+h.addr()
			f.via = &via
			fwds[name] = [2]*forwarder{m, h}
		}
		r.feeds = append(r.feeds, f)
	}
	// The source and its feeds exist before anything is pushed, as an
	// operator sets them up: the edges must be known to name them.
	for _, f := range r.feeds {
		r.startFeedEdge(f)
		waitEdgeOnline(t, cn, f.name, 15*time.Second)
	}
	mustLMX(t, cn, "source", "add", source, "--segment-len", "2", "--feeds", r.feeds[0].name+","+r.feeds[1].name)
	mustLMX(t, cn, "source", "stream", "on", source, "--timeout", "30s")
	waitLive(t, cn.liveURL(source), 30*time.Second)
	eventually(t, 20*time.Second, 250*time.Millisecond, "both feeds healthy, one active", func() (bool, string) {
		s := r.source2()
		healthy, active := 0, 0
		for _, f := range s.Feeds {
			if f.Healthy {
				healthy++
			}
			if f.Active {
				active++
			}
		}
		return healthy == 2 && active == 1, fmt.Sprintf("feeds %+v", s.Feeds)
	})
	return r, fwds
}

// source2 is the source as the API shows it, feeds and switches included.
func (r *failoverRig) source2() api.Source {
	r.t.Helper()
	resp := mustDo(r.t, http.MethodGet, r.cn.apiURL+"/v1/source/"+url.PathEscape(r.source), nil, nil)
	var out api.SourceReply
	if resp.Status != http.StatusOK || json.Unmarshal(resp.Body, &out) != nil {
		r.t.Fatalf("GET /v1/source/%s: %s", r.source, resp)
	}
	return out.Source
}

// active is the active feed.
func (r *failoverRig) active() *feedEdge {
	r.t.Helper()
	s := r.source2()
	for _, f := range s.Feeds {
		if f.Active {
			for _, fe := range r.feeds {
				if fe.name == f.Edge {
					return fe
				}
			}
		}
	}
	r.t.Fatalf("no active feed: %+v", s.Feeds)
	return nil
}

// waitSwitch waits for the first switch after since (the history keeps
// the last ten) and returns it.
func (r *failoverRig) waitSwitch(since time.Time, timeout time.Duration) api.FeedSwitch {
	r.t.Helper()
	var sw api.FeedSwitch
	eventually(r.t, timeout, 100*time.Millisecond, "a switch after "+since.Format("15:04:05.000"), func() (bool, string) {
		s := r.source2()
		for _, x := range s.Switches {
			if x.At.After(since) {
				sw = x
				return true, ""
			}
		}
		return false, fmt.Sprintf("switches: %+v", s.Switches)
	})
	return sw
}

// switchesAfter counts the switches after since.
func (r *failoverRig) switchesAfter(since time.Time) int {
	n := 0
	for _, x := range r.source2().Switches {
		if x.At.After(since) {
			n++
		}
	}
	return n
}

// watcher polls a live playlist as a player that reloads fast would, and
// fetches every segment the moment it is first listed.
type watcher struct {
	t   *testing.T
	url string

	mu       sync.Mutex
	lastSeq  uint64 // media sequence of the last playlist
	seen     map[uint64]listedSegment
	problems []string
	polls    int
}

// listedSegment is a segment as the watcher first saw it listed.
type listedSegment struct {
	at       time.Time
	duration float64
	pdt      time.Time
	disc     bool
}

func startWatcher(t *testing.T, u string) (*watcher, func()) {
	w := &watcher{t: t, url: u, seen: map[uint64]listedSegment{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			w.poll()
		}
	}()
	return w, func() { cancel(); <-done }
}

func (w *watcher) fail(format string, args ...any) {
	w.mu.Lock()
	w.problems = append(w.problems, fmt.Sprintf(format, args...))
	w.mu.Unlock()
}

func (w *watcher) poll() {
	pl, resp, err := fetchPlaylist(w.url)
	now := time.Now()
	if err != nil {
		w.fail("%s: playlist: %v %v", now.Format("15:04:05.000"), err, resp)
		return
	}
	w.mu.Lock()
	w.polls++
	if pl.MediaSequence < w.lastSeq {
		w.problems = append(w.problems, fmt.Sprintf("media sequence went back from %d to %d", w.lastSeq, pl.MediaSequence))
	}
	w.lastSeq = pl.MediaSequence
	var fresh []hls.Segment
	for i, s := range pl.Segments {
		seq := pl.MediaSequence + uint64(i)
		if _, ok := w.seen[seq]; ok {
			continue
		}
		w.seen[seq] = listedSegment{at: now, duration: s.Duration, pdt: s.ProgramDateTime, disc: s.Discontinuity}
		fresh = append(fresh, s)
	}
	w.mu.Unlock()
	for _, s := range fresh {
		r, err := get(resolve(w.url, s.URI))
		if err != nil {
			w.fail("segment %s: %v", s.URI, err)
			continue
		}
		if err := checkSegment(r); err != nil {
			w.fail("listed segment %s: %v", s.URI, err)
		}
	}
}

// stall is, over the segments the watcher saw listed from first on, the
// longest a player waited for the next segment beyond the previous one's
// length, and where.
func (w *watcher) stall(from time.Time) (time.Duration, uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	seqs := make([]uint64, 0, len(w.seen))
	for s, ls := range w.seen {
		if !ls.at.Before(from) {
			seqs = append(seqs, s)
		}
	}
	slices.Sort(seqs)
	var worst time.Duration
	var at uint64
	for i := 1; i < len(seqs); i++ {
		prev, next := w.seen[seqs[i-1]], w.seen[seqs[i]]
		if seqs[i] != seqs[i-1]+1 {
			w.problems = append(w.problems, fmt.Sprintf("segment numbers jump from %d to %d", seqs[i-1], seqs[i]))
		}
		wait := next.at.Sub(prev.at) - time.Duration(prev.duration*float64(time.Second))
		if wait > worst {
			worst, at = wait, seqs[i]
		}
	}
	return worst, at
}

// discontinuitiesSince counts the discontinuities first listed since t.
func (w *watcher) discontinuitiesSince(t time.Time) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, ls := range w.seen {
		if ls.disc && !ls.at.Before(t) {
			n++
		}
	}
	return n
}

// switches are the discontinuities the watcher saw, with how far the new
// feed's first segment starts from where the previous one's media ended.
func (w *watcher) switches() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []time.Duration
	for seq, ls := range w.seen {
		prev, ok := w.seen[seq-1]
		if !ls.disc || !ok || ls.pdt.IsZero() || prev.pdt.IsZero() {
			continue
		}
		out = append(out, ls.pdt.Sub(prev.pdt.Add(time.Duration(prev.duration*float64(time.Second)))))
	}
	return out
}

func (w *watcher) report(t *testing.T) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	t.Logf("watcher: %d polls, %d segments listed", w.polls, len(w.seen))
	seqs := make([]uint64, 0, len(w.seen))
	for s := range w.seen {
		seqs = append(seqs, s)
	}
	slices.Sort(seqs)
	for i, seq := range seqs {
		if !w.seen[seq].disc {
			continue
		}
		for _, s := range seqs[max(i-2, 0):min(i+2, len(seqs))] {
			ls := w.seen[s]
			t.Logf("  around a discontinuity: segment %d listed %s, %.3f s from %s, discontinuity %t",
				s, ls.at.Format("15:04:05.000"), ls.duration, ls.pdt.Format("15:04:05.000"), ls.disc)
		}
	}
	for _, p := range w.problems {
		t.Errorf("watcher: %s", p)
	}
}

// playLive has ffmpeg play the live URL in real time for secs seconds of
// media, decoding every frame, and returns its log.
func playLive(ctx context.Context, u string, secs int) (string, error) {
	args := append([]string{"-hide_banner", "-nostdin", "-loglevel", "warning"}, playerAuth(u)...)
	args = append(args, "-i", u, "-t", strconv.Itoa(secs), "-f", "null", "-")
	out, err := exec.CommandContext(ctx, ffmpegBin, args...).CombinedOutput()
	return string(out), err
}

// The failover tests measure time (a switch within one target duration, a
// player's wait), so they do not run beside the parallel tests: on a
// machine of two cores, another test's encoders would starve these
// ffmpegs and the measure would be the machine's.
func TestFailoverKill(t *testing.T) {
	r, _ := newFailoverRig(t, "cam-fo", false)
	rec := recStart(t, r.cn, r.source, "-4s")
	live := r.cn.liveURL(r.source)
	w, stopWatch := startWatcher(t, live)
	watchFrom := time.Now().Add(time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	played := make(chan error, 1)
	var playLog string
	go func() {
		var err error
		playLog, err = playLive(ctx, live, 40)
		played <- err
	}()
	playStart := time.Now()

	// Two kill cycles: the active gateway dies, the standby takes over;
	// the dead one comes back fenced (no switch back); then the new active
	// one dies and the first takes over again.
	time.Sleep(8 * time.Second)
	for cycle := 1; cycle <= 2; cycle++ {
		victim := r.active()
		before := time.Now()
		t.Logf("cycle %d: kill -9 %s (and its ffmpeg)", cycle, victim.name)
		victim.kill()
		sw := r.waitSwitch(before, 15*time.Second)
		t.Logf("cycle %d: switch %+v", cycle, sw)
		if sw.Reason != "missed" || sw.From != victim.name || sw.To == victim.name {
			t.Fatalf("cycle %d: switch %+v, want a failover away from %s", cycle, sw, victim.name)
		}
		if sw.LateByMS < 0 || time.Duration(sw.LateByMS)*time.Millisecond > foTarget {
			t.Errorf("cycle %d: the new feed was listed %d ms after the missed segment was due, want within one target duration (%s)", cycle, sw.LateByMS, foTarget)
		}
		// Back, as a standby: fenced, healthy again, and not listed.
		r.startFeedEdge(victim)
		eventually(t, 30*time.Second, 250*time.Millisecond, victim.name+" back as a fenced standby", func() (bool, string) {
			for _, f := range r.source2().Feeds {
				if f.Edge == victim.name {
					return f.Healthy && f.Fenced && !f.Active, fmt.Sprintf("%+v", f)
				}
			}
			return false, "not listed"
		})
		if n := r.switchesAfter(before); n != 1 {
			t.Errorf("cycle %d: %d switches since %s was killed, want 1 (no switch back)", cycle, n, victim.name)
		}
		time.Sleep(4 * time.Second)
	}
	// Losing the standby changes nothing a player sees: no switch, no
	// discontinuity.
	active := r.active()
	var standby *feedEdge
	for _, f := range r.feeds {
		if f != active {
			standby = f
		}
	}
	lost := time.Now()
	t.Logf("kill -9 the standby %s", standby.name)
	standby.kill()
	eventually(t, 15*time.Second, 250*time.Millisecond, standby.name+" unhealthy", func() (bool, string) {
		for _, f := range r.source2().Feeds {
			if f.Edge == standby.name {
				return !f.Healthy, fmt.Sprintf("%+v", f)
			}
		}
		return false, "not listed"
	})
	time.Sleep(2 * time.Second)
	if n := r.switchesAfter(lost); n != 0 {
		t.Errorf("%d switches after the standby was lost, want none", n)
	}
	if n := w.discontinuitiesSince(lost); n != 0 {
		t.Errorf("%d discontinuities listed after the standby was lost, want none", n)
	}

	select {
	case err := <-played:
		if err != nil {
			t.Errorf("ffmpeg playing the live URL: %v\n%s", err, playLog)
		}
	case <-ctx.Done():
		t.Fatalf("ffmpeg did not play 40 s of live media within 90 s")
	}
	t.Logf("ffmpeg played 40 s of live media in %s; its warnings: %q", time.Since(playStart).Round(time.Millisecond), strings.TrimSpace(playLog))
	for _, bad := range []string{"404", "Server returned", "Failed to open segment"} {
		if strings.Contains(playLog, bad) {
			t.Errorf("the player logged %q", bad)
		}
	}
	stopWatch()
	worst, at := w.stall(watchFrom)
	t.Logf("longest wait for a next segment beyond the previous one's length: %s (before segment %d)", worst.Round(time.Millisecond), at)
	if worst > foTarget {
		t.Errorf("a player waited %s beyond a segment's length for the next one (segment %d), want at most one target duration (%s)", worst, at, foTarget)
	}
	jumps := w.switches()
	t.Logf("media jumps at the discontinuities: %v", jumps)
	if len(jumps) < 2 {
		t.Errorf("the watcher saw %d discontinuities, want one per failover (2)", len(jumps))
	}
	for _, j := range jumps {
		if j < -foTarget || j > foTarget {
			t.Errorf("at a switch the media jumps by %s: it repeats or skips more than one segment", j)
		}
	}
	w.report(t)

	stopped := recStop(t, r.cn, rec.ID)
	got := getRecording(t, r.cn, rec.ID)
	t.Logf("recording across two failovers: %d segments, %.1f s, gaps %+v", got.Segments, got.DurationSeconds, got.Gaps)
	if len(got.Gaps) != 0 {
		t.Errorf("the recording across the failovers has gaps: %+v", got.Gaps)
	}
	if span := stopped.EndTS.Sub(rec.StartTS).Seconds(); got.DurationSeconds < span-3*foTarget.Seconds() {
		t.Errorf("the recording holds %.1f s of media over %.1f s", got.DurationSeconds, span)
	}
	vod := r.cn.vodURL + "/v1/vod/recording/" + rec.ID + "/vid.m3u8"
	expectH264(t, vod)
}

func TestFailoverBlackHoledUplink(t *testing.T) {
	r, fwds := newFailoverRig(t, "cam-bh", true)
	live := r.cn.liveURL(r.source)
	w, stopWatch := startWatcher(t, live)
	watchFrom := time.Now().Add(time.Second)
	time.Sleep(4 * time.Second)

	victim := r.active()
	before := time.Now()
	t.Logf("black-holing %s's uplink (MQTT and HTTP)", victim.name)
	for _, f := range fwds[victim.name] {
		f.setBlackHole(true)
	}
	sw := r.waitSwitch(before, 15*time.Second)
	t.Logf("switch %+v", sw)
	if sw.Reason != "missed" || sw.From != victim.name {
		t.Fatalf("switch %+v, want a failover away from %s", sw, victim.name)
	}
	if time.Duration(sw.LateByMS)*time.Millisecond > foTarget {
		t.Errorf("the new feed was listed %d ms after the missed segment was due, want within %s", sw.LateByMS, foTarget)
	}
	time.Sleep(6 * time.Second)
	// The link comes back: the connections are reset, the edge redials
	// and uploads again, and stays a fenced standby.
	for _, f := range fwds[victim.name] {
		f.reset()
	}
	eventually(t, 40*time.Second, 250*time.Millisecond, victim.name+" back as a fenced standby", func() (bool, string) {
		for _, f := range r.source2().Feeds {
			if f.Edge == victim.name {
				return f.Healthy && f.Fenced && !f.Active, fmt.Sprintf("%+v", f)
			}
		}
		return false, "not listed"
	})
	time.Sleep(4 * time.Second)
	if n := r.switchesAfter(before); n != 1 {
		t.Errorf("%d switches since the black hole, want 1: the returning feed must not take over", n)
	}
	stopWatch()
	worst, at := w.stall(watchFrom)
	t.Logf("longest wait beyond a segment's length: %s (before segment %d)", worst.Round(time.Millisecond), at)
	if worst > foTarget {
		t.Errorf("a player waited %s beyond a segment's length (segment %d), want at most %s", worst, at, foTarget)
	}
	w.report(t)
	expectH264(t, live)

	// --prefer puts the operator's choice back, without a stall.
	preferred := time.Now()
	mustLMX(t, r.cn, "source", "set", r.source, "--prefer", victim.name)
	psw := r.waitSwitch(preferred, 15*time.Second)
	if psw.Reason != "prefer" || psw.To != victim.name {
		t.Errorf("after --prefer %s: switch %+v", victim.name, psw)
	}
	show := mustLMX(t, r.cn, "source", "show", r.source)
	t.Logf("lmx source show:\n%s", show)
	for _, want := range []string{"Feeds:", victim.name + "  active", "Switches:", "preferred by the operator", "no segment from " + victim.name} {
		if !strings.Contains(show, want) {
			t.Errorf("lmx source show lacks %q", want)
		}
	}
}

// TestFeedsOwnership: an edge that is no feed of a source gets 409 naming
// its feeds and how to add it; the feeds given must be known edges.
func TestFeedsOwnership(t *testing.T) {
	t.Parallel()
	cn := startControld(t)
	a := startEdge(t, lmxEdgeBin, "own-gw-a", cn, t.TempDir())
	b := startEdge(t, lmxEdgeBin, "own-gw-b", cn, t.TempDir())
	mustLMX(t, cn, "source", "add", "cam-own", "--feeds", "own-gw-a")
	res := runLMX(t, cn, "source", "set", "cam-own", "--feeds", "own-gw-a,nosuch-gw")
	if res.Code == 0 || !strings.Contains(res.Stderr, `"nosuch-gw" is not known`) {
		t.Errorf("--feeds with an unknown edge: exit %d, stderr %q", res.Code, res.Stderr)
	}
	res = runLMX(t, cn, "source", "set", "cam-own", "--prefer", "own-gw-b")
	if res.Code == 0 || !strings.Contains(res.Stderr, "not a feed of the source") {
		t.Errorf("--prefer a non-feed: exit %d, stderr %q", res.Code, res.Stderr)
	}
	// b pushes the name: refused at the edge, with the control node's words.
	dir := b.allowDir
	makeSegments(t, dir, "cam-own", 2)
	body, err := os.ReadFile(filepath.Join(dir, "cam-own.m3u8"))
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{"Video-Source-Name": {"cam-own"}, "Mpeg-Ts-Uri-Prefix": {"file://" + dir}}
	resp := mustDo(t, http.MethodPost, b.pushURL(), h, bytes.NewReader(body))
	if resp.Status != http.StatusConflict || !strings.Contains(string(resp.Body), "--feeds") || !strings.Contains(string(resp.Body), `is fed by \"own-gw-a\"`) {
		t.Errorf("push by an edge that is no feed: %s, want 409 naming the feeds and how to add one with --feeds", resp)
	}
	mustLMX(t, cn, "source", "set", "cam-own", "--feeds", "own-gw-a,own-gw-b")
	// The refusal is cached for a while; the edge asks again after it.
	eventually(t, 15*time.Second, 500*time.Millisecond, "a push by a listed feed taken", func() (bool, string) {
		resp := mustDo(t, http.MethodPost, b.pushURL(), h, bytes.NewReader(body))
		return resp.Status == http.StatusOK, resp.String()
	})
	if s := getSource(t, cn, "cam-own"); s.Edge != a.name {
		t.Errorf("source's edge %q, want the first feed %s", s.Edge, a.name)
	}
}

// TestFailoverBenchmark measures failover over many switches; it runs only
// with LMX_BENCH_FAILOVER=N (N switches, at least 10), as bench/run.sh
// failover does. Each cycle kills the active gateway (edge and ffmpeg)
// with SIGKILL at a different phase of its segment, waits for the switch,
// and brings it back as the fenced standby. Two figures per switch: the
// control node's own (the missed segment's due time to the new feed's
// first segment listed), and the watcher's (how long past the previous
// segment's length it waited for the next one, polling every 100 ms).
func TestFailoverBenchmark(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("LMX_BENCH_FAILOVER"))
	if n == 0 {
		t.Skip("set LMX_BENCH_FAILOVER=N (N ≥ 10 switches) to run: bench/run.sh failover")
	}
	r, _ := newFailoverRig(t, "cam-bench", false)
	live := r.cn.liveURL(r.source)
	w, stopWatch := startWatcher(t, live)
	defer stopWatch()
	var lateBy, waited []time.Duration
	for i := 0; i < n; i++ {
		// A different phase each time: 0.37 s apart over a 2 s segment.
		time.Sleep(3*time.Second + time.Duration(i*370%2000)*time.Millisecond)
		victim := r.active()
		killed := time.Now()
		victim.kill()
		sw := r.waitSwitch(killed, 15*time.Second)
		if sw.Reason != "missed" {
			t.Fatalf("switch %d: %+v", i+1, sw)
		}
		lateBy = append(lateBy, time.Duration(sw.LateByMS)*time.Millisecond)
		time.Sleep(2 * time.Second) // the watcher sees the next one too
		worst, _ := w.stall(killed.Add(-3 * time.Second))
		waited = append(waited, worst)
		t.Logf("switch %d: %s → %s, listed %d ms after due; the watcher waited %s past a segment's length",
			i+1, sw.From, sw.To, sw.LateByMS, worst.Round(time.Millisecond))
		r.startFeedEdge(victim)
		eventually(t, 30*time.Second, 250*time.Millisecond, victim.name+" back", func() (bool, string) {
			for _, f := range r.source2().Feeds {
				if f.Edge == victim.name {
					return f.Healthy && f.Fenced, fmt.Sprintf("%+v", f)
				}
			}
			return false, ""
		})
	}
	pct := func(ds []time.Duration, p float64) time.Duration {
		s := slices.Clone(ds)
		slices.Sort(s)
		return s[min(len(s)-1, int(p*float64(len(s))))]
	}
	t.Logf("BENCH failover switches=%d due_p50=%s due_p99=%s due_max=%s wait_p50=%s wait_p99=%s wait_max=%s",
		n, pct(lateBy, .5), pct(lateBy, .99), slices.Max(lateBy), pct(waited, .5).Round(time.Millisecond), pct(waited, .99).Round(time.Millisecond), slices.Max(waited).Round(time.Millisecond))
	w.report(t)
}
