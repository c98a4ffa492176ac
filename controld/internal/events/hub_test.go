package events

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lmx-video/lmx/broker"
)

// frame is one server-sent event as read off the wire.
type frame struct{ event, data string }

// readFrame reads the next frame, skipping comment lines.
func readFrame(t *testing.T, r *bufio.Reader) (frame, error) {
	t.Helper()
	var f frame
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return f, err
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if f.event != "" || f.data != "" {
				return f, nil
			}
		case strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "event: "):
			f.event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			f.data = strings.TrimPrefix(line, "data: ")
		default:
			t.Fatalf("unexpected line %q", line)
		}
	}
}

// follow opens the hub's stream and returns it once the hello frame has
// come (the follower is subscribed from then on).
func follow(t *testing.T, url string) (*http.Response, *bufio.Reader) {
	t.Helper()
	// A stream that does not end when it should fails the test here
	// rather than hanging it.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" || resp.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("stream answer %d, headers %v", resp.StatusCode, resp.Header)
	}
	r := bufio.NewReader(resp.Body)
	hello, err := readFrame(t, r)
	if err != nil {
		t.Fatalf("reading hello: %v", err)
	}
	if hello.event != "hello" {
		t.Fatalf("first frame %+v, want hello", hello)
	}
	var h struct {
		Version string    `json:"version"`
		Time    time.Time `json:"time"`
	}
	if err := json.Unmarshal([]byte(hello.data), &h); err != nil || h.Version != "v9.9" || h.Time.IsZero() {
		t.Fatalf("hello data %q (%v), want version v9.9 and a time", hello.data, err)
	}
	return resp, r
}

func TestHubStreamsInOrderUntilClosed(t *testing.T) {
	h := NewHub("v9.9")
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	_, r1 := follow(t, srv.URL)
	_, r2 := follow(t, srv.URL)

	want := []frame{
		{"edge.status", `{"edge":"edge-1","online":true}`},
		{broker.EventRecordingStarted, `{"recording":"r1"}`},
		{broker.EventRecordingStopped, `{"recording":"r1"}`},
	}
	for _, f := range want {
		h.Publish(f.event, []byte(f.data))
	}
	// Events from the control plane are relayed by their kind; what is not
	// an event is not.
	h.OnEvent(broker.EventsTopic, []byte("not json"))
	h.OnEvent(broker.EventsTopic, []byte(`{"source":"no kind"}`))
	ev := `{"v":1,"kind":"source.streaming","source":"cam","detail":"on"}`
	h.OnEvent(broker.EventsTopic, []byte(ev))
	want = append(want, frame{broker.EventStreamingChanged, ev})

	for i, r := range []*bufio.Reader{r1, r2} {
		for j, w := range want {
			got, err := readFrame(t, r)
			if err != nil {
				t.Fatalf("follower %d, frame %d: %v", i, j, err)
			}
			if got != w {
				t.Errorf("follower %d, frame %d: %+v, want %+v", i, j, got, w)
			}
		}
	}

	h.Close()
	for i, r := range []*bufio.Reader{r1, r2} {
		if f, err := readFrame(t, r); !errors.Is(err, io.EOF) {
			t.Errorf("follower %d after Close: %+v, %v; want the stream to end", i, f, err)
		}
	}
	// A follower that comes after Close gets its hello and the end.
	_, r3 := follow(t, srv.URL)
	if f, err := readFrame(t, r3); !errors.Is(err, io.EOF) {
		t.Errorf("follower after Close: %+v, %v; want the stream to end", f, err)
	}
	h.Close() // twice is fine
}

func TestHubStreamEndsWithItsClient(t *testing.T) {
	h := NewHub("v9.9")
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	resp, _ := follow(t, srv.URL)
	resp.Body.Close()
	<-done // the handler returns once its client is gone
	h.mu.Lock()
	n := len(h.subs)
	h.mu.Unlock()
	if n != 0 {
		t.Errorf("%d followers still subscribed after their client left", n)
	}
}

// TestHubDropsForSlowFollowers: a follower that does not keep up loses
// frames; Publish never waits for it.
func TestHubDropsForSlowFollowers(t *testing.T) {
	h := NewHub("v9.9")
	ch, _ := h.subscribe("")
	for range 1000 {
		h.Publish("edge.status", []byte("{}"))
	}
	if len(ch) != cap(ch) {
		t.Errorf("follower holds %d of %d frames", len(ch), cap(ch))
	}
	h.unsubscribe(ch)
	h.Publish("edge.status", []byte("{}"))
	if len(ch) != cap(ch) {
		t.Errorf("an unsubscribed follower got a frame")
	}
}

