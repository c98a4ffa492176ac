package embedded

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/broker/client"
)

// MQTT 5 reason codes the tests expect from the broker (MQTT 5.0, 2.4).
const (
	rcSuccess           byte = 0x00 // CONNACK, PUBACK: accepted
	rcGrantedQoS1       byte = 0x01 // SUBACK: subscribed at QoS 1
	rcBadUserOrPassword byte = 0x86 // CONNACK: refused by the authenticator
	rcNotAuthorized     byte = 0x87 // PUBACK, SUBACK, DISCONNECT: the ACL said no
)

const (
	waitForBroker        = 5 * time.Second
	mqttKeepAliveSeconds = 30
)

// Edge credentials the fake authenticator knows.
const (
	credGW1 = "lmx_edge_gw1-secret"
	credGW2 = "lmx_edge_gw2-secret"
)

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// errUnknownCredential is the fake authenticator's refusal.
var errUnknownCredential = errors.New("unknown edge credential")

// fakeEdges is an EdgeAuthenticator backed by a map credential → edge.
type fakeEdges struct {
	mu    sync.Mutex
	creds map[string]string
	hold  map[string]hold // credential → pause after it was found good, once
}

// hold pauses an authentication: entered is closed once the credential was
// found good, and the answer is given when release is closed.
type hold struct {
	entered chan struct{}
	release chan struct{}
}

func newFakeEdges() *fakeEdges {
	return &fakeEdges{
		creds: map[string]string{credGW1: "gw-1", credGW2: "gw-2"},
		hold:  map[string]hold{},
	}
}

func (f *fakeEdges) AuthenticateEdge(credential string) (string, error) {
	f.mu.Lock()
	edge, ok := f.creds[credential]
	h, held := f.hold[credential]
	delete(f.hold, credential)
	f.mu.Unlock()
	if !ok {
		return "", errUnknownCredential
	}
	if held {
		close(h.entered)
		<-h.release
	}
	return edge, nil
}

// revoke makes the authenticator refuse credential from now on.
func (f *fakeEdges) revoke(credential string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.creds, credential)
}

// holdNext pauses the next authentication of credential after it was found
// good (see hold).
func (f *fakeEdges) holdNext(credential string) hold {
	h := hold{entered: make(chan struct{}), release: make(chan struct{})}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hold[credential] = h
	return h
}

// failure is one Gate.Failed call.
type failure struct {
	addr   netip.Addr
	reason string
}

// fakeGate is a Gate that records failures and blocks when told to.
type fakeGate struct {
	mu       sync.Mutex
	block    bool
	blocked  int // refusals because of block
	failures []failure
}

func (g *fakeGate) Blocked(netip.Addr) (time.Duration, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.block {
		g.blocked++
		return time.Minute, true
	}
	return 0, false
}

func (g *fakeGate) Failed(addr netip.Addr, reason string, _ error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.failures = append(g.failures, failure{addr, reason})
}

func (g *fakeGate) setBlock(b bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.block = b
}

// state is what the gate saw so far.
func (g *fakeGate) state() (failures []failure, blocked int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]failure(nil), g.failures...), g.blocked
}

