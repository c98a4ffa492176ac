package sqlstore

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

var t0 = time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)

// seg returns segment seq of src, 2 s long, starting 2*seq s after t0.
func seg(src string, seq uint64) RecordedSegment {
	return RecordedSegment{
		SourceID: src, Seq: seq, ObjectKey: fmt.Sprintf("%s/%08d.ts", src, seq),
		Duration: 2, Bytes: 1000 + int64(seq), StartAt: t0.Add(time.Duration(seq) * 2 * time.Second),
		Discontinuity: seq == 0,
	}
}

func mustSource(t *testing.T, s *Store, name string) Source {
	t.Helper()
	src, err := s.CreateSource(t.Context(), Source{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func mustRecording(t *testing.T, s *Store, rec Recording) Recording {
	t.Helper()
	rec, err := s.CreateRecording(t.Context(), rec)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func recIDs(recs []Recording) []string {
	out := []string{}
	for _, r := range recs {
		out = append(out, r.ID)
	}
	return out
}

func TestCreateAndGetRecording(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	src := mustSource(t, s, "cam")
	rec := mustRecording(t, s, Recording{ID: "ignored", SourceID: src.ID, Alias: "door", Description: "who rang", StartAt: t0, Active: false})
	id, err := uuid.Parse(rec.ID)
	if err != nil || id.Version() != 7 {
		t.Errorf("ID %q is not a UUIDv7 (%v)", rec.ID, err)
	}
	if !rec.Active || !rec.EndAt.IsZero() || !rec.StartAt.Equal(t0) || rec.Alias != "door" || rec.Description != "who rang" {
		t.Errorf("CreateRecording = %+v", rec)
	}
	if got, err := s.GetRecording(ctx, rec.ID); err != nil || got != rec {
		t.Errorf("GetRecording = %+v, %v; want %+v", got, err, rec)
	}

	// StartAt defaults to now; a non-zero EndAt makes a finished snippet.
	now := mustRecording(t, s, Recording{SourceID: src.ID})
	if time.Since(now.StartAt) > time.Minute {
		t.Errorf("default StartAt = %v", now.StartAt)
	}
	snippet := mustRecording(t, s, Recording{SourceID: src.ID, StartAt: t0, EndAt: t0.Add(time.Minute)})
	if snippet.Active {
		t.Errorf("snippet with EndAt is active: %+v", snippet)
	}

	_, err = s.GetRecording(ctx, "nope")
	wantErr(t, err, ErrNotFound, `recording "nope": not found`)
	_, err = s.CreateRecording(ctx, Recording{SourceID: "nope"})
	wantErr(t, err, ErrNotFound, `source "nope"`)
	_, err = s.CreateRecording(ctx, Recording{})
	wantErr(t, err, ErrInvalid, "source")
	_, err = s.CreateRecording(ctx, Recording{SourceID: src.ID, StartAt: t0, EndAt: t0.Add(-time.Second)})
	wantErr(t, err, ErrInvalid, "before start")
}

func TestListAndActiveRecordings(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	a, b := mustSource(t, s, "a"), mustSource(t, s, "b")
	a1 := mustRecording(t, s, Recording{SourceID: a.ID})
	b1 := mustRecording(t, s, Recording{SourceID: b.ID})
	a2 := mustRecording(t, s, Recording{SourceID: a.ID})
	a3 := mustRecording(t, s, Recording{SourceID: a.ID})
	if _, err := s.StopRecording(ctx, a2.ID, time.Time{}); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		f    RecordingFilter
		want []string
	}{
		{RecordingFilter{}, []string{a3.ID, a2.ID, b1.ID, a1.ID}},
		{RecordingFilter{SourceID: a.ID}, []string{a3.ID, a2.ID, a1.ID}},
		{RecordingFilter{ActiveOnly: true}, []string{a3.ID, b1.ID, a1.ID}},
		{RecordingFilter{SourceID: a.ID, ActiveOnly: true}, []string{a3.ID, a1.ID}},
		{RecordingFilter{SourceID: "nope"}, []string{}},
	} {
		got, err := s.ListRecordings(ctx, c.f)
		if err != nil || !slices.Equal(recIDs(got), c.want) {
			t.Errorf("ListRecordings(%+v) = %v, %v; want %v", c.f, recIDs(got), err, c.want)
		}
	}
	active, err := s.ActiveRecordings(ctx, a.ID)
	if err != nil || !slices.Equal(recIDs(active), []string{a3.ID, a1.ID}) {
		t.Errorf("ActiveRecordings(a) = %v, %v", recIDs(active), err)
	}
	active, err = s.ActiveRecordings(ctx, "nope")
	if err != nil || active == nil || len(active) != 0 {
		t.Errorf("ActiveRecordings(nope) = %v, %v; want empty", active, err)
	}
}

func TestStopRecording(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	src := mustSource(t, s, "cam")
	rec := mustRecording(t, s, Recording{SourceID: src.ID, StartAt: t0})
	end := t0.Add(90 * time.Second)
	stopped, err := s.StopRecording(ctx, rec.ID, end)
	if err != nil {
		t.Fatal(err)
	}
	if stopped.Active || !stopped.EndAt.Equal(end) || stopped.UpdatedAt.Before(rec.UpdatedAt) || !stopped.StartAt.Equal(t0) {
		t.Errorf("StopRecording = %+v", stopped)
	}
	if got, _ := s.GetRecording(ctx, rec.ID); got != stopped {
		t.Errorf("stored %+v, returned %+v", got, stopped)
	}
	_, err = s.StopRecording(ctx, rec.ID, end)
	wantErr(t, err, ErrConflict, rec.ID, "already stopped")
	_, err = s.StopRecording(ctx, "nope", end)
	wantErr(t, err, ErrNotFound, `recording "nope"`)

	// A recording that starts in the future and is stopped before then
	// ends where it starts.
	future := time.Now().Add(time.Hour).UTC()
	later := mustRecording(t, s, Recording{SourceID: src.ID, StartAt: future})
	early, err := s.StopRecording(ctx, later.ID, time.Time{})
	if err != nil || !early.EndAt.Equal(future) {
		t.Errorf("early stop = %+v, %v; want EndAt = StartAt", early, err)
	}
}

func TestAddSegmentAndRecordingSegments(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	src := mustSource(t, s, "cam")
	rec := mustRecording(t, s, Recording{SourceID: src.ID, StartAt: t0})

	got, err := s.RecordingSegments(ctx, rec.ID)
	if err != nil || got == nil || len(got) != 0 {
		t.Errorf("no segments yet: %v, %v", got, err)
	}
	n, dur, size, first, last, err := s.RecordingStats(ctx, rec.ID)
	if err != nil || n != 0 || dur != 0 || size != 0 || !first.IsZero() || !last.IsZero() {
		t.Errorf("empty stats = %d %v %d %v %v %v", n, dur, size, first, last, err)
	}

	// Added out of order; the same segment twice is fine.
	for _, seq := range []uint64{2, 0, 1, 2} {
		if err := s.AddSegment(ctx, seg(src.ID, seq), []string{rec.ID, rec.ID}); err != nil {
			t.Fatalf("AddSegment %d: %v", seq, err)
		}
	}
	got, err = s.RecordingSegments(ctx, rec.ID)
	if err != nil || len(got) != 3 {
		t.Fatalf("RecordingSegments = %+v, %v", got, err)
	}
	for i, g := range got {
		want := seg(src.ID, uint64(i))
		if g.CreatedAt.IsZero() || g.CreatedAt.Location() != time.UTC {
			t.Errorf("segment %d CreatedAt = %v", i, g.CreatedAt)
		}
		want.CreatedAt = g.CreatedAt
		if g != want {
			t.Errorf("segment %d = %+v, want %+v", i, g, want)
		}
	}
	n, dur, size, first, last, err = s.RecordingStats(ctx, rec.ID)
	if err != nil || n != 3 || dur != 6 || size != 3003 || !first.Equal(t0) || !last.Equal(t0.Add(4*time.Second)) {
		t.Errorf("stats = %d %v %d %v %v %v", n, dur, size, first, last, err)
	}

	// Largest representable sequence number.
	big := seg(src.ID, math.MaxInt64)
	big.ObjectKey, big.Bytes = "cam/big.ts", 1
	if err := s.AddSegment(ctx, big, []string{rec.ID}); err != nil {
		t.Fatalf("AddSegment MaxInt64: %v", err)
	}
	if got, _ := s.RecordingSegments(ctx, rec.ID); got[len(got)-1].Seq != math.MaxInt64 {
		t.Errorf("last seq = %d", got[len(got)-1].Seq)
	}

	_, err = s.RecordingSegments(ctx, "nope")
	wantErr(t, err, ErrNotFound, `recording "nope"`)
	_, _, _, _, _, err = s.RecordingStats(ctx, "nope")
	wantErr(t, err, ErrNotFound, `recording "nope"`)
}

func TestAddSegmentErrors(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	a, b := mustSource(t, s, "a"), mustSource(t, s, "b")
	ra := mustRecording(t, s, Recording{SourceID: a.ID})
	rb := mustRecording(t, s, Recording{SourceID: b.ID})
	if err := s.AddSegment(ctx, seg(a.ID, 1), []string{ra.ID}); err != nil {
		t.Fatal(err)
	}

	otherKey := seg(a.ID, 1)
	otherKey.ObjectKey = "elsewhere.ts"
	err := s.AddSegment(ctx, otherKey, []string{ra.ID})
	wantErr(t, err, ErrConflict, "already stored", seg(a.ID, 1).ObjectKey)

	keyTaken := seg(a.ID, 2)
	keyTaken.ObjectKey = seg(a.ID, 1).ObjectKey
	err = s.AddSegment(ctx, keyTaken, []string{ra.ID})
	wantErr(t, err, ErrConflict, "object key")

	err = s.AddSegment(ctx, seg(a.ID, 3), []string{rb.ID})
	wantErr(t, err, ErrConflict, rb.ID, b.ID)
	err = s.AddSegment(ctx, seg(a.ID, 3), []string{ra.ID, "nope"})
	wantErr(t, err, ErrNotFound, `recording "nope"`)
	err = s.AddSegment(ctx, seg("nope", 3), []string{ra.ID})
	wantErr(t, err, ErrNotFound, `source "nope"`)

	// Failed calls left nothing behind: the transaction is all or nothing.
	if got, _ := s.RecordingSegments(ctx, ra.ID); len(got) != 1 {
		t.Errorf("recording a has %d segments, want 1", len(got))
	}

	for name, bad := range map[string]func(*RecordedSegment){
		"source":   func(g *RecordedSegment) { g.SourceID = "" },
		"key":      func(g *RecordedSegment) { g.ObjectKey = "" },
		"seq":      func(g *RecordedSegment) { g.Seq = math.MaxInt64 + 1 },
		"duration": func(g *RecordedSegment) { g.Duration = math.NaN() },
		"negative": func(g *RecordedSegment) { g.Duration = -1 },
		"bytes":    func(g *RecordedSegment) { g.Bytes = -1 },
		"start":    func(g *RecordedSegment) { g.StartAt = time.Time{} },
		"long":     func(g *RecordedSegment) { g.Rendition = strings.Repeat("r", 33) },
		"path":     func(g *RecordedSegment) { g.Rendition = "a/b" },
	} {
		g := seg(a.ID, 9)
		bad(&g)
		if err := s.AddSegment(ctx, g, []string{ra.ID}); !isInvalid(err) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	err = s.AddSegment(ctx, seg(a.ID, 9), nil)
	wantErr(t, err, ErrInvalid, "no recording")
}

func isInvalid(err error) bool { return errors.Is(err, ErrInvalid) }

// TestOverlappingRecordingsShareSegments records one stream with three
// overlapping recordings and deletes them one by one: each deletion returns
// only the keys no remaining recording uses.
func TestOverlappingRecordingsShareSegments(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	src := mustSource(t, s, "cam")
	// r1 covers 0-5, r2 covers 3-8, r3 covers 4-6.
	r1 := mustRecording(t, s, Recording{SourceID: src.ID, StartAt: t0})
	r2 := mustRecording(t, s, Recording{SourceID: src.ID, StartAt: t0.Add(6 * time.Second)})
	r3 := mustRecording(t, s, Recording{SourceID: src.ID, StartAt: t0.Add(8 * time.Second)})
	for seq := uint64(0); seq <= 8; seq++ {
		var ids []string
		if seq <= 5 {
			ids = append(ids, r1.ID)
		}
		if seq >= 3 {
			ids = append(ids, r2.ID)
		}
		if seq >= 4 && seq <= 6 {
			ids = append(ids, r3.ID)
		}
		if err := s.AddSegment(ctx, seg(src.ID, seq), ids); err != nil {
			t.Fatal(err)
		}
	}
	var objects int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM segments`).Scan(&objects); err != nil || objects != 9 {
		t.Fatalf("segments rows = %d, %v; want 9 (shared, not copied)", objects, err)
	}
	for _, c := range []struct {
		rec  Recording
		seqs []uint64
	}{{r1, []uint64{0, 1, 2, 3, 4, 5}}, {r2, []uint64{3, 4, 5, 6, 7, 8}}, {r3, []uint64{4, 5, 6}}} {
		got, err := s.RecordingSegments(ctx, c.rec.ID)
		if err != nil {
			t.Fatal(err)
		}
		var seqs []uint64
		for _, g := range got {
			seqs = append(seqs, g.Seq)
		}
		if !slices.Equal(seqs, c.seqs) {
			t.Errorf("recording %s segments %v, want %v", c.rec.ID, seqs, c.seqs)
		}
	}

	keys := func(seqs ...uint64) []string {
		out := []string{}
		for _, q := range seqs {
			out = append(out, seg(src.ID, q).ObjectKey)
		}
		return out
	}
	// r3 lies inside the others: nothing is orphaned.
	orphans, err := s.DeleteRecording(ctx, r3.ID)
	if err != nil || !slices.Equal(orphans, keys()) {
		t.Errorf("delete r3: %v, %v; want no keys", orphans, err)
	}
	// r1 shares 3-5 with r2.
	orphans, err = s.DeleteRecording(ctx, r1.ID)
	if err != nil || !slices.Equal(orphans, keys(0, 1, 2)) {
		t.Errorf("delete r1: %v, %v; want %v", orphans, err, keys(0, 1, 2))
	}
	if got, _ := s.RecordingSegments(ctx, r2.ID); len(got) != 6 {
		t.Errorf("r2 lost segments: has %d, want 6", len(got))
	}
	orphans, err = s.DeleteRecording(ctx, r2.ID)
	if err != nil || !slices.Equal(orphans, keys(3, 4, 5, 6, 7, 8)) {
		t.Errorf("delete r2: %v, %v", orphans, err)
	}
	for _, table := range []string{"segments", "recording_segments", "recordings"} {
		var n int
		if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM `+table).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s has %d rows left (%v)", table, n, err)
		}
	}

	_, err = s.GetRecording(ctx, r1.ID)
	wantErr(t, err, ErrNotFound)
	_, err = s.DeleteRecording(ctx, r1.ID)
	wantErr(t, err, ErrNotFound, r1.ID)

	// With its recordings gone the source can be deleted.
	if err := s.DeleteSource(ctx, src.ID); err != nil {
		t.Errorf("DeleteSource: %v", err)
	}
}

// TestSegmentReAddedAfterDelete covers a segment orphaned and deleted, then
// added again for a new recording (the edge's ring buffer re-sending it).
func TestSegmentReAddedAfterDelete(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	src := mustSource(t, s, "cam")
	r1 := mustRecording(t, s, Recording{SourceID: src.ID})
	if err := s.AddSegment(ctx, seg(src.ID, 5), []string{r1.ID}); err != nil {
		t.Fatal(err)
	}
	if keys, err := s.DeleteRecording(ctx, r1.ID); err != nil || len(keys) != 1 {
		t.Fatalf("DeleteRecording = %v, %v", keys, err)
	}
	r2 := mustRecording(t, s, Recording{SourceID: src.ID})
	if err := s.AddSegment(ctx, seg(src.ID, 5), []string{r2.ID}); err != nil {
		t.Fatalf("re-add: %v", err)
	}
	if got, _ := s.RecordingSegments(ctx, r2.ID); len(got) != 1 {
		t.Errorf("r2 has %d segments, want 1", len(got))
	}
}
