package edges

import (
	"errors"
	"github.com/lmx-video/lmx/controld/internal/eventstest"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/sqlstore"
)

type published struct {
	topic   string
	payload []byte
	retain  bool
	qos     byte
}

type fakeBus struct {
	mu   sync.Mutex
	msgs []published
}

func (b *fakeBus) Publish(topic string, payload []byte, retain bool, qos byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.msgs = append(b.msgs, published{topic, payload, retain, qos})
	return nil
}

func (b *fakeBus) take() []published {
	b.mu.Lock()
	defer b.mu.Unlock()
	m := b.msgs
	b.msgs = nil
	return m
}

type fakeFrames struct {
	mu     sync.Mutex
	frames []string
}

func (f *fakeFrames) Publish(kind string, payload []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.frames = append(f.frames, kind+" "+string(payload))
}

type harness struct {
	tr     *Tracker
	store  *sqlstore.Store
	bus    *fakeBus
	events *eventstest.Recorder
	frames *fakeFrames
	online prometheus.Gauge
	now    time.Time
}

func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	store, err := sqlstore.Open(t.Context(), filepath.Join(t.TempDir(), "lmx.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	h := &harness{
		store: store, bus: &fakeBus{}, events: &eventstest.Recorder{}, frames: &fakeFrames{},
		online: prometheus.NewGauge(prometheus.GaugeOpts{Name: "online"}),
		now:    time.Now().UTC().Truncate(time.Second),
	}
	h.tr = New(cfg, store, h.bus, h.events, h.frames, h.online, slog.New(slog.NewTextHandler(io.Discard, nil)))
	h.tr.nowFunc = func() time.Time { return h.now }
	return h
}

func status(edge string, online bool, every time.Duration, sources ...string) broker.EdgeStatus {
	st := broker.EdgeStatus{V: broker.Version, Edge: edge, Online: online, Version: "v1.2", IngestAddr: "10.0.0.5:8080", HeartbeatEvery: broker.Duration(every)}
	// Each source's newest segment is the status's own time: pushed now.
	st.Time = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	for _, s := range sources {
		st.Sources = append(st.Sources, broker.SourceStatus{Name: s, Streaming: true, LastSegmentAt: st.Time})
	}
	return st
}

func (h *harness) report(st broker.EdgeStatus) {
	h.tr.OnStatus(broker.EdgeStatusTopic(st.Edge), broker.Encode(st))
}

