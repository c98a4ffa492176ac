package feeds

import (
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/lmx-video/lmx/broker"
)

// listed records what the selector hands over on a switch.
type listed struct{ segs []Segment }

func (l *listed) ListSwitched(_ Source, segs []Segment) { l.segs = append(l.segs, segs...) }

type noEvents struct{ kinds []string }

func (n *noEvents) Emit(kind string, _ broker.Event) { n.kinds = append(n.kinds, kind) }

// rig is a selector on a hand-driven clock: timers fire only when the
// test moves the clock past them.
type rig struct {
	t      *testing.T
	sel    *Selector
	now    time.Time
	timers []*fakeTimer
	list   *listed
	events *noEvents
	src    Source
	seq    map[string]uint64
}

type fakeTimer struct {
	at      time.Time
	f       func()
	stopped bool
}

func newRig(t *testing.T, feeds ...string) *rig {
	r := &rig{t: t, now: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC), list: &listed{}, events: &noEvents{}, seq: map[string]uint64{}}
	r.sel = New(Config{}, r.list, r.events, Series{}, slog.New(slog.DiscardHandler))
	r.sel.now = func() time.Time { return r.now }
	r.sel.afterFunc = func(d time.Duration, f func()) func() bool {
		ft := &fakeTimer{at: r.now.Add(d), f: f}
		r.timers = append(r.timers, ft)
		return func() bool { was := !ft.stopped; ft.stopped = true; return was }
	}
	r.src = Source{ID: "id-1", Name: "cam", Feeds: feeds}
	return r
}

// advance moves the clock to t, firing the timers due on the way.
func (r *rig) advance(to time.Time) {
	for {
		var next *fakeTimer
		for _, ft := range r.timers {
			if !ft.stopped && !ft.at.After(to) && (next == nil || ft.at.Before(next.at)) {
				next = ft
			}
		}
		if next == nil {
			break
		}
		next.stopped = true
		if next.at.After(r.now) {
			r.now = next.at
		}
		next.f()
	}
	r.now = to
}

// upload has edge deliver a 2 s segment that started at start (its own
// clock, skew off the node's), arriving at the node at arrive.
func (r *rig) upload(edge string, start time.Time, skew time.Duration, arrive time.Time) Role {
	r.advance(arrive)
	r.seq[edge]++
	return r.sel.Admit(r.src, Segment{Edge: edge, Boot: "b", EdgeSeq: r.seq[edge], Duration: 2, Start: start.Add(skew),
		Arrived: arrive, Live: true, Data: []byte(edge)})
}

func TestFailoverListsTheStandbysNextSegmentWithinOneTargetDuration(t *testing.T) {
	for _, tc := range []struct {
		name string
		// cut is how much later than gw-1's the standby's segments start.
		cut time.Duration
		// skew is the standby's clock error.
		skew time.Duration
	}{
		{"same cut", 0, 0},
		{"cut half a segment later", time.Second, 0},
		{"cut 0.9 s earlier, clock 40 s behind", -900 * time.Millisecond, -40 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, "gw-1", "gw-2")
			t0 := r.now
			at := func(i int) time.Time { return t0.Add(time.Duration(i) * 2 * time.Second) }
			const delay = 30 * time.Millisecond
			var lastA time.Time
			for i := 0; i < 5; i++ {
				if role := r.upload("gw-1", at(i), 0, at(i+1).Add(delay)); role != Active {
					t.Fatalf("gw-1 segment %d: role %v, want Active", i, role)
				}
				lastA = at(i + 1)
				if role := r.upload("gw-2", at(i).Add(tc.cut), tc.skew, at(i+1).Add(tc.cut+delay+5*time.Millisecond)); role != Held {
					t.Fatalf("gw-2 segment %d: role %v, want Held", i, role)
				}
			}
			if len(r.list.segs) != 0 {
				t.Fatalf("listed %d standby segments while gw-1 delivered", len(r.list.segs))
			}
			// gw-1 dies; gw-2 goes on.
			due := lastA.Add(delay).Add(2 * time.Second)
			for i := 5; i < 9; i++ {
				r.upload("gw-2", at(i).Add(tc.cut), tc.skew, at(i+1).Add(tc.cut+delay+5*time.Millisecond))
			}
			if got := r.sel.ActiveFeed("id-1"); got != "gw-2" {
				t.Fatalf("active feed %q, want gw-2", got)
			}
			_, sws := r.sel.View(r.src)
			sw := sws[len(sws)-1]
			if sw.Reason != ReasonMissed || sw.From != "gw-1" || sw.To != "gw-2" {
				t.Fatalf("last switch %+v", sw)
			}
			if sw.LateBy < 0 || sw.LateBy > 2*time.Second {
				t.Errorf("switch listed %v after the missed segment was due (%v), want within one target duration", sw.LateBy, due)
			}
			// The first listed media starts where gw-1's ended, within half a segment.
			first := r.list.segs[0]
			firstStart := first.Start.Add(-tc.skew)
			if d := firstStart.Sub(at(5)); d < -time.Second || d > time.Second {
				t.Errorf("first listed standby segment starts %v from where gw-1's media ended", d)
			}
			// gw-1 comes back: fenced, its segments held, no switch back.
			n := len(sws)
			standby := func() { r.upload("gw-2", at(9).Add(tc.cut), tc.skew, at(10).Add(tc.cut+delay)) }
			if tc.cut < 0 {
				standby()
			}
			if role := r.upload("gw-1", at(9), 0, at(10).Add(delay)); role != Held {
				t.Errorf("returning gw-1: role %v, want Held (fenced)", role)
			}
			if tc.cut >= 0 {
				standby()
			}
			feeds, sws := r.sel.View(r.src)
			if len(sws) != n || !feeds[0].Fenced || feeds[0].Active || !feeds[1].Active {
				t.Errorf("after gw-1 returned: feeds %+v, %d switches (was %d)", feeds, len(sws), n)
			}
		})
	}
}

