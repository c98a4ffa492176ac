package recording_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/controld/internal/recording"
	"github.com/lmx-video/lmx/hls"
	"github.com/lmx-video/lmx/objstore"
	"github.com/lmx-video/lmx/sqlstore"
)

// TestRecordFMP4: fMP4 segments are stored as .m4s objects beside one
// init object per source and content, however many segments and
// recordings follow it; the playlist names it in EXT-X-MAP and a second
// one after a discontinuity; InitSegment serves it; an init object goes
// with the last recording whose segments follow it, and not before.
func TestRecordFMP4(t *testing.T) {
	ctx := t.Context()
	st, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "lmx.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	objDir := filepath.Join(t.TempDir(), "objects")
	dir, err := objstore.NewDir(objDir)
	if err != nil {
		t.Fatal(err)
	}
	counter := func() prometheus.Counter { return prometheus.NewCounter(prometheus.CounterOpts{Name: "c"}) }
	recs, err := recording.New(recording.Config{SpoolDir: filepath.Join(t.TempDir(), "spool"), CacheSize: 4 << 20}, st, dir,
		recording.Series{
			Gauges:   recording.Gauges{Spooled: prometheus.NewGauge(prometheus.GaugeOpts{Name: "g"}), Persist: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "h"})},
			Recorded: counter(), CacheHits: counter(), CacheMisses: counter(), CacheRejected: counter(),
		}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = recs.Run(runCtx) }()
	defer func() { cancel(); <-done }()

	src, err := st.CreateSource(ctx, sqlstore.Source{Name: "cam"})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	r1, err := st.CreateRecording(ctx, sqlstore.Recording{SourceID: src.ID, StartAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := st.CreateRecording(ctx, sqlstore.Recording{SourceID: src.ID, StartAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	initA := &recording.Init{ID: broker.InitID([]byte("init A")), Data: []byte("init A")}
	initB := &recording.Init{ID: broker.InitID([]byte("init B")), Data: []byte("init B")}
	record := func(seq uint64, iseg *recording.Init, boot string, ids ...string) {
		t.Helper()
		seg := recording.Segment{SourceID: src.ID, Edge: "gw", Boot: boot, EdgeSeq: seq, Duration: 2,
			Start: t0.Add(time.Duration(seq) * 2 * time.Second), Arrived: t0, Init: iseg}
		if acked, _, err := recs.Record(ctx, seg, ids, []byte("moof "+string(rune('0'+seq)))); err != nil || len(acked) != len(ids) {
			t.Fatalf("Record %d: %v %v", seq, acked, err)
		}
	}
	record(1, initA, "b1", r1.ID, r2.ID)
	record(2, initA, "b1", r1.ID)
	record(3, initB, "b2", r1.ID) // ffmpeg restarted with other parameters

	pl, err := recs.Playlist(ctx, r1.ID)
	if err != nil {
		t.Fatal(err)
	}
	p, err := hls.ParseMediaPlaylist(bytes.NewReader(pl.Body), 0)
	if err != nil {
		t.Fatal(err)
	}
	wantA, wantB := "init-"+initA.ID+".mp4", "init-"+initB.ID+".mp4"
	if p.Version != 6 || len(p.Segments) != 3 || p.Segments[0].Map != wantA || p.Segments[1].Map != wantA || p.Segments[2].Map != wantB ||
		!p.Segments[2].Discontinuity || !strings.HasSuffix(p.Segments[0].URI, ".m4s") {
		t.Fatalf("playlist:\n%s", pl.Body)
	}
	b, err := recs.InitSegment(ctx, r1.ID, initB.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(b); string(got) != "init B" || !b.FMP4 {
		t.Errorf("init B = %q", got)
	}
	b.Close()
	if _, err := recs.InitSegment(ctx, r2.ID, initB.ID); err == nil {
		t.Error("r2 serves an init segment none of its segments follows")
	}
	seg, err := recs.Segment(ctx, r1.ID, segSeq(t, p.Segments[0].URI))
	if err != nil || !seg.FMP4 {
		t.Fatalf("segment: %v %+v", err, seg)
	}
	seg.Close()

	// Objects reach the store: one init object each, .m4s segments.
	objects := func() []string {
		t.Helper()
		var names []string
		_ = filepath.WalkDir(objDir, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && !strings.HasPrefix(d.Name(), ".") { // not a write in progress
				names = append(names, filepath.Base(p))
			}
			return nil
		})
		return names
	}
	waitObjects := func(want int) []string {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			names := objects()
			if len(names) == want || time.Now().After(deadline) {
				return names
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if names := waitObjects(5); len(names) != 5 || !contains(names, wantA) || !contains(names, wantB) {
		t.Fatalf("stored objects %v, want 3 segments and 2 init objects", names)
	}

	// r1 goes: its own segments and init B with them; init A stays for r2.
	keys, err := st.DeleteRecording(ctx, r1.ID)
	if err != nil {
		t.Fatal(err)
	}
	recs.RemoveObjects(ctx, keys)
	if names := objects(); len(names) != 2 || !contains(names, wantA) || contains(names, wantB) {
		t.Fatalf("after deleting r1: %v, want r2's segment and init A", names)
	}
	// A stale list naming init A (as if made before r2's segment was
	// linked) deletes nothing r2 needs.
	recs.RemoveObjects(ctx, []string{recording.InitKey(src.ID, initA.ID)})
	if names := objects(); !contains(names, wantA) {
		t.Fatal("init A deleted while r2's segment follows it")
	}
	keys, err = st.DeleteRecording(ctx, r2.ID)
	if err != nil {
		t.Fatal(err)
	}
	recs.RemoveObjects(ctx, keys)
	if names := objects(); len(names) != 0 {
		t.Fatalf("after deleting r2: %v left", names)
	}
	// A new recording of the same init stores it again.
	r3, err := st.CreateRecording(ctx, sqlstore.Recording{SourceID: src.ID, StartAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	record(4, initA, "b1", r3.ID)
	if names := waitObjects(2); !contains(names, wantA) {
		t.Fatalf("init A not stored again for r3: %v", names)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func segSeq(t *testing.T, uri string) uint64 {
	t.Helper()
	var n uint64
	for _, c := range strings.TrimSuffix(uri, ".m4s") {
		n = n*10 + uint64(c-'0')
	}
	return n
}
