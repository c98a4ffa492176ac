package ondemand

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/controld/internal/eventstest"
	"github.com/lmx-video/lmx/sqlstore"
)

// fakeLive records what was done to live windows, in order.
type fakeLive struct {
	mu  sync.Mutex
	ops []string
}

func (f *fakeLive) Allow(id string) { f.add("allow " + id) }
func (f *fakeLive) Close(id string) { f.add("close " + id) }
func (f *fakeLive) add(op string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ops = append(f.ops, op)
}

func (f *fakeLive) take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	o := f.ops
	f.ops = nil
	return o
}

// fakeEdges records desired-state publications and what the awake set
// said when each was made, as the tracker would read it.
type fakeEdges struct {
	mu      sync.Mutex
	d       *Demand
	online  map[string]bool
	desired []string // "edge stream=bool"
}

func (f *fakeEdges) PublishDesired(_ context.Context, edges ...string) {
	for _, edge := range edges {
		f.publishOne(edge)
	}
}

func (f *fakeEdges) publishOne(edge string) {
	awake := f.d.Awake("src-1")
	f.mu.Lock()
	defer f.mu.Unlock()
	if awake {
		f.desired = append(f.desired, edge+" stream")
	} else {
		f.desired = append(f.desired, edge+" sleep")
	}
}

func (f *fakeEdges) Status(edge string) (broker.EdgeStatus, time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	on, ok := f.online[edge]
	return broker.EdgeStatus{Edge: edge, Online: on}, time.Time{}, ok
}

func (f *fakeEdges) take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	o := f.desired
	f.desired = nil
	return o
}

type harness struct {
	d      *Demand
	live   *fakeLive
	edges  *fakeEdges
	events *eventstest.Recorder
	wakes  prometheus.Counter
	awake  prometheus.Gauge
	now    time.Time
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{live: &fakeLive{}, edges: &fakeEdges{online: map[string]bool{"edge-1": true}}, events: &eventstest.Recorder{},
		wakes: prometheus.NewCounter(prometheus.CounterOpts{Name: "w"}), awake: prometheus.NewGauge(prometheus.GaugeOpts{Name: "a"}),
		now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	h.d = New(Config{Idle: 60 * time.Second}, h.live, h.edges, h.events, Series{Wakeups: h.wakes, Awake: h.awake}, slog.New(slog.DiscardHandler))
	h.d.now = func() time.Time { return h.now }
	h.edges.d = h.d
	return h
}

var cam = sqlstore.Source{ID: "src-1", Name: "cam", Edge: "edge-1", OnDemand: true, Streaming: true, Idle: 5 * time.Second}

func want[T comparable](t *testing.T, what string, got []T, want ...T) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: %v, want %v", what, got, want)
	}
}

func TestWakeTouchIdle(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	if h.d.Awake(cam.ID) {
		t.Fatal("awake before any request")
	}
	// Touch of a sleeping source does nothing: only Wake wakes.
	h.d.Touch(cam.ID)
	if h.d.Awake(cam.ID) {
		t.Fatal("Touch woke a sleeping source")
	}

	woken, err := h.d.Wake(ctx, cam)
	if !woken || err != nil {
		t.Fatalf("Wake = %v, %v; want woken", woken, err)
	}
	if !h.d.Awake(cam.ID) {
		t.Fatal("not awake after Wake")
	}
	// The window opens before the edge is told, and the edge is told with
	// the source already awake (its desired state says stream).
	want(t, "live windows", h.live.take(), "allow src-1")
	want(t, "desired states", h.edges.take(), "edge-1 stream")
	want(t, "events", eventstest.Kinds(h.events.Take()), broker.EventSourceWoken)
	if testutil.ToFloat64(h.wakes) != 1 || testutil.ToFloat64(h.awake) != 1 {
		t.Errorf("wakeups %v, awake %v; want 1, 1", testutil.ToFloat64(h.wakes), testutil.ToFloat64(h.awake))
	}

	// A second request while awake wakes nothing again.
	if woken, err := h.d.Wake(ctx, cam); woken || err != nil {
		t.Fatalf("second Wake = %v, %v; want not woken again", woken, err)
	}
	want(t, "desired states after a second wake", h.edges.take())

	// Playlist requests every 4 s keep it awake past its 5 s idle.
	for range 5 {
		h.now = h.now.Add(4 * time.Second)
		h.d.Touch(cam.ID)
		if slept := h.d.sleepIdle(ctx, h.now); len(slept) != 0 {
			t.Fatalf("slept %v while watched", slept)
		}
	}
	// 4.9 s after the last request it is still awake; at 5 s it sleeps.
	if slept := h.d.sleepIdle(ctx, h.now.Add(4900*time.Millisecond)); len(slept) != 0 {
		t.Fatalf("slept %v before its idle time", slept)
	}
	want(t, "slept", h.d.sleepIdle(ctx, h.now.Add(5*time.Second)), "cam")
	if h.d.Awake(cam.ID) {
		t.Fatal("awake after idle")
	}
	// The edge is told to stop (the source no longer awake), then the
	// window closes.
	want(t, "desired states after idle", h.edges.take(), "edge-1 sleep")
	want(t, "live windows after idle", h.live.take(), "close src-1")
	want(t, "events after idle", eventstest.Kinds(h.events.Take()), broker.EventSourceIdle)
	if testutil.ToFloat64(h.awake) != 0 {
		t.Errorf("awake gauge %v after idle, want 0", testutil.ToFloat64(h.awake))
	}
	// Asleep: nothing more happens on later ticks.
	if slept := h.d.sleepIdle(ctx, h.now.Add(time.Hour)); len(slept) != 0 {
		t.Fatalf("slept %v again", slept)
	}

	// The next request wakes it again.
	if woken, _ := h.d.Wake(ctx, cam); !woken {
		t.Fatal("not woken again after sleeping")
	}
	if testutil.ToFloat64(h.wakes) != 2 {
		t.Errorf("wakeups %v, want 2", testutil.ToFloat64(h.wakes))
	}
}

