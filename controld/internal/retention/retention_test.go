package retention_test

import (
	"context"
	"io"
	"io/fs"
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
	"github.com/lmx-video/lmx/controld/internal/eventstest"
	"github.com/lmx-video/lmx/controld/internal/recording"
	"github.com/lmx-video/lmx/controld/internal/retention"
	"github.com/lmx-video/lmx/objstore"
	"github.com/lmx-video/lmx/sqlstore"
)

var t0 = time.Date(2026, 12, 2, 14, 0, 0, 0, time.UTC)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

type desired struct{ n int }

func (d *desired) PublishDesired(_ context.Context, edges ...string) { d.n += len(edges) }

// fixture is a real store, a real directory object store behind the real
// spool, and an enforcer on a controllable clock.
type fixture struct {
	t       *testing.T
	store   *sqlstore.Store
	recs    *recording.Recordings
	objDir  string
	clk     *clock
	ev      *eventstest.Recorder
	series  retention.Series
	edgeSeq uint64
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := sqlstore.Open(t.Context(), filepath.Join(t.TempDir(), "lmx.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{t: t, store: st, objDir: filepath.Join(t.TempDir(), "objects"), clk: &clock{t: t0}, ev: &eventstest.Recorder{}}
	dir, err := objstore.NewDir(f.objDir)
	if err != nil {
		t.Fatal(err)
	}
	counter := func() prometheus.Counter { return prometheus.NewCounter(prometheus.CounterOpts{Name: "c"}) }
	f.recs, err = recording.New(recording.Config{SpoolDir: filepath.Join(t.TempDir(), "spool"), CacheSize: 4 << 20}, st, dir,
		recording.Series{
			Gauges:   recording.Gauges{Spooled: prometheus.NewGauge(prometheus.GaugeOpts{Name: "g"}), Persist: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "h"})},
			Recorded: counter(), CacheHits: counter(), CacheMisses: counter(), CacheRejected: counter(),
		}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = f.recs.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	f.series = retention.Series{
		Deleted:      prometheus.NewCounterVec(prometheus.CounterOpts{Name: "d"}, []string{"reason"}),
		DeletedBytes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "db"}, []string{"reason"}),
		Stored:       prometheus.NewGauge(prometheus.GaugeOpts{Name: "s"}),
		Pinned:       prometheus.NewGauge(prometheus.GaugeOpts{Name: "p"}),
		Protected:    prometheus.NewGauge(prometheus.GaugeOpts{Name: "pr"}),
		OverCap:      prometheus.NewGauge(prometheus.GaugeOpts{Name: "o"}),
	}
	return f
}

