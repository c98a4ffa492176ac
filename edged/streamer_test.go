package edged

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lmx-video/lmx/broker"
)

// ingestCall is one segment upload as the fake control node saw it.
type ingestCall struct {
	seq        uint64
	disc       bool
	purpose    string
	recordings string
}

// fakeIngest is a control node's ingest endpoint that answers 503 while
// down and otherwise acks every recording a segment is sent for.
type fakeIngest struct {
	mu    sync.Mutex
	down  bool
	calls []ingestCall
}

func (f *fakeIngest) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	seq, _ := strconv.ParseUint(r.Header.Get(broker.HeaderSeq), 10, 64)
	c := ingestCall{seq: seq, disc: r.Header.Get(broker.HeaderDiscontinuity) == "1",
		purpose: r.Header.Get(broker.HeaderPurpose), recordings: r.Header.Get(broker.HeaderRecordings)}
	f.mu.Lock()
	f.calls = append(f.calls, c)
	down := f.down
	f.mu.Unlock()
	if down {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	var out broker.IngestReply
	if c.recordings != "" {
		out.Acked = strings.Split(c.recordings, ",")
	}
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(out)
}

func (f *fakeIngest) setDown(down bool) {
	f.mu.Lock()
	f.down = down
	f.mu.Unlock()
}

// snapshot is every upload so far, in order.
func (f *fakeIngest) snapshot() []ingestCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]ingestCall(nil), f.calls...)
}

// testEdge is an Edge with just what the upload loops use, running as if
// Run had started, uploading to ingest.
func testEdge(t *testing.T, ingest string) (*Edge, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	e := &Edge{
		logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		ring:    newRing(time.Hour, 1<<30),
		up:      newUploader(ingest, "edge-t", "", "boot1", nil, slog.New(slog.NewTextHandler(io.Discard, nil))),
		sources: map[string]*sourceState{},
		runCtx:  ctx,
	}
	stop := func() { e.stopWorkers(cancel) }
	t.Cleanup(stop)
	return e, stop
}

// addSegments appends segments from..to (edge sequence numbers) of one
// second each, the first starting at t0 + from seconds.
func addSegments(e *Edge, src *sourceState, t0 time.Time, from, to uint64, disc map[uint64]bool) {
	for seq := from; seq <= to; seq++ {
		e.mu.Lock()
		src.nextSeq = seq
		st := src.stream
		e.mu.Unlock()
		e.ring.add(src.name, &segment{Seq: seq, Name: "s" + strconv.FormatUint(seq, 10) + ".ts", Duration: 1,
			Start: t0.Add(time.Duration(seq) * time.Second), Discontinuity: disc[seq], Data: []byte{0x47}})
		if st != nil {
			st.wake()
		}
	}
}

// TestLiveSkipIsNoRecordedBreak: after an outage live upload skips to the
// newest segments. Those are also waited for by a recording, and the one
// upload that carries them to both must not say Lmx-Discontinuity: the
// recording's media is unbroken. A real break in the media still says it.
func TestLiveSkipIsNoRecordedBreak(t *testing.T) {
	fake := &fakeIngest{down: true}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	e, stop := testEdge(t, srv.URL)
	src := &sourceState{name: "cam"}
	e.sources[src.name] = src
	t0 := time.Now().Add(-time.Minute)
	e.ring.setRecordings(src.name, []recWindow{{ID: "rec1", Since: t0}})
	// Edge sequence 1 is the first segment of the ffmpeg run: a break.
	addSegments(e, src, t0, 1, 3, map[uint64]bool{1: true})

	e.mu.Lock()
	e.startStream(src)
	e.mu.Unlock()
	waitCalls(t, fake, "the first live upload, refused", func(cs []ingestCall) bool { return len(cs) >= 1 })
	// The control node is away while ten more segments come in.
	addSegments(e, src, t0, 4, 13, nil)
	fake.setDown(false)
	waitCalls(t, fake, "live uploads up to edge sequence 13", func(cs []ingestCall) bool {
		return len(cs) > 0 && cs[len(cs)-1].seq == 13
	})
	// A new ffmpeg run after the catch-up.
	addSegments(e, src, t0, 14, 15, map[uint64]bool{14: true})
	waitCalls(t, fake, "live uploads up to edge sequence 15", func(cs []ingestCall) bool {
		return len(cs) > 0 && cs[len(cs)-1].seq == 15
	})
	stop()

	calls := fake.snapshot()
	var sent []uint64
	for _, c := range calls {
		sent = append(sent, c.seq)
		if c.purpose != "live,record" || c.recordings != "rec1" {
			t.Errorf("edge sequence %d sent as %q for %q, want live,record for rec1", c.seq, c.purpose, c.recordings)
		}
		if want := c.seq == 1 || c.seq == 14; c.disc != want {
			t.Errorf("edge sequence %d: Lmx-Discontinuity %v, want %v (only ffmpeg's breaks are breaks)", c.seq, c.disc, want)
		}
	}
	// Live skipped: from 1 straight to the newest ones, not through 2…10.
	for _, seq := range sent {
		if seq >= 2 && seq <= 10 {
			t.Fatalf("live uploads went %v; want a skip past the backlog after the outage", sent)
		}
	}
	t.Logf("live uploads: edge sequence %v", sent)
}

func waitCalls(t *testing.T, f *fakeIngest, what string, ok func([]ingestCall) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok(f.snapshot()) {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: uploads so far %+v", what, f.snapshot())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
