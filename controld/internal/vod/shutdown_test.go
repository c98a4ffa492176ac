package vod

import (
	"context"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/lmx-video/lmx/controld/internal/metrics"
)

// TestServeAfterShutdown: a Shutdown that comes before Serve has started
// (a node stopped as soon as it is ready) stops nothing in fasthttp; with
// the listener closed after it, as the control node does, Serve returns at
// once instead of serving forever.
func TestServeAfterShutdown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := New(Config{}, nil, nil, nil, nil, Guard{}, metrics.New(), slog.New(slog.DiscardHandler))
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	ln.Close()
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve on a closed listener after Shutdown: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
	}
}