// startBroker runs an embedded broker with cfg on a free loopback port
// (unless cfg says where) until the test ends.
func startBroker(t *testing.T, cfg Config) *Broker {
	t.Helper()
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	b, err := New(cfg, discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = b.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return b
}

// startAuthBroker runs a broker that authenticates edges gw-1 and gw-2 by
// their credentials, with a gate that never blocks until told to.
func startAuthBroker(t *testing.T) (*Broker, *fakeEdges, *fakeGate) {
	t.Helper()
	edges, gate := newFakeEdges(), &fakeGate{}
	return startBroker(t, Config{Edges: edges, Gate: gate}), edges, gate
}

// received is one PUBLISH a watcher got from the broker.
type received struct {
	topic   string
	payload string
}

// inlineIDs numbers the tests' inline subscriptions.
var inlineIDs atomic.Int64

// watch subscribes the control node itself (the broker's inline client) to
// filter. Retained messages are in the channel when watch returns; later
// ones follow in the order the broker publishes them.
func watch(t *testing.T, b *Broker, filter string) <-chan received {
	t.Helper()
	got := make(chan received, 256)
	if err := b.Subscribe(filter, int(inlineIDs.Add(1)), func(topic string, payload []byte) {
		got <- received{topic, string(payload)}
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

// connectOpts is what a test client puts in its CONNECT, and how it
// connects.
type connectOpts struct {
	// ID is the client id; User and Pass, when not empty, the username and
	// password (the edge credential).
	ID, User, Pass string
	// Will is the Last Will, if any.
	Will *paho.WillMessage
	// Got, when set, receives the client's PUBLISHes in the order they
	// arrive on the connection.
	Got chan<- received
	// TLS, when set, connects over TLS with this configuration.
	TLS *tls.Config
	// Hold keeps the TCP connection open when paho closes it, so that the
	// test can wait for the broker to close it (waitClosed).
	Hold bool
}

// session is a connected (or refused) test client.
type session struct {
	*paho.Client
	// conn is the client's connection, under paho.
	conn net.Conn
	// down says how the connection ended from the client's side: the
	// broker's DISCONNECT, or an error.
	down <-chan string
}

// heldConn ignores paho's Close, so the broker's close can be seen.
type heldConn struct{ net.Conn }

func (heldConn) Close() error { return nil }

// dial opens an MQTT 5 connection with the packet-level paho client and
// sends CONNECT; it returns the broker's CONNACK and Connect's error as they
// are. It may run outside the test's goroutine.
func dial(t *testing.T, b *Broker, o connectOpts) (*session, *paho.Connack, error) {
	var (
		conn net.Conn
		err  error
	)
	d := &net.Dialer{Timeout: waitForBroker}
	if o.TLS != nil {
		conn, err = tls.DialWithDialer(d, "tcp", b.Addr().String(), o.TLS)
	} else {
		conn, err = d.Dial("tcp", b.Addr().String())
	}
	if err != nil {
		return nil, nil, err
	}
	down := make(chan string, 4)
	report := func(s string) {
		select {
		case down <- s:
		default:
		}
	}
	cfg := paho.ClientConfig{
		ClientID:           o.ID,
		Conn:               conn,
		OnServerDisconnect: func(d *paho.Disconnect) { report(fmt.Sprintf("DISCONNECT 0x%02x", d.ReasonCode)) },
		OnClientError:      func(err error) { report("error: " + err.Error()) },
	}
	if o.Hold {
		cfg.Conn = heldConn{conn}
	}
	if o.Got != nil {
		got := o.Got
		cfg.OnPublishReceived = []func(paho.PublishReceived) (bool, error){
			func(pr paho.PublishReceived) (bool, error) {
				got <- received{pr.Packet.Topic, string(pr.Packet.Payload)}
				return true, nil
			},
		}
	}
	c := paho.NewClient(cfg)
	s := &session{Client: c, conn: conn, down: down}
	cp := &paho.Connect{ClientID: o.ID, KeepAlive: mqttKeepAliveSeconds, CleanStart: true, WillMessage: o.Will}
	if o.User != "" {
		cp.Username, cp.UsernameFlag = o.User, true
	}
	if o.Pass != "" {
		cp.Password, cp.PasswordFlag = []byte(o.Pass), true
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitForBroker)
	defer cancel()
	ca, err := c.Connect(ctx, cp)
	if err != nil {
		if !o.Hold {
			conn.Close()
		}
		return s, ca, err
	}
	t.Cleanup(func() {
		_ = c.Disconnect(&paho.Disconnect{ReasonCode: rcSuccess})
		<-c.Done()
		conn.Close()
	})
	return s, ca, nil
}

// connackCode shows a CONNACK's reason code, or that there was none.
func connackCode(ca *paho.Connack) string {
	if ca == nil {
		return "none"
	}
	return fmt.Sprintf("reason code 0x%02x", ca.ReasonCode)
}

// mustDial connects a client and fails the test unless the broker accepts it.
func mustDial(t *testing.T, b *Broker, o connectOpts) *session {
	t.Helper()
	s, ca, err := dial(t, b, o)
	if err != nil || ca == nil || ca.ReasonCode != rcSuccess {
		t.Fatalf("CONNACK for client id %q, username %q: %s, %v; want reason code 0x%02x", o.ID, o.User, connackCode(ca), err, rcSuccess)
	}
	return s
}

// mustRefuse connects a client and fails the test unless the broker
// answers CONNACK 0x86.
func mustRefuse(t *testing.T, b *Broker, what string, o connectOpts) *session {
	t.Helper()
	s, ca, err := dial(t, b, o)
	if err == nil {
		t.Errorf("%s: Connect succeeded (CONNACK %s); want it refused", what, connackCode(ca))
		return s
	}
	if ca == nil || ca.ReasonCode != rcBadUserOrPassword {
		t.Errorf("%s: CONNACK %s, %v; want reason code 0x%02x (bad username or password)", what, connackCode(ca), err, rcBadUserOrPassword)
	}
	return s
}

// edge is how edge NAME connects with its credential.
func edge(name, credential string, got chan<- received) connectOpts {
	return connectOpts{ID: ClientIDPrefix + name, User: name, Pass: credential, Got: got}
}

// publish sends a QoS 1 message and returns the reason code of the
// broker's PUBACK (Publish also returns an error for codes from 0x80).
func publish(t *testing.T, c *session, topic, payload string, retain bool) (byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitForBroker)
	defer cancel()
	pr, err := c.Publish(ctx, &paho.Publish{Topic: topic, Payload: []byte(payload), QoS: 1, Retain: retain})
	if pr == nil {
		t.Fatalf("publish %s: no PUBACK: %v", topic, err)
	}
	return pr.ReasonCode, err
}

// mustPublish publishes at QoS 1 and fails the test unless PUBACK is 0.
func mustPublish(t *testing.T, c *session, topic, payload string) {
	t.Helper()
	if rc, err := publish(t, c, topic, payload, false); err != nil || rc != rcSuccess {
		t.Fatalf("PUBACK for %s (%s): 0x%02x, %v; want 0x%02x", topic, payload, rc, err, rcSuccess)
	}
}

// subscribe sends SUBSCRIBE for one filter at QoS 1 and returns the reason
// code of the broker's SUBACK.
func subscribe(t *testing.T, c *session, filter string) (byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitForBroker)
	defer cancel()
	sa, err := c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: filter, QoS: 1}}})
	if sa == nil || len(sa.Reasons) != 1 {
		t.Fatalf("subscribe %s: no SUBACK with one reason code: %+v, %v", filter, sa, err)
	}
	return sa.Reasons[0], err
}

