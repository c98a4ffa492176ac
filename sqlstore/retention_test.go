package sqlstore

import (
	"errors"
	"slices"
	"testing"
	"time"
)

// sized is segment seq of src with n bytes.
func sized(src string, seq uint64, n int64) RecordedSegment {
	s := seg(src, seq)
	s.Bytes = n
	return s
}

func TestRetentionQueries(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	src, err := s.CreateSource(ctx, Source{Name: "cam"})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	mk := func(start, end time.Time) Recording {
		t.Helper()
		r, err := s.CreateRecording(ctx, Recording{SourceID: src.ID, StartAt: start, EndAt: end})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	old := mk(t0, t0.Add(time.Hour))                       // segments 1, 2 (2 shared with mid)
	mid := mk(t0.Add(30*time.Minute), t0.Add(2*time.Hour)) // segments 2, 3
	pinned := mk(t0.Add(2*time.Hour), t0.Add(3*time.Hour)) // segment 4
	active := mk(t0.Add(3*time.Hour), time.Time{})         // segment 5
	add := func(seq uint64, n int64, recs ...string) {
		t.Helper()
		if err := s.AddSegment(ctx, sized(src.ID, seq, n), recs); err != nil {
			t.Fatal(err)
		}
	}
	add(1, 100, old.ID)
	add(2, 200, old.ID, mid.ID)
	add(3, 400, mid.ID)
	add(4, 800, pinned.ID)
	add(5, 1600, active.ID)
	if _, err := s.SetRecordingPinned(ctx, pinned.ID, true); err != nil {
		t.Fatal(err)
	}

	tot, err := s.StorageTotals(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := (StorageTotals{Objects: 5, Bytes: 3100, PinnedBytes: 800, ProtectedBytes: 2400, Pinned: 1}); tot != want {
		t.Errorf("totals = %+v, want %+v", tot, want)
	}

	cands, err := s.RetentionCandidates(ctx, CandidateFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range cands {
		ids = append(ids, c.ID)
	}
	if !slices.Equal(ids, []string{old.ID, mid.ID}) {
		t.Fatalf("candidates = %v, want old then mid (never the pinned or the active one)", ids)
	}
	// The shared segment frees nothing while the other recording links it.
	if cands[0].FreeBytes != 100 || cands[0].Objects != 1 || cands[1].FreeBytes != 400 {
		t.Errorf("free bytes = %d (%d objects), %d; want 100 (1), 400", cands[0].FreeBytes, cands[0].Objects, cands[1].FreeBytes)
	}
	if c, _ := s.RetentionCandidates(ctx, CandidateFilter{EndedBefore: t0.Add(90 * time.Minute)}); len(c) != 1 || c[0].ID != old.ID {
		t.Errorf("ended before 11:30: %v", c)
	}
	if c, _ := s.RetentionCandidates(ctx, CandidateFilter{SourceID: "other"}); len(c) != 0 {
		t.Errorf("other source: %v", c)
	}

	// Expiring the older one frees its own segment only; the shared one
	// goes with the last recording that links it.
	keys, freed, err := s.ExpireRecording(ctx, old.ID)
	if err != nil || freed != 100 || !slices.Equal(keys, []string{seg(src.ID, 1).ObjectKey}) {
		t.Fatalf("expire old: %v, %d, %v", keys, freed, err)
	}
	keys, freed, err = s.ExpireRecording(ctx, mid.ID)
	if err != nil || freed != 600 || len(keys) != 2 {
		t.Fatalf("expire mid: %v, %d, %v", keys, freed, err)
	}
	for _, id := range []string{pinned.ID, active.ID} {
		if _, _, err := s.ExpireRecording(ctx, id); !errors.Is(err, ErrConflict) {
			t.Errorf("expire %s: %v, want ErrConflict", id, err)
		}
	}
	if _, _, err := s.ExpireRecording(ctx, old.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("expire again: %v", err)
	}
	if tot, _ := s.StorageTotals(ctx); tot.Bytes != 2400 || tot.Objects != 2 {
		t.Errorf("after expiry: %+v", tot)
	}
}

func TestRecordModeSources(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	for _, n := range []string{"b", "a", "c"} {
		if _, err := s.CreateSource(ctx, Source{Name: n, RecordMode: map[bool]string{true: RecordAlways, false: RecordOff}[n != "c"]}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.RecordModeSources(ctx, RecordAlways)
	if err != nil || len(got) != 2 || got[0].Name != "a" || got[1].Name != "b" {
		t.Errorf("always: %v, %v", got, err)
	}
}
