package live

import (
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func newTestRegistry() *Registry {
	return New(Config{Segments: 3, MemoryLimit: 1 << 30}, Gauges{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// TestAppendToAClosedWindow: an upload that found its window just before
// streaming was turned off (Append is open, then append) must not add to
// the window Close released: nothing would ever release that segment, its
// memory would count against the limit for good and its memfd stay open.
func TestAppendToAClosedWindow(t *testing.T) {
	r := newTestRegistry()
	if _, err := r.Append("id", "cam", 1, Arrival{Duration: 1}, []byte("first")); err != nil {
		t.Fatal(err)
	}
	ls := r.open("id", "cam", "", 1, time.Now(), 1) // the upload has its window...
	r.Close("id")                                   // ...when streaming is turned off
	if _, err := ls.append(Arrival{Duration: 1}, []byte("late")); !errors.Is(err, ErrStreamingOff) {
		t.Errorf("append to a closed window: %v, want ErrStreamingOff", err)
	}
	if b, s := r.Held(); b != 0 || s != 0 {
		t.Errorf("held %d bytes in %d segments after the window closed, want none", b, s)
	}
	if _, ok := ls.Segment(ls.held.Load().first); ok {
		t.Error("the closed window holds a segment")
	}

	// Turned on again, the source gets a new window.
	r.Allow("id")
	if _, err := r.Append("id", "cam", 1, Arrival{Duration: 1}, []byte("again")); err != nil {
		t.Fatal(err)
	}
	if got, _ := r.Get("cam"); got == ls {
		t.Error("the closed window came back")
	}
}

// TestAppendRacesClose turns streaming off and on while uploads arrive:
// once every window is closed, nothing may be held.
func TestAppendRacesClose(t *testing.T) {
	r := newTestRegistry()
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for !stop.Load() {
				_, _ = r.Append("id", "cam", 1, Arrival{Duration: 1}, []byte("x"))
			}
		})
	}
	for range 5000 {
		r.Close("id")
		r.Allow("id")
	}
	stop.Store(true)
	wg.Wait()
	r.Close("id")
	if b, s := r.Held(); b != 0 || s != 0 {
		t.Errorf("held %d bytes in %d segments after every window closed, want none", b, s)
	}
}
