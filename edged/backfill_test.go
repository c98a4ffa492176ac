package edged

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/lmx-video/lmx/broker"
)

// TestStreamBackfill: a woken on-demand source (desired Backfill) first
// sends the buffered segments of the last Backfill, oldest first and every
// one of them (they are no backlog to skip), then each new segment.
func TestStreamBackfill(t *testing.T) {
	fake := &fakeIngest{}
	srv := httptestServer(t, fake)
	e, stop := testEdge(t, srv)
	src := &sourceState{name: "cam"}
	e.sources[src.name] = src
	// Twenty buffered one-second segments, the newest ending now.
	t0 := time.Now().Add(-21 * time.Second)
	addSegments(e, src, t0, 1, 20, nil)
	e.desired = broker.Desired{Sources: map[string]broker.DesiredSource{
		"cam": {Stream: true, Backfill: broker.Duration(6500 * time.Millisecond)},
	}}
	e.mu.Lock()
	e.startStream(src)
	e.mu.Unlock()
	waitCalls(t, fake, "the buffered segments", func(cs []ingestCall) bool { return len(cs) > 0 && cs[len(cs)-1].seq == 20 })
	addSegments(e, src, t0, 21, 22, nil)
	waitCalls(t, fake, "the new segments", func(cs []ingestCall) bool { return len(cs) > 0 && cs[len(cs)-1].seq == 22 })
	stop()
	var sent []uint64
	for _, c := range fake.snapshot() {
		sent = append(sent, c.seq)
		if c.purpose != "live" {
			t.Errorf("edge sequence %d sent as %q, want live", c.seq, c.purpose)
		}
	}
	// Segments 14…20 end within the last 6.5 s (segment n ends at t0+n+1 s).
	if want := []uint64{14, 15, 16, 17, 18, 19, 20, 21, 22}; !slices.Equal(sent, want) {
		t.Fatalf("live uploads %v, want %v", sent, want)
	}
}

// TestStreamNoBackfill: without Backfill, streaming starts from the three
// newest buffered segments, as before on-demand.
func TestStreamNoBackfill(t *testing.T) {
	fake := &fakeIngest{}
	srv := httptestServer(t, fake)
	e, stop := testEdge(t, srv)
	src := &sourceState{name: "cam"}
	e.sources[src.name] = src
	addSegments(e, src, time.Now().Add(-21*time.Second), 1, 20, nil)
	e.mu.Lock()
	e.startStream(src)
	e.mu.Unlock()
	waitCalls(t, fake, "the newest segments", func(cs []ingestCall) bool { return len(cs) > 0 && cs[len(cs)-1].seq == 20 })
	stop()
	var sent []uint64
	for _, c := range fake.snapshot() {
		sent = append(sent, c.seq)
	}
	if want := []uint64{18, 19, 20}; !slices.Equal(sent, want) {
		t.Fatalf("live uploads %v, want %v", sent, want)
	}
}

func httptestServer(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
