package sqlstore

import (
	"fmt"
	"testing"
)

// TestSegmentRenditions: a recorded segment keeps its rendition; the
// renditions of one source share its seq space, so two renditions' segments
// of the same start take neighbouring seqs and both stay in the recording.
func TestSegmentRenditions(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	src := mustSource(t, s, "cam")
	rec := mustRecording(t, s, Recording{SourceID: src.ID, StartAt: t0})
	for i, r := range []string{"0", "1", ""} {
		g := seg(src.ID, 10+uint64(i))
		g.Rendition = r
		g.ObjectKey = fmt.Sprintf("%s/%s/e-b-1.ts", src.ID, r)
		if err := s.AddSegment(ctx, g, []string{rec.ID}); err != nil {
			t.Fatalf("rendition %q: %v", r, err)
		}
	}
	// Same seq, another rendition: the seq is the source's, not the rendition's.
	clash := seg(src.ID, 10)
	clash.Rendition, clash.ObjectKey = "1", src.ID+"/1/e-b-2.ts"
	wantErr(t, s.AddSegment(ctx, clash, []string{rec.ID}), ErrConflict, "already stored")

	got, err := s.RecordingSegments(ctx, rec.ID)
	if err != nil || len(got) != 3 {
		t.Fatalf("RecordingSegments = %+v, %v", got, err)
	}
	for i, want := range []string{"0", "1", ""} {
		if got[i].Rendition != want || got[i].Seq != 10+uint64(i) {
			t.Errorf("segment %d: rendition %q seq %d, want %q %d", i, got[i].Rendition, got[i].Seq, want, 10+i)
		}
	}
}
