package controld

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/lmx-video/lmx/broker"
)

// eventHub fans the control plane out to HTTP followers (the TUI, scripts)
// as server-sent events: everything published on lmx/v1/events plus every
// edge status, so a dashboard updates as things happen without polling the
// API and without needing the MQTT broker's address or credentials.
type eventHub struct {
	mu   sync.Mutex
	subs map[chan []byte]struct{}
}

func newEventHub() *eventHub { return &eventHub{subs: map[chan []byte]struct{}{}} }

// publish sends one SSE frame to every follower; a follower too slow to keep
// up loses frames rather than holding the control node up.
func (h *eventHub) publish(kind string, payload []byte) {
	frame := []byte(fmt.Sprintf("event: %s\ndata: %s\n\n", kind, payload))
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- frame:
		default:
		}
	}
}

func (h *eventHub) subscribe() chan []byte {
	ch := make(chan []byte, 256)
	h.mu.Lock()
	h.subs[ch] = struct{}{}
	h.mu.Unlock()
	return ch
}

func (h *eventHub) unsubscribe(ch chan []byte) {
	h.mu.Lock()
	delete(h.subs, ch)
	h.mu.Unlock()
}

// handleEvents streams events until the client goes away. The first frame
// is "hello", so a client knows the stream is live.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		fail(w, r, http.StatusInternalServerError, "streaming not supported", "")
		return
	}
	ch := s.hub.subscribe()
	defer s.hub.unsubscribe(ch)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	hello, _ := json.Marshal(map[string]any{"version": s.version, "time": time.Now().UTC()})
	fmt.Fprintf(w, "event: hello\ndata: %s\n\n", hello)
	fl.Flush()
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.closing:
			return
		case frame := <-ch:
			if _, err := w.Write(frame); err != nil {
				return
			}
			fl.Flush()
		case <-ping.C:
			// A comment line keeps proxies from closing an idle stream.
			if _, err := w.Write([]byte(": ping\n\n")); err != nil {
				return
			}
			fl.Flush()
		}
	}
}

// onEvent relays broker events to HTTP followers.
func (s *Server) onEvent(_ string, payload []byte) {
	var ev broker.Event
	if err := json.Unmarshal(payload, &ev); err != nil || ev.Kind == "" {
		return
	}
	s.hub.publish(ev.Kind, payload)
}
