package controld

import (
	"context"
	"net"
	"time"

	"github.com/lmx-video/lmx/broker/client"
	"github.com/lmx-video/lmx/broker/embedded"
)

// bus is the control plane as the control node uses it: the embedded broker,
// or a client of an external one (--broker).
type bus interface {
	// Publish sends a message.
	Publish(topic string, payload []byte, retain bool, qos byte) error
	// Subscribe delivers messages on filter (retained ones too) to h.
	Subscribe(filter string, id int, h embedded.Handler) error
	// Run serves or stays connected until ctx ends.
	Run(ctx context.Context) error
	// Close releases what New bound, for a start that fails half-way.
	Close() error
	// Addr is the broker address edges dial.
	Addr() net.Addr
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

func (b *externalBus) Subscribe(filter string, _ int, h embedded.Handler) error {
	b.c.Subscribe(filter, 1, func(m client.Message) { h(m.Topic, m.Payload) })
	return nil
}

func (b *externalBus) Run(ctx context.Context) error { return b.c.Run(ctx) }
func (b *externalBus) Close() error                  { return nil }
func (b *externalBus) Addr() net.Addr                { return b.addr }

// brokerAddr is a net.Addr for a broker URL's host:port.
type brokerAddr string

func (a brokerAddr) Network() string { return "tcp" }
func (a brokerAddr) String() string  { return string(a) }
