// Package eventstest records the events a component emits, for the tests
// of the control node's components (each consumes an Emitter of its own
// definition, which Recorder satisfies).
package eventstest

import (
	"sync"

	"github.com/lmx-video/lmx/broker"
)

// Emitted is one event as a component emitted it.
type Emitted struct {
	// Kind is the event's kind (broker.Event*).
	Kind string
	// Event is what the component said of it.
	Event broker.Event
}

// Recorder keeps every event emitted to it; safe for concurrent use.
type Recorder struct {
	mu     sync.Mutex
	events []Emitted
}

// Emit records an event.
func (r *Recorder) Emit(kind string, ev broker.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, Emitted{kind, ev})
}

// Events returns the events so far.
func (r *Recorder) Events() []Emitted {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Emitted(nil), r.events...)
}

// Take returns the events so far and forgets them.
func (r *Recorder) Take() []Emitted {
	r.mu.Lock()
	defer r.mu.Unlock()
	ev := r.events
	r.events = nil
	return ev
}

// Kinds is the kinds of evs, in order.
func Kinds(evs []Emitted) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Kind)
	}
	return out
}
