package edged

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/broker/client"
)

// stuckTransport holds every request until released, whatever its context
// says: an upload that cannot be abandoned.
type stuckTransport struct {
	entered atomic.Int32
	release chan struct{}
}

func (s *stuckTransport) RoundTrip(*http.Request) (*http.Response, error) {
	s.entered.Add(1)
	<-s.release
	return nil, errors.New("released")
}

func desiredMsg(gen int64, source string, stream bool, recs ...broker.DesiredRecording) client.Message {
	d := broker.Desired{V: broker.Version, Edge: "edge-t", Generation: gen,
		Sources: map[string]broker.DesiredSource{source: {Stream: stream, Recordings: recs}}}
	return client.Message{Payload: broker.Encode(d)}
}

// TestRunWaitsForItsLoops: Run returns only once the recorder loops it
// started have returned, and once it has, a desired state starts nothing.
func TestRunWaitsForItsLoops(t *testing.T) {
	cfg := Config{
		Name: "edge-t", Listen: "127.0.0.1:0",
		// Nothing listens there: the edge runs without a control node.
		MQTT: "mqtt://127.0.0.1:1", Ingest: "http://127.0.0.1:1",
		AllowDirs: []string{t.TempDir()}, Buffer: time.Minute, BufferBytes: 8 << 20,
		MaxPlaylistBytes: 1 << 20, MaxSegmentBytes: 1 << 20, Heartbeat: time.Second,
	}
	e, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), "test")
	if err != nil {
		t.Fatal(err)
	}
	stuck := &stuckTransport{release: make(chan struct{})}
	released := false
	release := func() {
		if !released {
			released = true
			close(stuck.release)
		}
	}
	defer release()
	e.up.hc.Transport = stuck

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runDone := make(chan error, 1)
	go func() { runDone <- e.Run(ctx) }()
	waitFor(t, "Run to start", func() bool {
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.runCtx != nil
	})

	src := e.source("cam")
	t0 := time.Now().Add(-time.Minute)
	e.ring.add(src.name, &segment{Seq: 1, Name: "a.ts", Duration: 1, Start: t0.Add(time.Second), Data: []byte{0x47}})
	e.onDesired(desiredMsg(1, src.name, false, broker.DesiredRecording{ID: "rec1", Since: t0}))
	e.mu.Lock()
	rl := src.recorder
	e.mu.Unlock()
	if rl == nil {
		t.Fatal("a recording of a pushed source started no recorder loop")
	}
	waitFor(t, "the recorder loop's upload", func() bool { return stuck.entered.Load() == 1 })

	cancel()
	select {
	case err := <-runDone:
		select {
		case <-rl.done:
			t.Fatalf("recorder loop ended before its upload did (Run: %v)", err)
		default:
			t.Fatalf("Run returned (%v) while its recorder loop was still uploading", err)
		}
	case <-time.After(time.Second):
		// Longer than the edge's own shutdown steps take without a control node.
	}
	release()
	select {
	case err := <-runDone:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return once its recorder loop could end")
	}
	select {
	case <-rl.done:
	default:
		t.Fatal("Run returned before its recorder loop did")
	}

	// Stopped: a late desired state (the MQTT client delivers until it is
	// disconnected) starts nothing.
	e.onDesired(desiredMsg(2, src.name, true, broker.DesiredRecording{ID: "rec2", Since: t0}))
	e.mu.Lock()
	st, rl2 := src.stream, src.recorder
	e.mu.Unlock()
	if st != nil || rl2 != nil {
		t.Errorf("after Run returned, a desired state started a streamer (%v) or recorder loop (%v)", st != nil, rl2 != nil)
	}
	if n := stuck.entered.Load(); n != 1 {
		t.Errorf("%d uploads tried, want only the first", n)
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: not so after 10s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