func TestLosingTheStandbyCausesNoSwitch(t *testing.T) {
	r := newRig(t, "gw-1", "gw-2")
	t0 := r.now
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * 2 * time.Second) }
	for i := 0; i < 3; i++ {
		r.upload("gw-1", at(i), 0, at(i+1))
		r.upload("gw-2", at(i), 0, at(i+1).Add(time.Millisecond))
	}
	for i := 3; i < 20; i++ {
		if role := r.upload("gw-1", at(i), 0, at(i+1)); role != Active {
			t.Fatalf("segment %d: role %v", i, role)
		}
	}
	feeds, sws := r.sel.View(r.src)
	if len(sws) != 1 || len(r.list.segs) != 0 || feeds[1].Healthy || !feeds[0].Healthy {
		t.Errorf("standby lost: switches %+v, listed %d, feeds %+v", sws, len(r.list.segs), feeds)
	}
}

func TestActiveJitterWithinGraceCausesNoSwitch(t *testing.T) {
	r := newRig(t, "gw-1", "gw-2")
	t0 := r.now
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * 2 * time.Second) }
	for i := 0; i < 30; i++ {
		// gw-1 is up to 400 ms late on odd segments; gw-2 is always prompt.
		late := time.Duration(i%2) * 400 * time.Millisecond
		r.upload("gw-2", at(i), 0, at(i+1))
		r.upload("gw-1", at(i), 0, at(i+1).Add(late))
	}
	if got := r.sel.ActiveFeed("id-1"); got != "gw-2" {
		// gw-2 delivered first, so it is active; the point is it stays so.
		t.Fatalf("active %q", got)
	}
	if _, sws := r.sel.View(r.src); len(sws) != 1 {
		t.Errorf("switches %+v, want only the first", sws)
	}
}

func TestPreferSwitchesOnceThenStays(t *testing.T) {
	r := newRig(t, "gw-1", "gw-2")
	t0 := r.now
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * 2 * time.Second) }
	for i := 0; i < 3; i++ {
		r.upload("gw-1", at(i), 0, at(i+1))
		r.upload("gw-2", at(i), 0, at(i+1).Add(time.Millisecond))
	}
	r.src.Prefer = "gw-2"
	// gw-2 is always a little behind gw-1: level with it, it takes over
	// from its next segment, which is listed.
	r.upload("gw-1", at(3), 0, at(4))
	if role := r.upload("gw-2", at(3), 0, at(4).Add(time.Millisecond)); role != Held {
		t.Fatalf("role %v", role)
	}
	if got := r.sel.ActiveFeed("id-1"); got != "gw-2" {
		t.Fatalf("after --prefer gw-2 the active feed is %q", got)
	}
	if len(r.list.segs) != 0 {
		t.Errorf("prefer listed %d segments of media gw-1 had listed", len(r.list.segs))
	}
	if role := r.upload("gw-1", at(4), 0, at(5)); role != Held {
		t.Errorf("gw-1 after the switch: role %v, want Held", role)
	}
	if role := r.upload("gw-2", at(4), 0, at(5).Add(time.Millisecond)); role != Active {
		t.Errorf("gw-2 after the switch: role %v, want Active", role)
	}
	// gw-2 fails: gw-1 takes over; when gw-2 returns it stays fenced,
	// although preferred, until the next failure.
	for i := 5; i < 8; i++ {
		r.upload("gw-1", at(i), 0, at(i+1))
	}
	if got := r.sel.ActiveFeed("id-1"); got != "gw-1" {
		t.Fatalf("gw-2 failed, active %q", got)
	}
	for i := 8; i < 12; i++ {
		r.upload("gw-1", at(i), 0, at(i+1))
		r.upload("gw-2", at(i), 0, at(i+1).Add(time.Millisecond))
	}
	if got := r.sel.ActiveFeed("id-1"); got != "gw-1" {
		t.Errorf("preferred gw-2 came back and took over (active %q): a switch back needs a failure or --prefer again", got)
	}
	_, sws := r.sel.View(r.src)
	var reasons []string
	for _, s := range sws {
		reasons = append(reasons, s.Reason)
	}
	if fmt.Sprint(reasons) != "[first prefer missed]" {
		t.Errorf("switch reasons %v", reasons)
	}
}