// TestHubCloseOwner: revoking a token ends exactly the streams opened with
// it, at once; the others keep receiving.
func TestHubCloseOwner(t *testing.T) {
	h := NewHub("v9.9")
	ended := make(chan string, 8) // the owner of each stream whose handler returned
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		owner := r.URL.Query().Get("owner")
		h.Serve(w, r, owner)
		ended <- owner
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(h.Close) // before srv.Close, which waits for the streams

	_, a1 := follow(t, srv.URL+"?owner=tok-a")
	_, a2 := follow(t, srv.URL+"?owner=tok-a")
	_, b := follow(t, srv.URL+"?owner=tok-b")
	_, anon := follow(t, srv.URL) // auth off: nobody's

	h.CloseOwner("")      // nobody's streams are not one owner's
	h.CloseOwner("tok-c") // an owner with no stream
	h.Publish("edge.status", []byte(`{"n":1}`))
	for name, r := range map[string]*bufio.Reader{"a1": a1, "a2": a2, "b": b, "anon": anon} {
		if f, err := readFrame(t, r); err != nil || f.data != `{"n":1}` {
			t.Fatalf("%s before CloseOwner: %+v, %v", name, f, err)
		}
	}

	h.CloseOwner("tok-a")
	for name, r := range map[string]*bufio.Reader{"a1": a1, "a2": a2} {
		if f, err := readFrame(t, r); !errors.Is(err, io.EOF) {
			t.Errorf("%s after CloseOwner(tok-a): %+v, %v; want the stream to end", name, f, err)
		}
	}
	for range 2 {
		select {
		case owner := <-ended:
			if owner != "tok-a" {
				t.Errorf("the stream of %q ended", owner)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("tok-a's handlers did not return")
		}
	}
	h.mu.Lock()
	n := len(h.subs)
	h.mu.Unlock()
	if n != 2 {
		t.Errorf("%d followers subscribed, want the 2 not owned by tok-a", n)
	}

	h.Publish("edge.status", []byte(`{"n":2}`))
	for name, r := range map[string]*bufio.Reader{"b": b, "anon": anon} {
		if f, err := readFrame(t, r); err != nil || f.data != `{"n":2}` {
			t.Errorf("%s after CloseOwner(tok-a): %+v, %v; want it to keep receiving", name, f, err)
		}
	}
	select {
	case owner := <-ended:
		t.Errorf("the stream of %q ended too", owner)
	default:
	}

	// Closing again is harmless, and a new stream of the owner works.
	h.CloseOwner("tok-a")
	_, a3 := follow(t, srv.URL+"?owner=tok-a")
	h.Publish("edge.status", []byte(`{"n":3}`))
	if f, err := readFrame(t, a3); err != nil || f.data != `{"n":3}` {
		t.Errorf("a stream opened after CloseOwner: %+v, %v", f, err)
	}
}

type fakePublisher struct {
	mu   sync.Mutex
	msgs []published
	err  error
}

type published struct {
	topic   string
	payload []byte
	retain  bool
	qos     byte
}

func (p *fakePublisher) Publish(topic string, payload []byte, retain bool, qos byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.msgs = append(p.msgs, published{topic, payload, retain, qos})
	return p.err
}

func TestEmitterStampsAndPublishes(t *testing.T) {
	bus := &fakePublisher{}
	e := NewEmitter(bus, slog.New(slog.NewTextHandler(io.Discard, nil)))
	before := time.Now()
	e.Emit(broker.EventSourceAdded, broker.Event{Kind: "ignored", V: 99, Source: "cam", Edge: "edge-1"})
	if len(bus.msgs) != 1 {
		t.Fatalf("published %d messages, want 1", len(bus.msgs))
	}
	m := bus.msgs[0]
	if m.topic != broker.EventsTopic || m.retain || m.qos != broker.EventQoS {
		t.Errorf("published on %q retain %v qos %d", m.topic, m.retain, m.qos)
	}
	var ev broker.Event
	if err := broker.Decode(m.payload, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Kind != broker.EventSourceAdded || ev.V != broker.Version || ev.Source != "cam" || ev.Edge != "edge-1" {
		t.Errorf("event %+v", ev)
	}
	if ev.Time.Before(before.Add(-time.Second)) || ev.Time.Location() != time.UTC {
		t.Errorf("event time %v, want now in UTC", ev.Time)
	}

	// A failed publish is logged, not fatal.
	bus.err = errors.New("not connected")
	e.Emit(broker.EventSourceRemoved, broker.Event{})
	if len(bus.msgs) != 2 {
		t.Errorf("second emit not attempted")
	}
}
