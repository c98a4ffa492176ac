package continuous_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lmx-video/lmx/controld/internal/continuous"
	"github.com/lmx-video/lmx/controld/internal/eventstest"
	"github.com/lmx-video/lmx/controld/internal/recording"
	"github.com/lmx-video/lmx/objstore"
	"github.com/lmx-video/lmx/sqlstore"
)

// clock is a controllable time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// desired counts the desired states published per edge.
type desired struct {
	mu  sync.Mutex
	got []string
}

func (d *desired) PublishDesired(_ context.Context, edges ...string) {
	for _, edge := range edges {
		d.publishOne(edge)
	}
}

func (d *desired) publishOne(edge string) {
	d.mu.Lock()
	d.got = append(d.got, edge)
	d.mu.Unlock()
}

func (d *desired) take() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := d.got
	d.got = nil
	return out
}

type fixture struct {
	store *sqlstore.Store
	clk   *clock
	pub   *desired
	ev    *eventstest.Recorder
	src   sqlstore.Source
}

var t0 = time.Date(2026, 12, 2, 14, 0, 0, 0, time.UTC)

func newFixture(t *testing.T, chunk time.Duration) *fixture {
	t.Helper()
	st, err := sqlstore.Open(t.Context(), filepath.Join(t.TempDir(), "lmx.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	src, err := st.CreateSource(t.Context(), sqlstore.Source{Name: "camera-0", Edge: "gw", RecordMode: sqlstore.RecordAlways, RecordChunk: chunk})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{store: st, clk: &clock{t: t0}, pub: &desired{}, ev: &eventstest.Recorder{}, src: src}
}

func (f *fixture) manager(cfg continuous.Config) *continuous.Manager {
	cfg.Now = f.clk.Now
	return continuous.New(cfg, f.store, f.pub, f.ev, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// chunks returns the source's continuous recordings, oldest first.
func (f *fixture) chunks(t *testing.T) []sqlstore.Recording {
	t.Helper()
	recs, err := f.store.ListRecordings(t.Context(), sqlstore.RecordingFilter{SourceID: f.src.ID})
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(recs)
	return recs
}

func pass(t *testing.T, m *continuous.Manager) time.Time {
	t.Helper()
	next, err := m.Pass(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return next
}

func TestBoundariesAlignToTheClock(t *testing.T) {
	at := time.Date(2026, 12, 2, 14, 37, 12, 5, time.UTC)
	if got := continuous.Next(at, time.Hour); !got.Equal(time.Date(2026, 12, 2, 15, 0, 0, 0, time.UTC)) {
		t.Errorf("Next hour = %s", got)
	}
	if got := continuous.Next(t0, time.Hour); !got.Equal(t0.Add(time.Hour)) {
		t.Errorf("Next from a boundary = %s, want the one after", got)
	}
	if got := continuous.Floor(at, 10*time.Second); !got.Equal(time.Date(2026, 12, 2, 14, 37, 10, 0, time.UTC)) {
		t.Errorf("Floor 10s = %s", got)
	}
}

func TestChunksAbutAtEveryBoundary(t *testing.T) {
	f := newFixture(t, 10*time.Second)
	m := f.manager(continuous.Config{})
	f.clk.Set(t0.Add(7 * time.Second))
	if next := pass(t, m); !next.Equal(t0.Add(10 * time.Second)) {
		t.Errorf("next boundary = %s", next)
	}
	if got := f.pub.take(); !slices.Equal(got, []string{"gw"}) {
		t.Errorf("desired published for %v, want gw once", got)
	}
	cs := f.chunks(t)
	if len(cs) != 1 || !cs[0].Active || !cs[0].Continuous || !cs[0].StartAt.Equal(t0.Add(7*time.Second)) {
		t.Fatalf("first chunk: %+v", cs)
	}
	if cs[0].Alias != "camera-0 2026-12-02 14:00:07" {
		t.Errorf("alias %q", cs[0].Alias)
	}
	// Nothing changes inside a chunk, and nothing is published.
	f.clk.Set(t0.Add(9 * time.Second))
	pass(t, m)
	if len(f.chunks(t)) != 1 || len(f.pub.take()) != 0 {
		t.Error("a pass inside the chunk changed something")
	}
	// Three boundaries pass before the next pass (a slow node): each chunk
	// is cut exactly at its boundary.
	f.clk.Set(t0.Add(35 * time.Second))
	if next := pass(t, m); !next.Equal(t0.Add(40 * time.Second)) {
		t.Errorf("next boundary = %s", next)
	}
	cs = f.chunks(t)
	if len(cs) != 4 {
		t.Fatalf("%d chunks, want 4", len(cs))
	}
	for i, c := range cs[:3] {
		if c.Active || !c.EndAt.Equal(t0.Add(time.Duration(i+1)*10*time.Second)) {
			t.Errorf("chunk %d: active %v, end %s", i, c.Active, c.EndAt)
		}
		if !cs[i+1].StartAt.Equal(c.EndAt) {
			t.Errorf("chunk %d ends %s, chunk %d starts %s: they must abut", i, c.EndAt, i+1, cs[i+1].StartAt)
		}
	}
	if !cs[3].Active {
		t.Error("the current chunk is not active")
	}
	if got := f.pub.take(); len(got) != 1 {
		t.Errorf("desired published %d times in one pass, want once", len(got))
	}
	if end, ok := m.ChunkEnd(cs[3]); !ok || !end.Equal(t0.Add(40*time.Second)) {
		t.Errorf("ChunkEnd = %s, %v", end, ok)
	}
}

func TestRecordOffStopsTheChunk(t *testing.T) {
	f := newFixture(t, 0)
	m := f.manager(continuous.Config{Chunk: time.Hour})
	pass(t, m)
	off := sqlstore.RecordOff
	if _, err := f.store.UpdateSource(t.Context(), f.src.ID, sqlstore.SourceChange{RecordMode: &off}); err != nil {
		t.Fatal(err)
	}
	f.clk.Set(t0.Add(20 * time.Minute))
	if next := pass(t, m); !next.IsZero() {
		t.Errorf("next = %s with nothing recording", next)
	}
	cs := f.chunks(t)
	if len(cs) != 1 || cs[0].Active || !cs[0].EndAt.Equal(t0.Add(20*time.Minute)) {
		t.Fatalf("after record off: %+v", cs)
	}
	if got := f.pub.take(); len(got) != 2 {
		t.Errorf("desired published %v, want on start and on stop", got)
	}
	// An operator's recording is none of its business.
	rec, err := f.store.CreateRecording(t.Context(), sqlstore.Recording{SourceID: f.src.ID})
	if err != nil {
		t.Fatal(err)
	}
	pass(t, m)
	if got, _ := f.store.GetRecording(t.Context(), rec.ID); !got.Active {
		t.Error("a manual recording was stopped")
	}
}

func TestRestartCarriesOn(t *testing.T) {
	f := newFixture(t, 10*time.Minute)
	pass(t, f.manager(continuous.Config{}))
	first := f.chunks(t)[0]

	// A new node (nothing in memory) inside the same chunk keeps it.
	f.clk.Set(t0.Add(5 * time.Minute))
	pass(t, f.manager(continuous.Config{}))
	if cs := f.chunks(t); len(cs) != 1 || cs[0].ID != first.ID || !cs[0].Active {
		t.Fatalf("after restart: %+v", cs)
	}

	// A node down for three hours: the chunk that was active stops at its
	// own boundary; the next starts no earlier than what edges may still
	// buffer (Lookback), on a boundary, and chunks go on from there.
	f.clk.Set(t0.Add(3*time.Hour + 2*time.Minute))
	pass(t, f.manager(continuous.Config{Lookback: 5 * time.Minute}))
	cs := f.chunks(t)
	if len(cs) != 3 {
		t.Fatalf("%d chunks after the outage, want 3: %+v", len(cs), cs)
	}
	if !cs[0].EndAt.Equal(t0.Add(10 * time.Minute)) {
		t.Errorf("the old chunk ends %s", cs[0].EndAt)
	}
	if !cs[1].StartAt.Equal(t0.Add(2*time.Hour+50*time.Minute)) || !cs[1].EndAt.Equal(t0.Add(3*time.Hour)) || !cs[2].StartAt.Equal(t0.Add(3*time.Hour)) || !cs[2].Active {
		t.Errorf("chunks after the outage: %s-%s, %s (active %v)", cs[1].StartAt, cs[1].EndAt, cs[2].StartAt, cs[2].Active)
	}
}

func TestShorterChunkNeverCutsBeforeTakenMedia(t *testing.T) {
	f := newFixture(t, time.Hour)
	m := f.manager(continuous.Config{})
	pass(t, m)
	f.clk.Set(t0.Add(20*time.Minute + 3*time.Second))
	pass(t, m)
	short := 10 * time.Second
	if _, err := f.store.UpdateSource(t.Context(), f.src.ID, sqlstore.SourceChange{RecordChunk: &short}); err != nil {
		t.Fatal(err)
	}
	f.clk.Set(t0.Add(20*time.Minute + 5*time.Second))
	if next := pass(t, m); !next.Equal(t0.Add(20*time.Minute + 10*time.Second)) {
		t.Errorf("next = %s, want the first 10 s boundary after the last pass", next)
	}
	if cs := f.chunks(t); len(cs) != 1 || !cs[0].Active {
		t.Errorf("chunks: %+v", cs)
	}
}

// TestStraddlingSegmentLandsInOneChunk feeds real segments through
// recording.Record with the ids an edge sends (the edge marks a segment
// for every recording it overlaps): a segment that starts before a
// boundary and ends after it lands in the chunk it starts in, one that
// starts after the boundary in the next, even when it arrives before the
// pass that stops the chunk; the chunks' media abut.
func TestStraddlingSegmentLandsInOneChunk(t *testing.T) {
	f := newFixture(t, 10*time.Second)
	m := f.manager(continuous.Config{})
	recs := newRecordings(t, f.store)
	recs.SetChunkEnds(m)
	f.clk.Set(t0.Add(5 * time.Second))
	pass(t, m)
	c1 := f.chunks(t)[0].ID

	seg := func(n uint64, start time.Duration) recording.Segment {
		return recording.Segment{SourceID: f.src.ID, Edge: "gw", Boot: "b1", EdgeSeq: n, Duration: 2, Start: t0.Add(start), Arrived: t0.Add(start + 2*time.Second)}
	}
	record := func(s recording.Segment, ids ...string) (acked, rejected []string) {
		t.Helper()
		a, r, err := recs.Record(t.Context(), s, ids, []byte("segment data"))
		if err != nil {
			t.Fatal(err)
		}
		return a, r
	}
	a := seg(1, 7500*time.Millisecond)  // 14:00:07.5-09.5, inside chunk 1
	b := seg(2, 9500*time.Millisecond)  // 14:00:09.5-11.5, straddles 14:00:10
	c := seg(3, 11500*time.Millisecond) // 14:00:11.5-13.5, inside chunk 2
	record(a, c1)
	f.clk.Set(t0.Add(11500 * time.Millisecond))
	// b and c arrive before the pass that cuts chunk 1 at 14:00:10.
	if acked, _ := record(b, c1); !slices.Equal(acked, []string{c1}) {
		t.Errorf("straddling segment acked by %v, want chunk 1", acked)
	}
	f.clk.Set(t0.Add(13500 * time.Millisecond))
	if acked, rejected := record(c, c1); len(acked) != 0 || !slices.Equal(rejected, []string{c1}) {
		t.Errorf("segment after the boundary: acked %v rejected %v by chunk 1 before its stop", acked, rejected)
	}
	pass(t, m)
	cs := f.chunks(t)
	if len(cs) != 2 {
		t.Fatalf("%d chunks", len(cs))
	}
	c2 := cs[1].ID
	// The edge now knows both chunks and sends what it still holds to each.
	if acked, rejected := record(b, c1, c2); !slices.Equal(acked, []string{c1}) || !slices.Equal(rejected, []string{c2}) {
		t.Errorf("straddling segment: acked %v rejected %v, want chunk 1 only", acked, rejected)
	}
	if acked, _ := record(c, c1, c2); !slices.Equal(acked, []string{c2}) {
		t.Errorf("segment after the boundary acked by %v, want chunk 2 only", acked)
	}
	s1, _ := f.store.RecordingSegments(t.Context(), c1)
	s2, _ := f.store.RecordingSegments(t.Context(), c2)
	if len(s1) != 2 || len(s2) != 1 {
		t.Fatalf("chunk 1 has %d segments, chunk 2 %d; want 2 and 1", len(s1), len(s2))
	}
	end1 := s1[1].StartAt.Add(time.Duration(s1[1].Duration * float64(time.Second)))
	if !end1.Equal(s2[0].StartAt) {
		t.Errorf("chunk 1's media ends %s, chunk 2's starts %s: not contiguous", end1, s2[0].StartAt)
	}
}

func newRecordings(t *testing.T, st *sqlstore.Store) *recording.Recordings {
	t.Helper()
	dir, err := objstore.NewDir(filepath.Join(t.TempDir(), "objects"))
	if err != nil {
		t.Fatal(err)
	}
	counter := func() prometheus.Counter { return prometheus.NewCounter(prometheus.CounterOpts{Name: "c"}) }
	r, err := recording.New(recording.Config{SpoolDir: filepath.Join(t.TempDir(), "spool"), CacheSize: 4 << 20}, st, dir,
		recording.Series{
			Gauges:   recording.Gauges{Spooled: prometheus.NewGauge(prometheus.GaugeOpts{Name: "g"}), Persist: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "h"})},
			Recorded: counter(), CacheHits: counter(), CacheMisses: counter(), CacheRejected: counter(),
		}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return r
}
