package controld

import (
	"context"
	"net"
	"sync/atomic"
	"time"

	"github.com/lmx-video/lmx/broker/client"
	"github.com/lmx-video/lmx/broker/embedded"
)

// bus is the control plane as the control node uses it: the embedded
// broker, or a client of an external one (--broker).
type bus interface {
	// Publish sends a message.
	Publish(topic string, payload []byte, retain bool, qos byte) error
	// Subscribe delivers messages on filter (retained ones too) to h, at
	// up to qos where a broker link is involved.
	Subscribe(filter string, qos byte, h func(topic string, payload []byte)) error
	// Run serves or stays connected until ctx ends.
	Run(ctx context.Context) error
	// Close releases what the bus bound, for a start that fails half-way.
	Close() error
	// Addr is the broker address edges dial.
	Addr() net.Addr
}

// embeddedBus is the embedded broker. Its inline subscriptions need an id
// of their own each, which stays here.
type embeddedBus struct {
	*embedded.Broker
	ids atomic.Int32
}

// Subscribe subscribes inline; delivery inside the process has no QoS.
func (b *embeddedBus) Subscribe(filter string, _ byte, h func(topic string, payload []byte)) error {
	return b.Broker.Subscribe(filter, int(b.ids.Add(1)), h)
}

// externalBus is the control node as a client of an external MQTT broker
// (Mosquitto, EMQX, HiveMQ): the path when one node's broker is outgrown.
type externalBus struct {
	c    *client.Client
	addr net.Addr
}

func (b *externalBus) Publish(topic string, payload []byte, retain bool, qos byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return b.c.Publish(ctx, client.Message{Topic: topic, Payload: payload, Retain: retain, QoS: qos})
}

func (b *externalBus) Subscribe(filter string, qos byte, h func(topic string, payload []byte)) error {
	b.c.Subscribe(filter, qos, func(m client.Message) { h(m.Topic, m.Payload) })
	return nil
}

func (b *externalBus) Run(ctx context.Context) error { return b.c.Run(ctx) }
func (b *externalBus) Close() error                  { return nil }
func (b *externalBus) Addr() net.Addr                { return b.addr }

// brokerAddr is a net.Addr for a broker URL's host:port.
type brokerAddr string

func (a brokerAddr) Network() string { return "tcp" }
func (a brokerAddr) String() string  { return string(a) }