func (h *harness) edge(t *testing.T, name string) sqlstore.Edge {
	t.Helper()
	e, err := h.store.GetEdge(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func wantKinds(t *testing.T, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
}

func TestOnlineStatus(t *testing.T) {
	h := newHarness(t, Config{})
	h.report(status("edge-1", true, 2*time.Second, "cam", "door"))

	e := h.edge(t, "edge-1")
	if !e.Online || e.Version != "v1.2" || e.IngestAddr != "10.0.0.5:8080" || !e.LastSeen.Equal(h.now) {
		t.Errorf("stored edge %+v", e)
	}
	wantKinds(t, eventstest.Kinds(h.events.Take()), broker.EventEdgeOnline, broker.EventSourceAdded, broker.EventSourceAdded)
	if got := testutil.ToFloat64(h.online); got != 1 {
		t.Errorf("edges online %v, want 1", got)
	}
	for _, name := range []string{"cam", "door"} {
		src, err := h.store.GetSource(t.Context(), name)
		if err != nil {
			t.Fatalf("auto-registered %s: %v", name, err)
		}
		if src.Edge != "edge-1" {
			t.Errorf("%s bound to %q, want edge-1", name, src.Edge)
		}
	}
	st, seen, ok := h.tr.Status("edge-1")
	if !ok || !st.Online || len(st.Sources) != 2 || !seen.Equal(h.now) {
		t.Errorf("Status = %+v, %v, %v", st, seen, ok)
	}
	if _, _, ok := h.tr.Status("edge-2"); ok {
		t.Error("status of an edge never heard of")
	}
	if len(h.frames.frames) != 1 {
		t.Errorf("frames %v, want the status relayed once", h.frames.frames)
	}

	// A heartbeat changes nothing worth an event.
	h.now = h.now.Add(2 * time.Second)
	h.report(status("edge-1", true, 2*time.Second, "cam", "door"))
	wantKinds(t, eventstest.Kinds(h.events.Take()))
	if e := h.edge(t, "edge-1"); !e.LastSeen.Equal(h.now) {
		t.Errorf("last seen %v, want %v", e.LastSeen, h.now)
	}

	// A status that is not its topic's, or not a status, is ignored.
	h.tr.OnStatus(broker.EdgeStatusTopic("edge-2"), broker.Encode(status("edge-1", false, 0)))
	h.tr.OnStatus(broker.EdgeStatusTopic("edge-1"), []byte("{"))
	h.tr.OnStatus(broker.EdgeStatusTopic("edge-1"), nil) // a cleared retained message
	h.tr.OnStatus("lmx/v1/elsewhere", broker.Encode(status("edge-1", false, 0)))
	wantKinds(t, eventstest.Kinds(h.events.Take()))
	if e := h.edge(t, "edge-1"); !e.Online {
		t.Error("an ignored status took the edge offline")
	}
	if _, err := h.store.GetEdge(t.Context(), "edge-2"); !errors.Is(err, sqlstore.ErrNotFound) {
		t.Errorf("edge-2 stored from another edge's status: %v", err)
	}
}

func TestLastWill(t *testing.T) {
	h := newHarness(t, Config{})
	h.report(status("edge-1", true, time.Second))
	h.report(status("edge-2", true, time.Second))
	eventstest.Kinds(h.events.Take())
	if got := testutil.ToFloat64(h.online); got != 2 {
		t.Fatalf("edges online %v, want 2", got)
	}

	h.report(status("edge-1", false, time.Second, "new-source"))
	wantKinds(t, eventstest.Kinds(h.events.Take()), broker.EventEdgeOffline)
	if e := h.edge(t, "edge-1"); e.Online {
		t.Error("edge still online after its Last Will")
	}
	if got := testutil.ToFloat64(h.online); got != 1 {
		t.Errorf("edges online %v, want 1", got)
	}
	if _, err := h.store.GetSource(t.Context(), "new-source"); !errors.Is(err, sqlstore.ErrNotFound) {
		t.Errorf("an offline status registered its sources: %v", err)
	}
	// The retained Last Will seen again (a control node restart) is no news.
	h.report(status("edge-1", false, time.Second))
	wantKinds(t, eventstest.Kinds(h.events.Take()))
	// Nor is an edge first heard of by its Last Will.
	h.report(status("edge-3", false, time.Second))
	wantKinds(t, eventstest.Kinds(h.events.Take()))
}

func TestNoAutoRegister(t *testing.T) {
	h := newHarness(t, Config{NoAutoRegister: true})
	if _, err := h.store.CreateSource(t.Context(), sqlstore.Source{Name: "known"}); err != nil {
		t.Fatal(err)
	}
	h.report(status("edge-1", true, time.Second, "known", "stranger"))
	wantKinds(t, eventstest.Kinds(h.events.Take()), broker.EventEdgeOnline, broker.EventSourceEdgeAssigned)
	if _, err := h.store.GetSource(t.Context(), "stranger"); !errors.Is(err, sqlstore.ErrNotFound) {
		t.Errorf("source registered despite NoAutoRegister: %v", err)
	}
	if src, err := h.store.GetSource(t.Context(), "known"); err != nil || src.Edge != "edge-1" {
		t.Errorf("known source %+v, %v: want bound to edge-1", src, err)
	}
	if _, err := h.tr.BindSource(t.Context(), "edge-1", "stranger"); !errors.Is(err, sqlstore.ErrNotFound) {
		t.Errorf("BindSource of an unknown name: %v, want ErrNotFound", err)
	}
}

// TestBindSourceOwnership: a source belongs to the first edge that pushes
// it; another edge pushing the same name is refused (sqlstore.ErrConflict,
// naming the owner) and changes nothing; a source created without an edge
// goes to its first pusher.
func TestBindSourceOwnership(t *testing.T) {
	h := newHarness(t, Config{})
	h.report(status("edge-1", true, time.Second, "cam"))
	eventstest.Kinds(h.events.Take())
	h.bus.take()

	_, err := h.tr.BindSource(t.Context(), "edge-2", "cam")
	if !errors.Is(err, sqlstore.ErrConflict) || !strings.Contains(err.Error(), `"edge-1"`) {
		t.Fatalf("BindSource by another edge: %v, want a conflict naming edge-1", err)
	}
	wantKinds(t, eventstest.Kinds(h.events.Take()))
	if m := h.bus.take(); len(m) != 0 {
		t.Errorf("published %d messages for a refused bind", len(m))
	}
	if src, err := h.store.GetSource(t.Context(), "cam"); err != nil || src.Edge != "edge-1" {
		t.Fatalf("after a refused bind: %+v, %v; want it still on edge-1", src, err)
	}
	// Its status listing the source moves nothing either.
	h.report(status("edge-2", true, time.Second, "cam"))
	if src, _ := h.store.GetSource(t.Context(), "cam"); src.Edge != "edge-1" {
		t.Fatalf("a status report moved the source to %q", src.Edge)
	}
	eventstest.Kinds(h.events.Take())
	h.bus.take()

	// Created by the API with no edge: the first pusher gets it.
	if _, err := h.store.CreateSource(t.Context(), sqlstore.Source{Name: "door"}); err != nil {
		t.Fatal(err)
	}
	src, err := h.tr.BindSource(t.Context(), "edge-2", "door")
	if err != nil || src.Edge != "edge-2" {
		t.Fatalf("BindSource of an unowned source = %+v, %v", src, err)
	}
	wantKinds(t, eventstest.Kinds(h.events.Take()), broker.EventSourceEdgeAssigned)
	var topics []string
	for _, m := range h.bus.take() {
		topics = append(topics, m.topic)
	}
	if want := []string{broker.EdgeDesiredTopic("edge-2")}; !slices.Equal(topics, want) {
		t.Errorf("published on %v, want %v", topics, want)
	}
	// Bound already: nothing happens.
	if _, err := h.tr.BindSource(t.Context(), "edge-2", "door"); err != nil {
		t.Fatal(err)
	}
	wantKinds(t, eventstest.Kinds(h.events.Take()))
	if m := h.bus.take(); len(m) != 0 {
		t.Errorf("published %d messages for a source already bound", len(m))
	}
}

func TestMarkStale(t *testing.T) {
	h := newHarness(t, Config{})
	t0 := h.now
	h.report(status("edge-1", true, 2*time.Second)) // stale after 3×2 s + 5 s
	h.report(status("edge-2", true, 0))             // default 5 s: stale after 20 s
	eventstest.Kinds(h.events.Take())

	h.tr.markStale(t.Context(), t0.Add(11*time.Second))
	wantKinds(t, eventstest.Kinds(h.events.Take()))
	if !h.edge(t, "edge-1").Online {
		t.Fatal("edge-1 marked offline at exactly 3 periods + 5 s")
	}

	at := t0.Add(11*time.Second + time.Millisecond)
	h.tr.markStale(t.Context(), at)
	wantKinds(t, eventstest.Kinds(h.events.Take()), broker.EventEdgeOffline)
	if e := h.edge(t, "edge-1"); e.Online || !e.LastSeen.Equal(at) {
		t.Errorf("edge-1 after its heartbeats stopped: %+v", e)
	}
	if !h.edge(t, "edge-2").Online {
		t.Error("edge-2 with the default heartbeat marked offline too early")
	}
	if st, _, _ := h.tr.Status("edge-1"); st.Online {
		t.Error("Status still says online")
	}
	if got := testutil.ToFloat64(h.online); got != 1 {
		t.Errorf("edges online %v, want 1", got)
	}
	// Each edge flips once: a minute on, only edge-2 is news.
	h.tr.markStale(t.Context(), at.Add(time.Minute))
	wantKinds(t, eventstest.Kinds(h.events.Take()), broker.EventEdgeOffline)
	if h.edge(t, "edge-2").Online {
		t.Error("edge-2 still online a minute after its last heartbeat")
	}
	h.tr.markStale(t.Context(), at.Add(2*time.Minute))
	wantKinds(t, eventstest.Kinds(h.events.Take()))

	// Heartbeats again: online again.
	h.now = at.Add(3 * time.Minute)
	h.report(status("edge-1", true, 2*time.Second))
	wantKinds(t, eventstest.Kinds(h.events.Take()), broker.EventEdgeOnline)
}

func TestPublishDesired(t *testing.T) {
	h := newHarness(t, Config{})
	ctx := t.Context()
	h.report(status("edge-1", true, time.Second, "cam", "quiet"))
	cam, _ := h.store.GetSource(ctx, "cam")
	if _, err := h.store.SetStreaming(ctx, cam.ID, true); err != nil {
		t.Fatal(err)
	}
	now := h.now
	startAt := now.Add(-time.Hour)
	mk := func(stopAt time.Time) sqlstore.Recording {
		t.Helper()
		r, err := h.store.CreateRecording(ctx, sqlstore.Recording{SourceID: cam.ID, StartAt: startAt})
		if err != nil {
			t.Fatal(err)
		}
		if !stopAt.IsZero() {
			if r, err = h.store.StopRecording(ctx, r.ID, stopAt); err != nil {
				t.Fatal(err)
			}
		}
		return r
	}
	active := mk(time.Time{})
	recent := mk(now.Add(-StoppedRecordingGrace + time.Second))
	mk(now.Add(-StoppedRecordingGrace)) // just past the grace
	mk(now.Add(-time.Hour / 2))
	h.bus.take()

	h.tr.PublishDesired(ctx, "edge-1")
	msgs := h.bus.take()
	if len(msgs) != 1 {
		t.Fatalf("published %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if m.topic != broker.EdgeDesiredTopic("edge-1") || !m.retain || m.qos != broker.DesiredQoS {
		t.Errorf("published on %q retain %v qos %d; want %q retained qos %d", m.topic, m.retain, m.qos, broker.EdgeDesiredTopic("edge-1"), broker.DesiredQoS)
	}
	var d broker.Desired
	if err := broker.Decode(m.payload, &d); err != nil {
		t.Fatal(err)
	}
	if d.V != broker.Version || d.Edge != "edge-1" || d.Generation != now.UnixNano() || len(d.Sources) != 2 {
		t.Errorf("desired %+v", d)
	}
	if q := d.Sources["quiet"]; q.Stream || len(q.Recordings) != 0 {
		t.Errorf("quiet %+v, want not streaming, no recordings", q)
	}
	c := d.Sources["cam"]
	if !c.Stream {
		t.Error("cam not asked to stream")
	}
	var ids []string
	for _, r := range c.Recordings {
		ids = append(ids, r.ID)
		switch r.ID {
		case active.ID:
			if !r.Since.Equal(startAt) || !r.Until.IsZero() {
				t.Errorf("active recording %+v", r)
			}
		case recent.ID:
			if !r.Since.Equal(startAt) || !r.Until.Equal(recent.EndAt) {
				t.Errorf("recently stopped recording %+v, want until %v", r, recent.EndAt)
			}
		}
	}
	if want := []string{recent.ID, active.ID}; !slices.Equal(ids, want) { // newest first
		t.Errorf("recordings %v, want the active one and the one stopped within %v: %v", ids, StoppedRecordingGrace, want)
	}

	// A second on, the recently stopped one is past the grace too.
	h.now = now.Add(time.Second)
	h.tr.PublishDesired(ctx, "edge-1")
	if err := broker.Decode(h.bus.take()[0].payload, &d); err != nil {
		t.Fatal(err)
	}
	if rs := d.Sources["cam"].Recordings; len(rs) != 1 || rs[0].ID != active.ID {
		t.Errorf("after the grace: %+v, want only the active one", rs)
	}

	// No edge, nothing to publish.
	h.tr.PublishDesired(ctx, "")
	if m := h.bus.take(); len(m) != 0 {
		t.Errorf("published %d messages for no edge", len(m))
	}

	// RepublishDesired covers every known edge.
	h.report(status("edge-2", true, time.Second))
	h.bus.take()
	if err := h.tr.RepublishDesired(ctx); err != nil {
		t.Fatal(err)
	}
	var topics []string
	for _, m := range h.bus.take() {
		topics = append(topics, m.topic)
	}
	if want := []string{broker.EdgeDesiredTopic("edge-1"), broker.EdgeDesiredTopic("edge-2")}; !slices.Equal(topics, want) {
		t.Errorf("republished on %v, want %v", topics, want)
	}
}

func TestStartMarksEdgesOffline(t *testing.T) {
	h := newHarness(t, Config{})
	h.report(status("edge-1", true, time.Second))
	if err := h.tr.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if h.edge(t, "edge-1").Online {
		t.Error("edge online after Start")
	}
}
