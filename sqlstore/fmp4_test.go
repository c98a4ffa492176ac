package sqlstore

import (
	"slices"
	"testing"
)

// TestInitKeys: a recorded fMP4 segment keeps the key of the init object
// it follows; deleting a recording releases an init object only with the
// last segment that follows it, never while another recording's segment
// still does.
func TestInitKeys(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	src := mustSource(t, s, "cam")
	r1 := mustRecording(t, s, Recording{SourceID: src.ID, StartAt: t0})
	r2 := mustRecording(t, s, Recording{SourceID: src.ID, StartAt: t0})
	initA, initB := src.ID+"/init-a.mp4", src.ID+"/init-b.mp4"
	add := func(seq uint64, init string, recs ...string) RecordedSegment {
		t.Helper()
		sg := seg(src.ID, seq)
		sg.InitKey = init
		if err := s.AddSegment(ctx, sg, recs); err != nil {
			t.Fatal(err)
		}
		return sg
	}
	add(0, initA, r1.ID)
	add(1, initA, r1.ID, r2.ID) // shared: init-a stays for r2
	add(2, initB, r1.ID)        // only r1 follows init-b
	add(3, "", r2.ID)           // MPEG-TS
	got, err := s.RecordingSegments(ctx, r1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].InitKey != initA || got[1].InitKey != initA || got[2].InitKey != initB {
		t.Fatalf("r1 segments = %+v", got)
	}
	if used, err := s.InitKeyInUse(ctx, initB); err != nil || !used {
		t.Fatalf("init-b in use = %v, %v", used, err)
	}

	keys, err := s.DeleteRecording(ctx, r1.ID)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	want := []string{seg(src.ID, 0).ObjectKey, seg(src.ID, 2).ObjectKey, initB}
	slices.Sort(want)
	if !slices.Equal(keys, want) {
		t.Errorf("orphans of r1 = %v, want %v (init-a is still followed by r2's segment)", keys, want)
	}
	if used, _ := s.InitKeyInUse(ctx, initB); used {
		t.Error("init-b still in use after its last segment went")
	}
	keys, err = s.DeleteRecording(ctx, r2.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(keys, initA) || len(keys) != 3 {
		t.Errorf("orphans of r2 = %v, want its two segments and init-a", keys)
	}

	bad := seg(src.ID, 9)
	bad.InitKey = bad.ObjectKey
	if err := s.AddSegment(ctx, bad, []string{mustRecording(t, s, Recording{SourceID: src.ID}).ID}); !isInvalid(err) {
		t.Errorf("a segment that is its own init: %v, want ErrInvalid", err)
	}
}