func TestOneFeedKeepsNoState(t *testing.T) {
	r := newRig(t, "gw-1")
	for i := 0; i < 3; i++ {
		if role := r.upload("gw-1", r.now, 0, r.now.Add(2*time.Second)); role != Active {
			t.Fatal(role)
		}
	}
	if r.sel.lookup("id-1") != nil {
		t.Error("a one-feed source has selector state")
	}
	if f, s := r.sel.View(r.src); f != nil || s != nil {
		t.Errorf("view %v %v", f, s)
	}
}

func TestHeldIsBoundedAndCopied(t *testing.T) {
	r := newRig(t, "gw-1", "gw-2")
	buf := []byte("xxxx")
	r.upload("gw-1", r.now, 0, r.now.Add(time.Second))
	for i := 0; i < 12; i++ {
		r.advance(r.now.Add(10 * time.Millisecond))
		r.sel.Admit(r.src, Segment{Edge: "gw-2", Boot: "b", EdgeSeq: uint64(i), Duration: 2, Start: r.now.Add(-3 * time.Second), Arrived: r.now, Data: buf})
	}
	copy(buf, "yyyy")
	feeds, _ := r.sel.View(r.src)
	if feeds[1].Held != 8 {
		t.Errorf("held %d, want the default 8", feeds[1].Held)
	}
	st := r.sel.lookup("id-1")
	if got := string(st.feeds["gw-2"].held[0].Data); got != "xxxx" {
		t.Errorf("held segment's bytes changed with the caller's buffer: %q", got)
	}
}

// The edge's recorder and its live upload may each send a standby's
// segment; the held copy is for what both said, so a switch lists it live.
func TestHeldSegmentSentTwiceKeepsBothPurposes(t *testing.T) {
	r := newRig(t, "gw-1", "gw-2")
	t0 := r.now
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * 2 * time.Second) }
	for i := 0; i < 3; i++ {
		r.upload("gw-1", at(i), 0, at(i+1))
		r.upload("gw-2", at(i), 0, at(i+1).Add(time.Millisecond))
	}
	seg := Segment{Edge: "gw-2", Boot: "b", EdgeSeq: 99, Duration: 2, Start: at(3), Arrived: at(4).Add(time.Millisecond), Data: []byte("x")}
	rec := seg
	rec.Recordings = []string{"rec-1"}
	r.advance(seg.Arrived)
	r.sel.Admit(r.src, rec)
	live := seg
	live.Live = true
	r.sel.Admit(r.src, live)
	r.advance(at(6))
	if len(r.list.segs) == 0 {
		t.Fatal("no switch")
	}
	got := r.list.segs[0]
	if got.EdgeSeq != 99 || !got.Live || len(got.Recordings) != 1 {
		t.Errorf("listed %+v, want segment 99 for live and rec-1", got)
	}
}

// An adaptive-bitrate source's renditions switch together: the held
// segments of every rendition from the switch point on are listed.
func TestRenditionsSwitchTogether(t *testing.T) {
	r := newRig(t, "gw-1", "gw-2")
	t0 := r.now
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * 2 * time.Second) }
	seq := map[string]uint64{}
	up := func(edge string, i int, rendition string, delay time.Duration) Role {
		r.advance(at(i + 1).Add(delay))
		seq[edge+rendition]++
		return r.sel.Admit(r.src, Segment{Edge: edge, Boot: "b", EdgeSeq: seq[edge+rendition]*2 + uint64(rendition[0]-'0'), Duration: 2, Start: at(i),
			Arrived: r.now, Live: true, Rendition: rendition, RenditionSeq: seq[edge+rendition]})
	}
	for i := 0; i < 4; i++ {
		up("gw-1", i, "0", 0)
		up("gw-1", i, "1", time.Millisecond)
		up("gw-2", i, "0", 2*time.Millisecond)
		up("gw-2", i, "1", 3*time.Millisecond)
	}
	for i := 4; i < 6; i++ {
		up("gw-2", i, "0", 2*time.Millisecond)
		up("gw-2", i, "1", 3*time.Millisecond)
	}
	byRendition := map[string]int{}
	for _, s := range r.list.segs {
		byRendition[s.Rendition]++
		if s.Start.Before(at(4).Add(-time.Second)) {
			t.Errorf("listed rendition %s from %v, before where gw-1's media ended (%v)", s.Rendition, s.Start, at(4))
		}
	}
	if byRendition["0"] == 0 || byRendition["0"] != byRendition["1"] {
		t.Errorf("listed per rendition %v, want both renditions, as many of each", byRendition)
	}
}
