package embedded

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
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
	rcBadUserOrPassword byte = 0x86 // CONNACK: the password is not the token
	rcNotAuthorized     byte = 0x87 // PUBACK, SUBACK: the ACL said no
)

const (
	testToken            = "s3cret"
	waitForBroker        = 5 * time.Second
	mqttKeepAliveSeconds = 30
)

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// startBroker runs an embedded broker on a free loopback port until the
// test ends.
func startBroker(t *testing.T, token string) *Broker {
	t.Helper()
	b, err := New(Config{Listen: "127.0.0.1:0", Token: token}, discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = b.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return b
}

// received is one PUBLISH a test client got from the broker.
type received struct {
	topic   string
	payload string
}

// dial opens an MQTT 5 connection with the packet-level paho client and
// sends CONNECT; it returns the broker's CONNACK and Connect's error as they
// are. An empty user or pass leaves that field out of CONNECT. Messages the
// client receives go to got, in the order they arrive on the connection.
func dial(t *testing.T, b *Broker, id, user, pass string, got chan<- received) (*paho.Client, *paho.Connack, error) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", b.Addr().String(), waitForBroker)
	if err != nil {
		t.Fatal(err)
	}
	cfg := paho.ClientConfig{ClientID: id, Conn: conn}
	if got != nil {
		cfg.OnPublishReceived = []func(paho.PublishReceived) (bool, error){
			func(pr paho.PublishReceived) (bool, error) {
				got <- received{pr.Packet.Topic, string(pr.Packet.Payload)}
				return true, nil
			},
		}
	}
	c := paho.NewClient(cfg)
	cp := &paho.Connect{ClientID: id, KeepAlive: mqttKeepAliveSeconds, CleanStart: true}
	if user != "" {
		cp.Username, cp.UsernameFlag = user, true
	}
	if pass != "" {
		cp.Password, cp.PasswordFlag = []byte(pass), true
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitForBroker)
	defer cancel()
	ca, err := c.Connect(ctx, cp)
	if err != nil {
		conn.Close()
		return c, ca, err
	}
	t.Cleanup(func() {
		_ = c.Disconnect(&paho.Disconnect{ReasonCode: rcSuccess})
		<-c.Done()
	})
	return c, ca, nil
}

// connackCode shows a CONNACK's reason code, or that there was none.
func connackCode(ca *paho.Connack) string {
	if ca == nil {
		return "none"
	}
	return fmt.Sprintf("reason code 0x%02x", ca.ReasonCode)
}

// mustDial connects a client that presents the token and fails the test
// unless the broker accepts it.
func mustDial(t *testing.T, b *Broker, id, user string, got chan<- received) *paho.Client {
	t.Helper()
	c, ca, err := dial(t, b, id, user, testToken, got)
	if err != nil || ca == nil || ca.ReasonCode != rcSuccess {
		t.Fatalf("CONNACK for %s with the token: %s, %v; want reason code 0x%02x", user, connackCode(ca), err, rcSuccess)
	}
	return c
}

// publish sends a QoS 1 message and returns the reason code of the
// broker's PUBACK (Publish also returns an error for codes from 0x80).
func publish(t *testing.T, c *paho.Client, topic, payload string) (byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitForBroker)
	defer cancel()
	pr, err := c.Publish(ctx, &paho.Publish{Topic: topic, Payload: []byte(payload), QoS: 1})
	if pr == nil {
		t.Fatalf("publish %s: no PUBACK: %v", topic, err)
	}
	return pr.ReasonCode, err
}

// subscribe sends SUBSCRIBE for one filter at QoS 1 and returns the reason
// code of the broker's SUBACK.
func subscribe(t *testing.T, c *paho.Client, filter string) (byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitForBroker)
	defer cancel()
	sa, err := c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: filter, QoS: 1}}})
	if sa == nil || len(sa.Reasons) != 1 {
		t.Fatalf("subscribe %s: no SUBACK with one reason code: %+v, %v", filter, sa, err)
	}
	return sa.Reasons[0], err
}

// waitFor reads got until want arrives and fails if anything listed in
// never arrives first. A broker delivers the messages of one connection in
// the order it accepted them, so a message published before want and not
// seen by the time want arrives was not delivered.
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

// TestTokenRefusesWrongPassword: with a token set, the broker answers a
// CONNECT without the token with CONNACK 0x86 and one with it with 0x00.
func TestTokenRefusesWrongPassword(t *testing.T) {
	b := startBroker(t, testToken)
	for _, c := range []struct{ name, pass string }{
		{"wrong password", "wrong"},
		{"no password", ""},
		{"token with a suffix", testToken + "x"},
	} {
		_, ca, err := dial(t, b, "lmx-edge-gw-2", "gw-2", c.pass, nil)
		if err == nil {
			t.Errorf("%s: Connect succeeded (CONNACK %s); want it refused", c.name, connackCode(ca))
			continue
		}
		if ca == nil || ca.ReasonCode != rcBadUserOrPassword {
			t.Errorf("%s: CONNACK %s, %v; want reason code 0x%02x (bad username or password)", c.name, connackCode(ca), err, rcBadUserOrPassword)
		}
	}
	mustDial(t, b, "lmx-edge-gw-1", "gw-1", nil)
}