// mustSubscribe subscribes at QoS 1 and fails the test unless it is granted.
func mustSubscribe(t *testing.T, c *session, filter string) {
	t.Helper()
	if rc, err := subscribe(t, c, filter); err != nil || rc != rcGrantedQoS1 {
		t.Fatalf("SUBACK for %s: 0x%02x, %v; want 0x%02x", filter, rc, err, rcGrantedQoS1)
	}
}

// inlinePublish publishes as the control node.
func inlinePublish(t *testing.T, b *Broker, topic, payload string, retain bool) {
	t.Helper()
	if err := b.Publish(topic, []byte(payload), retain, 1); err != nil {
		t.Fatal(err)
	}
}

// waitFor reads got until want arrives and fails if anything listed in
// never arrives first. A broker delivers what it accepts from one
// publisher, and the control node's own publishes, in order, so a message
// published before want and not seen by the time want arrives was not
// delivered.
func waitFor(t *testing.T, got <-chan received, want received, never map[received]bool) {
	t.Helper()
	timeout := time.After(waitForBroker)
	for {
		select {
		case m := <-got:
			if never[m] {
				t.Fatalf("the broker delivered %s %q, which it should have refused, before %s %q", m.topic, m.payload, want.topic, want.payload)
			}
			if m == want {
				return
			}
		case <-timeout:
			t.Fatalf("%s %q was not delivered", want.topic, want.payload)
		}
	}
}

