// Package events is the control node's record of what happens: the Emitter
// publishes events on the control plane (lmx/v1/events), and the Hub fans
// them, and every edge status, out to HTTP followers (the dashboard,
// scripts) as server-sent events.
package events

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/controld/internal/envelope"
)

// Hub fans server-sent event frames out to followers. A follower too slow
// to keep up loses frames rather than holding the control node up.
type Hub struct {
	version string

	mu     sync.Mutex
	subs   map[chan []byte]*follower
	closed chan struct{}
	once   sync.Once
}

// NewHub returns a hub whose hello frame names version.
func NewHub(version string) *Hub {
	return &Hub{version: version, subs: map[chan []byte]*follower{}, closed: make(chan struct{})}
}

// follower is one open stream: whose token opened it, and how to end it
// when that token is revoked.
type follower struct {
	owner  string
	kicked chan struct{}
}

// Publish sends one frame of kind to every follower.
func (h *Hub) Publish(kind string, payload []byte) {
	frame := fmt.Appendf(nil, "event: %s\ndata: %s\n\n", kind, payload)
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- frame:
		default:
		}
	}
}

// OnEvent relays an event from the control plane (the broker's
// lmx/v1/events) to the followers.
func (h *Hub) OnEvent(_ string, payload []byte) {
	var ev broker.Event
	if err := json.Unmarshal(payload, &ev); err != nil || ev.Kind == "" {
		return
	}
	h.Publish(ev.Kind, payload)
}

// Close ends every stream, so a graceful shutdown need not wait for
// followers that never hang up.
func (h *Hub) Close() { h.once.Do(func() { close(h.closed) }) }

func (h *Hub) subscribe(owner string) (chan []byte, *follower) {
	ch := make(chan []byte, 256)
	f := &follower{owner: owner, kicked: make(chan struct{})}
	h.mu.Lock()
	h.subs[ch] = f
	h.mu.Unlock()
	return ch, f
}

// CloseOwner ends every stream opened with the token owner (a token id),
// at once: revoking a token also cuts off what it is following.
func (h *Hub) CloseOwner(owner string) {
	if owner == "" {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch, f := range h.subs {
		if f.owner == owner {
			close(f.kicked)
			delete(h.subs, ch)
		}
	}
}

func (h *Hub) unsubscribe(ch chan []byte) {
	h.mu.Lock()
	delete(h.subs, ch)
	h.mu.Unlock()
}

// ServeHTTP streams events to a follower nobody owns (auth off).
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.Serve(w, r, "") }

// Serve streams events to a follower whose token is owner; see ServeFor.
func (h *Hub) Serve(w http.ResponseWriter, r *http.Request, owner string) {
	h.ServeFor(w, r, owner, time.Time{}, nil)
}

// ServeFor streams events until the client goes away, the hub closes,
// owner's token is revoked (CloseOwner), or the token expires (until; zero
// for never). valid, when set, is asked once the stream is registered (a
// revocation between the caller's check and the registration would
// otherwise leave it open) and on every keep-alive. The first frame is
// "hello", so a client knows the stream is live.
func (h *Hub) ServeFor(w http.ResponseWriter, r *http.Request, owner string, until time.Time, valid func() bool) {
	fl, ok := w.(http.Flusher)
	if !ok {
		envelope.Fail(w, r, http.StatusInternalServerError, "streaming not supported by this connection", "")
		return
	}
	ch, f := h.subscribe(owner)
	defer h.unsubscribe(ch)
	if valid != nil && !valid() {
		envelope.Fail(w, r, http.StatusUnauthorized, "the token was revoked", "")
		return
	}
	var expired <-chan time.Time
	if !until.IsZero() {
		t := time.NewTimer(time.Until(until))
		defer t.Stop()
		expired = t.C
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "text/event-stream")
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	hello, _ := json.Marshal(map[string]any{"version": h.version, "time": time.Now().UTC()})
	fmt.Fprintf(w, "event: hello\ndata: %s\n\n", hello)
	fl.Flush()
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-h.closed:
			return
		case <-f.kicked:
			return
		case <-expired:
			return
		case frame := <-ch:
			if _, err := w.Write(frame); err != nil {
				return
			}
			fl.Flush()
		case <-ping.C:
			if valid != nil && !valid() {
				return
			}
			// A comment line keeps proxies from closing an idle stream.
			if _, err := w.Write([]byte(": ping\n\n")); err != nil {
				return
			}
			fl.Flush()
		}
	}
}