// TestTokenClient: lmx's own client, given the token, gets its connection
// up (OnUp runs only after a successful CONNACK).
func TestTokenClient(t *testing.T) {
	b := startBroker(t, testToken)
	up := make(chan struct{}, 1)
	c, err := client.New(client.Config{
		URL: "mqtt://" + b.Addr().String(), ClientID: "lmx-edge-gw-1", Username: "gw-1", Password: testToken,
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
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = c.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	select {
	case <-up:
	case <-time.After(waitForBroker):
		t.Fatal("lmx's client with the token did not connect")
	}
}

// TestACLPublish: an edge may write only its own status and command
// replies. The broker answers every other QoS 1 publish with PUBACK 0x87,
// and a subscriber to all lmx topics, which receives the edge's allowed
// status published afterwards, never receives the refused ones before it.
func TestACLPublish(t *testing.T) {
	b := startBroker(t, testToken)
	got := make(chan received, 64)
	watcher := mustDial(t, b, "lmx-watcher", "watcher", got)
	if rc, err := subscribe(t, watcher, broker.Prefix+"/#"); err != nil || rc != rcGrantedQoS1 {
		t.Fatalf("SUBACK for %s/#: 0x%02x, %v; want 0x%02x", broker.Prefix, rc, err, rcGrantedQoS1)
	}
	edge := mustDial(t, b, "lmx-edge-gw-1", "gw-1", nil)

	denied := map[received]bool{}
	for _, m := range []received{
		{broker.EdgeStatusTopic("gw-2"), "another edge's status"},
		{broker.EdgeCmdReplyTopic("gw-2"), "another edge's reply"},
		{broker.EdgeDesiredTopic("gw-1"), "its own desired state"},
		{broker.EdgeCmdTopic("gw-1"), "a command to itself"},
		{broker.EventsTopic, "an event"},
		{"elsewhere/x", "a topic outside lmx"},
	} {
		rc, err := publish(t, edge, m.topic, m.payload)
		if err == nil || rc != rcNotAuthorized {
			t.Errorf("PUBACK for %s (%s): 0x%02x, %v; want 0x%02x (not authorized)", m.topic, m.payload, rc, err, rcNotAuthorized)
		}
		denied[m] = true
	}
	for _, m := range []received{
		{broker.EdgeCmdReplyTopic("gw-1"), "its own reply"},
		{broker.EdgeStatusTopic("gw-1"), "its own status"},
	} {
		if rc, err := publish(t, edge, m.topic, m.payload); err != nil || rc != rcSuccess {
			t.Fatalf("PUBACK for %s (%s): 0x%02x, %v; want 0x%02x", m.topic, m.payload, rc, err, rcSuccess)
		}
	}
	waitFor(t, got, received{broker.EdgeCmdReplyTopic("gw-1"), "its own reply"}, denied)
	waitFor(t, got, received{broker.EdgeStatusTopic("gw-1"), "its own status"}, denied)
}

// TestACLSubscribe: a client may read lmx topics only. The broker answers a
// subscription outside them with SUBACK 0x87 and delivers nothing on it: a
// message there, published before one on an lmx topic the client reads,
// does not arrive before that one.
func TestACLSubscribe(t *testing.T) {
	b := startBroker(t, testToken)
	got := make(chan received, 64)
	watcher := mustDial(t, b, "lmx-watcher", "watcher", got)
	if rc, err := subscribe(t, watcher, "elsewhere/#"); err == nil || rc != rcNotAuthorized {
		t.Errorf("SUBACK for elsewhere/#: 0x%02x, %v; want 0x%02x (not authorized)", rc, err, rcNotAuthorized)
	}
	if rc, err := subscribe(t, watcher, broker.EventsTopic); err != nil || rc != rcGrantedQoS1 {
		t.Fatalf("SUBACK for %s: 0x%02x, %v; want 0x%02x", broker.EventsTopic, rc, err, rcGrantedQoS1)
	}
	outside := received{"elsewhere/x", "outside lmx"}
	event := received{broker.EventsTopic, "an event"}
	for _, m := range []received{outside, event} {
		if err := b.Publish(m.topic, []byte(m.payload), false, 1); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, got, event, map[received]bool{outside: true})
}

// TestNoToken: without a token the broker accepts a client with no
// password and lets it write any topic.
func TestNoToken(t *testing.T) {
	b := startBroker(t, "")
	c, ca, err := dial(t, b, "lmx-edge-gw-1", "", "", nil)
	if err != nil || ca == nil || ca.ReasonCode != rcSuccess {
		t.Fatalf("CONNACK without a password: %s, %v; want reason code 0x%02x", connackCode(ca), err, rcSuccess)
	}
	if rc, err := publish(t, c, broker.EdgeStatusTopic("gw-2"), "{}"); err != nil || rc != rcSuccess {
		t.Fatalf("PUBACK for another edge's status without a token: 0x%02x, %v; want 0x%02x", rc, err, rcSuccess)
	}
}
