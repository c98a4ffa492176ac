// Package client is the MQTT client lmx uses where it is not the broker: the
// edge agent, and the control node when it runs against an external broker.
// It wraps paho.golang's autopaho so a connection comes back by itself with
// backoff, and subscriptions and the "hello" publish are redone on every
// reconnect.
package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"

	"github.com/lmx-video/lmx/internal/netaddr"
)

// Sentinel errors.
var (
	// ErrNotConnected is returned by Publish while the connection is down.
	ErrNotConnected = errors.New("mqtt not connected")
	// ErrBadURL is returned for a broker URL that is not mqtt://host:port.
	ErrBadURL = errors.New("bad mqtt url")
)

// Message is a message to publish or a Last Will.
type Message struct {
	// Topic is where it goes.
	Topic string
	// Payload is its body.
	Payload []byte
	// QoS is its quality of service.
	QoS byte
	// Retain keeps it on the broker for later subscribers.
	Retain bool
	// ResponseTopic and CorrelationData carry MQTT 5 request/response.
	ResponseTopic string
	// CorrelationData ties a reply to its request.
	CorrelationData []byte
}

// Handler handles one received message.
type Handler func(Message)

// Config is the client's configuration.
type Config struct {
	// URL is the broker, mqtt://host:1883 (or mqtts://host:8883; tls://
	// and ssl:// are TLS too).
	URL string
	// TLS configures the connection to a TLS URL; nil trusts the system's
	// roots for the URL's host. It is an error with a plain URL.
	TLS *tls.Config
	// ClientID must be unique per broker.
	ClientID string
	// Username and Password authenticate the client; Password never appears in logs.
	Username string
	// Password is the client's secret (an edge's credential), if the broker asks for one.
	Password string
	// Will is published by the broker when the connection drops uncleanly.
	Will *Message
	// KeepAlive is the MQTT keep-alive; the broker notices a dead client after 1.5 times it.
	KeepAlive time.Duration
	// OnUp is called (in its own goroutine) after every (re)connection and re-subscription.
	OnUp func()
	// OnDown is called when the connection drops.
	OnDown func()
}

type subscription struct {
	filter string
	qos    byte
	h      Handler
}

// Client is a reconnecting MQTT 5 client.
type Client struct {
	cfg    Config
	logger *slog.Logger
	server *url.URL

	mu   sync.Mutex
	subs []subscription
	cm   *autopaho.ConnectionManager

	up atomic.Bool
	// failing is true from a failed connection attempt to the next
	// connection.
	failing atomic.Bool
}

// New checks cfg and returns a client; Run connects it.
func New(cfg Config, logger *slog.Logger) (*Client, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%w %q: want mqtt://host:1883", ErrBadURL, cfg.URL)
	}
	switch u.Scheme {
	case "mqtt", "tcp", "tls", "mqtts", "ssl":
	default:
		return nil, fmt.Errorf("%w %q: scheme must be mqtt or tls", ErrBadURL, cfg.URL)
	}
	if cfg.TLS != nil && !isTLS(u.Scheme) {
		return nil, fmt.Errorf("%w %q: a TLS configuration needs an mqtts:// URL", ErrBadURL, cfg.URL)
	}
	if u.Port() == "" {
		if !isTLS(u.Scheme) {
			u.Host += ":" + strconv.Itoa(netaddr.MQTTPort)
		} else {
			u.Host += ":8883"
		}
	}
	if cfg.KeepAlive == 0 {
		cfg.KeepAlive = 10 * time.Second
	}
	return &Client{cfg: cfg, logger: logger, server: u}, nil
}

// isTLS reports whether a URL scheme New accepts is one of TLS.
func isTLS(scheme string) bool { return scheme == "tls" || scheme == "mqtts" || scheme == "ssl" }

// Server is the broker address (without credentials).
func (c *Client) Server() string { return c.server.Redacted() }

// Subscribe registers a subscription, made now if connected and again on every reconnect.
// Call it before Run for subscriptions that must be there from the first connection.
func (c *Client) Subscribe(filter string, qos byte, h Handler) {
	c.mu.Lock()
	c.subs = append(c.subs, subscription{filter, qos, h})
	cm := c.cm
	c.mu.Unlock()
	if cm != nil && c.up.Load() {
		go c.subscribe(context.Background(), cm, []subscription{{filter, qos, h}})
	}
}

// Connected reports whether the connection is up now.
func (c *Client) Connected() bool { return c.up.Load() }

