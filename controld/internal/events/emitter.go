package events

import (
	"log/slog"
	"time"

	"github.com/lmx-video/lmx/broker"
)

// Publisher sends a control-plane message: the broker, embedded or external.
type Publisher interface {
	// Publish sends payload on topic.
	Publish(topic string, payload []byte, retain bool, qos byte) error
}

// Emitter publishes what happened on lmx/v1/events.
type Emitter struct {
	bus    Publisher
	logger *slog.Logger
}

// NewEmitter returns an emitter publishing on bus.
func NewEmitter(bus Publisher, logger *slog.Logger) *Emitter {
	return &Emitter{bus: bus, logger: logger}
}

// Emit stamps ev with kind, version and time and publishes it. A failed
// publish is logged, not returned: events are a record, and the state they
// describe is in the store either way.
func (e *Emitter) Emit(kind string, ev broker.Event) {
	ev.V, ev.Kind, ev.Time = broker.Version, kind, time.Now().UTC()
	if err := e.bus.Publish(broker.EventsTopic, broker.Encode(ev), false, broker.EventQoS); err != nil {
		e.logger.Warn("mqtt publish failed", "topic", broker.EventsTopic, "err", err)
	}
}
