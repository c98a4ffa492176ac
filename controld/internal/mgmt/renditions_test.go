package mgmt_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/sqlstore"
)

// TestRecordingRenditions: a recording of an adaptive-bitrate source
// names its renditions, counts the media once (the first rendition's),
// and lists each rendition's gaps, named.
func TestRecordingRenditions(t *testing.T) {
	n := start(t)
	cam := n.create(t, `{"name":"cam"}`)
	var r api.RecordingReply
	n.ok(t, http.MethodPost, api.Expand(api.PathSourceRecordings, "cam"), "", &r)
	rec := r.Recording
	base := time.Now().Add(-30 * time.Minute).UTC().Truncate(time.Millisecond)
	// Rendition 1 loses its second segment; rendition 10 has all three.
	for _, s := range []struct {
		rendition string
		rseq      int
	}{{"1", 1}, {"10", 1}, {"10", 2}, {"1", 3}, {"10", 3}} {
		seg := sqlstore.RecordedSegment{
			SourceID: cam.ID, Seq: uint64(base.Add(time.Duration(s.rseq-1)*2*time.Second).UnixMilli()) + uint64(len(s.rendition)),
			ObjectKey: fmt.Sprintf("%s/%s/edge-1-b-%d.ts", cam.ID, s.rendition, s.rseq), Rendition: s.rendition,
			Duration: 2, Bytes: 100, StartAt: base.Add(time.Duration(s.rseq-1) * 2 * time.Second),
		}
		if err := n.store.AddSegment(t.Context(), seg, []string{rec.ID}); err != nil {
			t.Fatal(err)
		}
	}
	n.ok(t, http.MethodGet, api.Expand(api.PathRecording, rec.ID), "", &r)
	got := r.Recording
	if !slices.Equal(got.Renditions, []string{"1", "10"}) {
		t.Errorf("renditions %v, want [1 10]", got.Renditions)
	}
	if got.Segments != 5 || got.Bytes != 500 || got.DurationSeconds != 4 || !got.FirstSegmentAt.Equal(base) || !got.LastSegmentEnd.Equal(base.Add(6*time.Second)) {
		t.Errorf("stats: %d segments, %d bytes, %v s, %v to %v", got.Segments, got.Bytes, got.DurationSeconds, got.FirstSegmentAt, got.LastSegmentEnd)
	}
	if len(got.Gaps) != 1 || got.Gaps[0].Rendition != "1" || !got.Gaps[0].From.Equal(base.Add(2*time.Second)) || got.Gaps[0].Seconds != 2 {
		t.Errorf("gaps %+v, want rendition 1's, 2 s after its first segment", got.Gaps)
	}
}