// Run connects and keeps the connection up until ctx ends, then disconnects
// cleanly (a clean disconnect does not fire the Last Will).
func (c *Client) Run(ctx context.Context) error {
	// The connection lives on its own context so that ctx ending can still
	// send a clean DISCONNECT before it goes.
	connCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := autopaho.ClientConfig{
		ServerUrls:                    []*url.URL{c.server},
		KeepAlive:                     uint16(c.cfg.KeepAlive / time.Second),
		CleanStartOnInitialConnection: true,
		SessionExpiryInterval:         0,
		ReconnectBackoff:              autopaho.NewExponentialBackoff(250*time.Millisecond, 5*time.Second, 500*time.Millisecond, 2),
		ConnectTimeout:                5 * time.Second,
		OnConnectionUp: func(cm *autopaho.ConnectionManager, _ *paho.Connack) {
			c.failing.Store(false)
			c.logger.Info("mqtt connected", "broker", c.Server())
			go func() {
				c.mu.Lock()
				subs := append([]subscription(nil), c.subs...)
				c.mu.Unlock()
				c.subscribe(connCtx, cm, subs)
				c.up.Store(true)
				if c.cfg.OnUp != nil {
					c.cfg.OnUp()
				}
			}()
		},
		OnConnectionDown: func() bool {
			c.up.Store(false)
			c.logger.Warn("mqtt connection lost; reconnecting", "broker", c.Server())
			if c.cfg.OnDown != nil {
				go c.cfg.OnDown()
			}
			return true
		},
		OnConnectError: func(err error) {
			// The first failure of a run of them is worth a warning: a
			// refused credential or a TLS pin that does not match shows
			// here, and nowhere else.
			args := []any{"broker", c.Server(), "err", err}
			if why := refusal(err); why != "" {
				args = append(args, "refused", why)
			}
			if !c.failing.Swap(true) {
				c.logger.Warn("mqtt connect failed; retrying with backoff", args...)
				return
			}
			c.logger.Debug("mqtt connect failed; will retry", args...)
		},
		ClientConfig: paho.ClientConfig{
			ClientID: c.cfg.ClientID,
			OnPublishReceived: []func(paho.PublishReceived) (bool, error){
				func(pr paho.PublishReceived) (bool, error) {
					c.dispatch(pr.Packet)
					return true, nil
				},
			},
			OnClientError: func(err error) { c.logger.Debug("mqtt client error", "err", err) },
		},
	}
	if isTLS(c.server.Scheme) {
		cfg.TlsCfg = c.cfg.TLS
		if cfg.TlsCfg == nil {
			cfg.TlsCfg = &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.server.Hostname()}
		}
	}
	if c.cfg.Username != "" || c.cfg.Password != "" {
		cfg.ConnectUsername = c.cfg.Username
		cfg.ConnectPassword = []byte(c.cfg.Password)
	}
	if w := c.cfg.Will; w != nil {
		cfg.WillMessage = &paho.WillMessage{Topic: w.Topic, Payload: w.Payload, QoS: w.QoS, Retain: w.Retain}
	}
	cm, err := autopaho.NewConnection(connCtx, cfg)
	if err != nil {
		return fmt.Errorf("mqtt: %w", err)
	}
	c.mu.Lock()
	c.cm = cm
	c.mu.Unlock()

	<-ctx.Done()
	c.up.Store(false)
	dctx, dcancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer dcancel()
	_ = cm.Disconnect(dctx)
	cancel()
	<-cm.Done()
	return nil
}

// refusal says why the broker refused the login, when err is its CONNACK
// saying so: autopaho shows only the reason code's number.
func refusal(err error) string {
	var ce *autopaho.ConnackError
	if !errors.As(err, &ce) {
		return ""
	}
	switch ce.ReasonCode {
	case 0x86:
		return "bad username or password (CONNACK 0x86): check the username and password this client logs in with"
	case 0x87:
		return "not authorized (CONNACK 0x87): the broker does not take this username and password, or this client"
	}
	return ""
}

func (c *Client) subscribe(ctx context.Context, cm *autopaho.ConnectionManager, subs []subscription) {
	if len(subs) == 0 {
		return
	}
	req := &paho.Subscribe{}
	for _, s := range subs {
		req.Subscriptions = append(req.Subscriptions, paho.SubscribeOptions{Topic: s.filter, QoS: s.qos})
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := cm.Subscribe(sctx, req); err != nil {
		c.logger.Warn("mqtt subscribe failed", "err", err)
	}
}

func (c *Client) dispatch(p *paho.Publish) {
	m := Message{Topic: p.Topic, Payload: p.Payload, QoS: p.QoS, Retain: p.Retain}
	if p.Properties != nil {
		m.ResponseTopic = p.Properties.ResponseTopic
		m.CorrelationData = p.Properties.CorrelationData
	}
	c.mu.Lock()
	subs := c.subs
	c.mu.Unlock()
	for _, s := range subs {
		if Match(s.filter, p.Topic) {
			s.h(m)
		}
	}
}

// Publish sends a message and, for QoS 1, waits for the broker's ack.
func (c *Client) Publish(ctx context.Context, m Message) error {
	c.mu.Lock()
	cm := c.cm
	c.mu.Unlock()
	if cm == nil || !c.up.Load() {
		return ErrNotConnected
	}
	p := &paho.Publish{Topic: m.Topic, Payload: m.Payload, QoS: m.QoS, Retain: m.Retain}
	if m.ResponseTopic != "" || m.CorrelationData != nil {
		p.Properties = &paho.PublishProperties{ResponseTopic: m.ResponseTopic, CorrelationData: m.CorrelationData}
	}
	_, err := cm.Publish(ctx, p)
	return err
}