// waitDown waits until the client sees its connection end, and returns how.
func waitDown(t *testing.T, s *session, what string) string {
	t.Helper()
	select {
	case how := <-s.down:
		return how
	case <-time.After(waitForBroker):
		t.Fatalf("%s: the client's connection is still up", what)
	}
	return ""
}

// waitClosed reads a held connection until the broker closes it.
func waitClosed(t *testing.T, s *session) {
	t.Helper()
	defer s.conn.Close()
	_ = s.conn.SetReadDeadline(time.Now().Add(waitForBroker))
	_, err := io.Copy(io.Discard, s.conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("the broker did not close a refused connection")
	}
}

// TestAuthOff: without an authenticator (--auth none) the broker accepts a
// client without a password or an edge's client id, and lets it write
// another edge's status and read everything.
func TestAuthOff(t *testing.T) {
	b := startBroker(t, Config{})
	got := make(chan received, 16)
	watcher := mustDial(t, b, connectOpts{ID: "watcher", Got: got})
	mustSubscribe(t, watcher, "#")
	c := mustDial(t, b, connectOpts{ID: "anything"})
	status := received{broker.EdgeStatusTopic("gw-2"), "written by anyone"}
	mustPublish(t, c, status.topic, status.payload)
	waitFor(t, got, status, nil)
}

// TestNewNeedsGate: authenticating edges without a gate is a configuration
// error, as is no listen address.
func TestNewNeedsGate(t *testing.T) {
	if _, err := New(Config{Listen: "127.0.0.1:0", Edges: newFakeEdges()}, discard); !errors.Is(err, ErrNoGate) {
		t.Errorf("New with Edges and no Gate: %v; want ErrNoGate", err)
	}
	if _, err := New(Config{}, discard); !errors.Is(err, ErrNoListen) {
		t.Errorf("New without Listen: %v; want ErrNoListen", err)
	}
}

// TestEdgeClient: lmx's own client, connecting as edged does (client id
// lmx-edge-NAME, its credential, a Last Will on its own status), gets its
// connection up and receives its desired state.
func TestEdgeClient(t *testing.T) {
	b, _, _ := startAuthBroker(t)
	up := make(chan struct{}, 1)
	c, err := client.New(client.Config{
		URL: "mqtt://" + b.Addr().String(), ClientID: ClientIDPrefix + "gw-1", Username: "gw-1", Password: credGW1,
		Will: &client.Message{Topic: broker.EdgeStatusTopic("gw-1"), Payload: []byte("offline"), QoS: broker.StatusQoS, Retain: true},
		OnUp: func() {
			select {
			case up <- struct{}{}:
			default:
			}
		},
	}, discard)
	if err != nil {
		t.Fatal(err)
	}
	desired := make(chan string, 4)
	c.Subscribe(broker.EdgeDesiredTopic("gw-1"), broker.DesiredQoS, func(m client.Message) { desired <- string(m.Payload) })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = c.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	select {
	case <-up:
	case <-time.After(waitForBroker):
		t.Fatal("lmx's client with the edge's credential did not connect")
	}
	inlinePublish(t, b, broker.EdgeDesiredTopic("gw-1"), "desired", true)
	select {
	case p := <-desired:
		if p != "desired" {
			t.Fatalf("desired state %q; want %q", p, "desired")
		}
	case <-time.After(waitForBroker):
		t.Fatal("lmx's client did not receive its desired state")
	}
}