func (f *fixture) enforcer(cfg retention.Config) *retention.Enforcer {
	cfg.Now = f.clk.Now
	return retention.New(cfg, f.store, f.recs, &desired{}, f.ev, f.series, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

func (f *fixture) source(name string, retain time.Duration) sqlstore.Source {
	f.t.Helper()
	src, err := f.store.CreateSource(f.t.Context(), sqlstore.Source{Name: name, Edge: "gw", Retain: retain})
	if err != nil {
		f.t.Fatal(err)
	}
	return src
}

// recorded makes a recording of src from start to end (zero: active) with
// one segment of n bytes per second of [segFrom, segTo), recorded through
// the real spool into the object store.
func (f *fixture) recorded(src sqlstore.Source, start, end time.Time, n int) sqlstore.Recording {
	f.t.Helper()
	rec, err := f.store.CreateRecording(f.t.Context(), sqlstore.Recording{SourceID: src.ID, StartAt: start})
	if err != nil {
		f.t.Fatal(err)
	}
	stop := end
	if stop.IsZero() {
		stop = start.Add(3 * time.Second)
	}
	for at := start; at.Before(stop); at = at.Add(time.Second) {
		f.segment(src, at, n, rec.ID)
	}
	if !end.IsZero() {
		if rec, err = f.store.StopRecording(f.t.Context(), rec.ID, end); err != nil {
			f.t.Fatal(err)
		}
	}
	return rec
}

func (f *fixture) segment(src sqlstore.Source, at time.Time, n int, ids ...string) {
	f.t.Helper()
	f.edgeSeq++
	seg := recording.Segment{SourceID: src.ID, Edge: "gw", Boot: "b", EdgeSeq: f.edgeSeq, Duration: 1, Start: at, Arrived: at}
	acked, _, err := f.recs.Record(f.t.Context(), seg, ids, make([]byte, n))
	if err != nil || len(acked) != len(ids) {
		f.t.Fatalf("record %s: acked %v, %v", at, acked, err)
	}
}

// objects counts the files in the object store once the spool is drained.
func (f *fixture) objects() int {
	f.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for f.recs.Pending() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	n := 0
	_ = filepath.WalkDir(f.objDir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

func (f *fixture) pass(e *retention.Enforcer) []retention.Deletion {
	f.t.Helper()
	dels, err := e.Pass(f.t.Context())
	if err != nil {
		f.t.Fatal(err)
	}
	return dels
}

func ids(dels []retention.Deletion) []string {
	var out []string
	for _, d := range dels {
		out = append(out, d.Recording)
	}
	return out
}

func (f *fixture) exists(id string) bool {
	_, err := f.store.GetRecording(f.t.Context(), id)
	return err == nil
}

func TestAgeExpiryPerSourceAndNodeDefault(t *testing.T) {
	f := newFixture(t)
	hourly := f.source("hourly", time.Hour)
	dflt := f.source("default", 0)
	forever := f.source("forever", sqlstore.RetainForever)
	h := f.recorded(hourly, t0, t0.Add(3*time.Second), 100)
	hNew := f.recorded(hourly, t0.Add(50*time.Minute), t0.Add(50*time.Minute+3*time.Second), 100)
	hPinned := f.recorded(hourly, t0.Add(time.Second), t0.Add(4*time.Second), 100)
	hPinned, err := f.store.SetRecordingPinned(t.Context(), hPinned.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	hActive := f.recorded(hourly, t0.Add(2*time.Second), time.Time{}, 100)
	d := f.recorded(dflt, t0, t0.Add(3*time.Second), 100)
	fv := f.recorded(forever, t0, t0.Add(3*time.Second), 100)
	before := f.objects()
	e := f.enforcer(retention.Config{Retain: 24 * time.Hour})

	if exp := retention.ExpiresAt(h, hourly, 24*time.Hour); !exp.Equal(t0.Add(time.Hour + 3*time.Second)) {
		t.Errorf("ExpiresAt(hourly) = %s", exp)
	}
	if exp := retention.ExpiresAt(d, dflt, 24*time.Hour); !exp.Equal(t0.Add(24*time.Hour + 3*time.Second)) {
		t.Errorf("ExpiresAt(default) = %s", exp)
	}
	for _, c := range []struct {
		rec sqlstore.Recording
		src sqlstore.Source
	}{{fv, forever}, {hPinned, hourly}, {hActive, hourly}} {
		if exp := retention.ExpiresAt(c.rec, c.src, 24*time.Hour); !exp.IsZero() {
			t.Errorf("ExpiresAt(%s) = %s, want never", c.src.Name, exp)
		}
	}

	f.clk.Set(t0.Add(59 * time.Minute))
	if dels := f.pass(e); len(dels) != 0 {
		t.Fatalf("before the hour: deleted %v", ids(dels))
	}
	f.clk.Set(t0.Add(time.Hour + 4*time.Second))
	dels := f.pass(e)
	if !slices.Equal(ids(dels), []string{h.ID}) || dels[0].Reason != retention.ReasonAge || dels[0].Objects != 3 || dels[0].Bytes != 300 {
		t.Fatalf("after the hour: %+v, want only %s (3 objects, 300 bytes)", dels, h.ID)
	}
	if got := f.objects(); got != before-3 {
		t.Errorf("objects in the store: %d, want %d", got, before-3)
	}
	evs := f.ev.Take()
	var expired []eventstest.Emitted
	for _, ev := range evs {
		if ev.Kind == broker.EventRecordingExpired {
			expired = append(expired, ev)
		}
	}
	if len(expired) != 1 || !strings.Contains(expired[0].Event.Detail, "older than retain 1h") || expired[0].Event.Source != "hourly" {
		t.Errorf("events: %+v", evs)
	}
	if v := testutil.ToFloat64(f.series.Deleted.WithLabelValues(retention.ReasonAge)); v != 1 {
		t.Errorf("deleted{age} = %v", v)
	}
	if v := testutil.ToFloat64(f.series.DeletedBytes.WithLabelValues(retention.ReasonAge)); v != 300 {
		t.Errorf("deleted bytes{age} = %v", v)
	}

	// A day on: the default source's goes too; the newer hourly one went
	// at its own hour; pinned, active and forever stay.
	f.clk.Set(t0.Add(25 * time.Hour))
	dels = f.pass(e)
	if got := ids(dels); len(got) != 2 || !slices.Contains(got, d.ID) || !slices.Contains(got, hNew.ID) {
		t.Errorf("a day on: deleted %v", got)
	}
	for _, r := range []sqlstore.Recording{hPinned, hActive, fv} {
		if !f.exists(r.ID) {
			t.Errorf("%s was deleted", r.ID)
		}
	}
	// With no node default, a source that sets none keeps its recordings.
	d2 := f.recorded(dflt, t0.Add(2*time.Hour), t0.Add(2*time.Hour+time.Second), 100)
	f.clk.Set(t0.Add(1000 * time.Hour))
	f.pass(f.enforcer(retention.Config{}))
	if !f.exists(d2.ID) {
		t.Error("deleted with no retention set anywhere")
	}
}

func TestSizeCapOldestFirstNeverActiveOrPinned(t *testing.T) {
	f := newFixture(t)
	src := f.source("cam", sqlstore.RetainForever)
	r1 := f.recorded(src, t0, t0.Add(3*time.Second), 1000)                              // oldest
	r2 := f.recorded(src, t0.Add(time.Minute), t0.Add(time.Minute+3*time.Second), 1000) // pinned, older than r3
	r3 := f.recorded(src, t0.Add(2*time.Minute), t0.Add(2*time.Minute+3*time.Second), 1000)
	r4 := f.recorded(src, t0.Add(3*time.Minute), t0.Add(3*time.Minute+3*time.Second), 1000)
	active := f.recorded(src, t0.Add(4*time.Minute), time.Time{}, 1000)
	if _, err := f.store.SetRecordingPinned(t.Context(), r2.ID, true); err != nil {
		t.Fatal(err)
	}
	if n := f.objects(); n != 15 {
		t.Fatalf("%d objects stored, want 15", n)
	}
	// 15000 bytes over a cap of 10000: r1 and r3 go (oldest unpinned),
	// leaving r2 (pinned), r4 and the active one.
	f.clk.Set(t0.Add(time.Hour))
	dels := f.pass(f.enforcer(retention.Config{MaxBytes: 10000}))
	if !slices.Equal(ids(dels), []string{r1.ID, r3.ID}) {
		t.Fatalf("deleted %v, want r1 then r3", ids(dels))
	}
	if !strings.Contains(dels[0].Detail, "store 14.6 KiB over --retain-size 9.8 KiB") || dels[0].Reason != retention.ReasonSize {
		t.Errorf("detail %q", dels[0].Detail)
	}
	for _, r := range []sqlstore.Recording{r2, r4, active} {
		if !f.exists(r.ID) {
			t.Errorf("%s was deleted", r.ID)
		}
	}
	if n := f.objects(); n != 9 {
		t.Errorf("%d objects left in the store, want 9", n)
	}
	if v := testutil.ToFloat64(f.series.Stored); v != 9000 {
		t.Errorf("stored bytes gauge = %v", v)
	}
	if v := testutil.ToFloat64(f.series.Pinned); v != 3000 {
		t.Errorf("pinned bytes gauge = %v", v)
	}
	if v := testutil.ToFloat64(f.series.DeletedBytes.WithLabelValues(retention.ReasonSize)); v != 6000 {
		t.Errorf("deleted bytes{size} = %v", v)
	}
}

func TestSharedObjectsGoWithTheLastRecording(t *testing.T) {
	f := newFixture(t)
	src := f.source("cam", 0)
	a, err := f.store.CreateRecording(t.Context(), sqlstore.Recording{SourceID: src.ID, StartAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.store.CreateRecording(t.Context(), sqlstore.Recording{SourceID: src.ID, StartAt: t0.Add(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	f.segment(src, t0, 500, a.ID)                          // a's alone
	f.segment(src, t0.Add(time.Second), 500, a.ID, b.ID)   // shared
	f.segment(src, t0.Add(2*time.Second), 500, a.ID, b.ID) // shared
	f.segment(src, t0.Add(3*time.Second), 500, b.ID)       // b's alone
	if _, err := f.store.StopRecording(t.Context(), a.ID, t0.Add(3*time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.StopRecording(t.Context(), b.ID, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	e := f.enforcer(retention.Config{Retain: time.Hour})
	f.clk.Set(t0.Add(90 * time.Minute))
	dels := f.pass(e)
	if !slices.Equal(ids(dels), []string{a.ID}) || dels[0].Objects != 1 {
		t.Fatalf("deleted %+v, want a with its one object of its own", dels)
	}
	if n := f.objects(); n != 3 {
		t.Errorf("%d objects left, want 3: the shared ones stay while b links them", n)
	}
	f.clk.Set(t0.Add(2*time.Hour + time.Second))
	if dels = f.pass(e); !slices.Equal(ids(dels), []string{b.ID}) || dels[0].Objects != 3 {
		t.Fatalf("deleted %+v, want b with 3 objects", dels)
	}
	if n := f.objects(); n != 0 {
		t.Errorf("%d objects left, want none", n)
	}
}

func TestSizeCapPassesOverWhatFreesNothing(t *testing.T) {
	f := newFixture(t)
	src := f.source("cam", 0)
	// An old manual recording inside an active chunk frees nothing: the
	// cap cannot be met by deleting it, so it stays.
	chunk, err := f.store.CreateRecording(t.Context(), sqlstore.Recording{SourceID: src.ID, StartAt: t0, Continuous: true})
	if err != nil {
		t.Fatal(err)
	}
	manual, err := f.store.CreateRecording(t.Context(), sqlstore.Recording{SourceID: src.ID, StartAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		f.segment(src, t0.Add(time.Duration(i)*time.Second), 1000, chunk.ID, manual.ID)
	}
	if _, err := f.store.StopRecording(t.Context(), manual.ID, t0.Add(4*time.Second)); err != nil {
		t.Fatal(err)
	}
	if dels := f.pass(f.enforcer(retention.Config{MaxBytes: 1000})); len(dels) != 0 {
		t.Errorf("deleted %v for nothing", ids(dels))
	}
	if !f.exists(manual.ID) {
		t.Error("the manual recording was deleted")
	}
}

func TestPinsOverTheCapWarnOncePerChange(t *testing.T) {
	f := newFixture(t)
	src := f.source("cam", 0)
	p1 := f.recorded(src, t0, t0.Add(3*time.Second), 1000)
	p2 := f.recorded(src, t0.Add(time.Minute), t0.Add(time.Minute+3*time.Second), 1000)
	for _, r := range []sqlstore.Recording{p1} {
		if _, err := f.store.SetRecordingPinned(t.Context(), r.ID, true); err != nil {
			t.Fatal(err)
		}
	}
	e := f.enforcer(retention.Config{MaxBytes: 2000})
	warnings := func() []string {
		var out []string
		for _, ev := range f.ev.Take() {
			if ev.Kind == broker.EventRetentionWarning {
				out = append(out, ev.Event.Detail)
			}
		}
		return out
	}
	// 6000 bytes, cap 2000: p2 goes; p1 alone (3000) is still over.
	if dels := f.pass(e); !slices.Equal(ids(dels), []string{p2.ID}) {
		t.Fatalf("deleted %v, want p2", ids(dels))
	}
	w := warnings()
	if len(w) != 1 || !strings.Contains(w[0], "pinned and active recordings alone hold 2.9 KiB, over --retain-size 2 KiB (1 pinned)") {
		t.Fatalf("warnings %q", w)
	}
	if v := testutil.ToFloat64(f.series.OverCap); v != 1 {
		t.Errorf("over-cap gauge = %v", v)
	}
	f.pass(e)
	f.pass(e)
	if w := warnings(); len(w) != 0 {
		t.Errorf("warned again with nothing changed: %q", w)
	}
	if !f.exists(p1.ID) {
		t.Fatal("the pinned recording was deleted")
	}
	// Another pin is a change: said once more.
	p3 := f.recorded(src, t0.Add(2*time.Minute), t0.Add(2*time.Minute+time.Second), 100)
	if _, err := f.store.SetRecordingPinned(t.Context(), p3.ID, true); err != nil {
		t.Fatal(err)
	}
	f.pass(e)
	f.pass(e)
	if w := warnings(); len(w) != 1 || !strings.Contains(w[0], "(2 pinned)") {
		t.Errorf("after another pin: %q", w)
	}
	// Unpinned, p1 goes, and the warning ends.
	if _, err := f.store.SetRecordingPinned(t.Context(), p1.ID, false); err != nil {
		t.Fatal(err)
	}
	if dels := f.pass(e); !slices.Equal(ids(dels), []string{p1.ID}) {
		t.Errorf("after unpin: deleted %v", ids(dels))
	}
	if v := testutil.ToFloat64(f.series.OverCap); v != 0 {
		t.Errorf("over-cap gauge = %v after the pins fit", v)
	}
}