func TestIdleDefault(t *testing.T) {
	h := newHarness(t)
	src := cam
	src.Idle = 0 // the node's default, 60 s
	if _, err := h.d.Wake(t.Context(), src); err != nil {
		t.Fatal(err)
	}
	if slept := h.d.sleepIdle(t.Context(), h.now.Add(59*time.Second)); len(slept) != 0 {
		t.Fatalf("slept %v before the default idle", slept)
	}
	want(t, "slept", h.d.sleepIdle(t.Context(), h.now.Add(60*time.Second)), "cam")
}

func TestWakeEdgeTrouble(t *testing.T) {
	h := newHarness(t)
	noEdge := cam
	noEdge.Edge = ""
	if woken, err := h.d.Wake(t.Context(), noEdge); woken || !errors.Is(err, ErrNoEdge) {
		t.Fatalf("Wake without an edge = %v, %v; want ErrNoEdge", woken, err)
	}
	want(t, "desired states without an edge", h.edges.take())

	// An offline edge: the source is woken (the edge gets it when it comes
	// back) and the caller is told nothing will come now.
	h.edges.online["edge-1"] = false
	woken, err := h.d.Wake(t.Context(), cam)
	if !woken || !errors.Is(err, ErrEdgeOffline) {
		t.Fatalf("Wake with the edge offline = %v, %v; want woken and ErrEdgeOffline", woken, err)
	}
	if msg := err.Error(); msg != `source "cam": edge "edge-1": the source's edge is offline` {
		t.Errorf("error %q", msg)
	}
}

func TestForget(t *testing.T) {
	h := newHarness(t)
	if _, err := h.d.Wake(t.Context(), cam); err != nil {
		t.Fatal(err)
	}
	h.live.take()
	h.edges.take()
	h.d.Forget(cam.ID)
	if h.d.Awake(cam.ID) {
		t.Fatal("awake after Forget")
	}
	// Forget leaves the window and the desired state to the caller.
	want(t, "live windows", h.live.take())
	want(t, "desired states", h.edges.take())
	if slept := h.d.sleepIdle(t.Context(), h.now.Add(time.Hour)); len(slept) != 0 {
		t.Fatalf("a forgotten source slept: %v", slept)
	}
}

// TestWakeSleepRace: wakes and idle sleeps racing never leave a source
// awake with its window closed (the last word on the window matches the
// awake set).
func TestWakeSleepRace(t *testing.T) {
	h := newHarness(t)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for range 200 {
				_, _ = h.d.Wake(t.Context(), cam)
			}
		}()
		go func() {
			defer wg.Done()
			for range 200 {
				h.d.sleepIdle(t.Context(), h.now.Add(time.Hour))
			}
		}()
	}
	wg.Wait()
	ops := h.live.take()
	if len(ops) == 0 {
		t.Fatal("nothing happened")
	}
	last := ops[len(ops)-1]
	if awake := h.d.Awake(cam.ID); awake != (last == "allow src-1") {
		t.Fatalf("awake %v but the window's last change was %q", awake, last)
	}
}
