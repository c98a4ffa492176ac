// Package embedded runs the control node's MQTT broker (mochi-mqtt) with
// lmx's authentication and ACL rules, and gives the control node an inline
// client to publish and subscribe without a network hop.
package embedded

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// Sentinel errors.
var (
	// ErrNoListen is returned when the broker is given no address to listen on.
	ErrNoListen = errors.New("mqtt listen address is empty")
	// ErrNoGate is returned when edges are authenticated without a Gate.
	ErrNoGate = errors.New("mqtt: an authenticating broker needs a gate")
)

// Config is the broker's configuration.
type Config struct {
	// Listen is the TCP address MQTT clients connect to, e.g. ":1883".
	Listen string
	// TLS, when set, puts the listener on TLS.
	TLS *tls.Config
	// Edges, when set, authenticates every client as an edge by its
	// credential and keeps it to its own topics; nil allows everything
	// (--auth none).
	Edges EdgeAuthenticator
	// Gate slows down addresses that fail authentication (required with Edges).
	Gate Gate
}

// Broker is the embedded MQTT broker.
type Broker struct {
	srv    *mqtt.Server
	logger *slog.Logger
	addr   net.Addr
	ln     net.Listener

	closeOnce sync.Once
	closeErr  error
}

// New creates the broker and binds its listener, so a port in use is
// reported before anything else starts.
func New(cfg Config, logger *slog.Logger) (*Broker, error) {
	if cfg.Listen == "" {
		return nil, ErrNoListen
	}
	if cfg.Edges != nil && cfg.Gate == nil {
		return nil, ErrNoGate
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("mqtt listener: %w", err)
	}
	if cfg.TLS != nil {
		ln = tls.NewListener(ln, cfg.TLS)
	}
	srv := mqtt.New(&mqtt.Options{
		InlineClient: true,
		Logger:       slog.New(quietHandler{logger.Handler()}).With("component", "mqtt"),
	})
	srv.Options.Capabilities.MaximumClientWritesPending = 8192
	if err := srv.AddHook(&authHook{edges: cfg.Edges, gate: cfg.Gate, srv: srv}, nil); err != nil {
		ln.Close()
		return nil, err
	}
	if err := srv.AddListener(newTCPListener("mqtt", ln)); err != nil {
		ln.Close()
		return nil, err
	}
	return &Broker{srv: srv, logger: logger, addr: ln.Addr(), ln: ln}, nil
}

// Addr is the address the broker listens on.
func (b *Broker) Addr() net.Addr { return b.addr }

// Run serves MQTT until ctx ends, then closes the broker.
func (b *Broker) Run(ctx context.Context) error {
	if err := b.srv.Serve(); err != nil {
		return fmt.Errorf("mqtt serve: %w", err)
	}
	<-ctx.Done()
	return b.Close()
}

// Close stops the broker and disconnects its clients. It may be called
// more than once (Run closes too); mochi's own Close may not.
func (b *Broker) Close() error {
	b.closeOnce.Do(func() { b.closeErr = b.srv.Close() })
	return b.closeErr
}

// Publish publishes a message from the control node itself.
func (b *Broker) Publish(topic string, payload []byte, retain bool, qos byte) error {
	return b.srv.Publish(topic, payload, retain, qos)
}

// Handler receives messages of an inline subscription.
type Handler func(topic string, payload []byte)

// Subscribe subscribes the control node itself to filter. id must be unique
// per subscription; retained messages are delivered on subscribing.
func (b *Broker) Subscribe(filter string, id int, h Handler) error {
	return b.srv.Subscribe(filter, id, func(_ *mqtt.Client, _ packets.Subscription, pk packets.Packet) {
		h(pk.TopicName, pk.Payload)
	})
}

// DisconnectEdge closes every session of edge (its credential was revoked
// or replaced) and says how many there were. The client's next CONNECT is
// refused by the authenticator.
func (b *Broker) DisconnectEdge(edge string) int {
	n := 0
	for _, cl := range b.srv.Clients.GetAll() {
		// A session already closed (its connection's teardown not yet
		// done, or kept for a client gone offline) has nothing to cut.
		if cl.Net.Inline || cl.Closed() || string(cl.Properties.Username) != edge {
			continue
		}
		_ = b.srv.DisconnectClient(cl, packets.ErrNotAuthorized)
		n++
	}
	return n
}

// ClientsConnected is the number of MQTT clients connected now.
func (b *Broker) ClientsConnected() int64 { return b.srv.Info.ClientsConnected }
