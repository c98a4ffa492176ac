package embedded

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	mqtt "github.com/mochi-mqtt/server/v2"

	"github.com/lmx-video/lmx/broker"
)

// TestConnectCredential: an edge connects with its credential, as
// lmx-edge-NAME, with its name as username or none; a wrong credential, no
// credential, or the credential with something appended get CONNACK 0x86.
func TestConnectCredential(t *testing.T) {
	b, _, _ := startAuthBroker(t)
	for _, c := range []struct{ name, pass string }{
		{"wrong credential", "wrong"},
		{"no credential", ""},
		{"credential with a suffix", credGW1 + "x"},
		{"credential cut short", credGW1[:len(credGW1)-1]},
	} {
		mustRefuse(t, b, c.name, connectOpts{ID: ClientIDPrefix + "gw-1", User: "gw-1", Pass: c.pass})
	}
	s := mustDial(t, b, edge("gw-1", credGW1, nil))
	_ = s.Disconnect(&paho.Disconnect{ReasonCode: rcSuccess})
	<-s.Done()
	mustDial(t, b, connectOpts{ID: ClientIDPrefix + "gw-1", Pass: credGW1})
}

// TestConnectIdentity: a credential is good only for its own edge's client
// id and username. Another edge's credential presented under edge A's
// client id is refused, and A, connected meanwhile, keeps its session: it
// still receives its desired state published afterwards.
func TestConnectIdentity(t *testing.T) {
	b, _, _ := startAuthBroker(t)
	got := make(chan received, 16)
	a := mustDial(t, b, edge("gw-1", credGW1, got))
	mustSubscribe(t, a, broker.EdgeDesiredTopic("gw-1"))

	for _, c := range []struct {
		name string
		o    connectOpts
	}{
		{"gw-2's credential as lmx-edge-gw-1", connectOpts{ID: ClientIDPrefix + "gw-1", Pass: credGW2}},
		{"gw-2's credential as lmx-edge-gw-1, username gw-2", connectOpts{ID: ClientIDPrefix + "gw-1", User: "gw-2", Pass: credGW2}},
		{"gw-2's credential as lmx-edge-gw-1, username gw-1", connectOpts{ID: ClientIDPrefix + "gw-1", User: "gw-1", Pass: credGW2}},
		{"gw-1's credential, username gw-2", connectOpts{ID: ClientIDPrefix + "gw-1", User: "gw-2", Pass: credGW1}},
		{"gw-1's credential as lmx-edge-gw-2", connectOpts{ID: ClientIDPrefix + "gw-2", User: "gw-2", Pass: credGW1}},
		{"client id without the prefix", connectOpts{ID: "gw-1", User: "gw-1", Pass: credGW1}},
		{"client id with a suffix", connectOpts{ID: ClientIDPrefix + "gw-1x", User: "gw-1", Pass: credGW1}},
		{"client id in upper case", connectOpts{ID: "LMX-EDGE-gw-1", User: "gw-1", Pass: credGW1}},
		{"no client id (assigned by the broker)", connectOpts{User: "gw-1", Pass: credGW1}},
	} {
		mustRefuse(t, b, c.name, c.o)
	}

	after := received{broker.EdgeDesiredTopic("gw-1"), "after the takeover attempts"}
	inlinePublish(t, b, after.topic, after.payload, false)
	waitFor(t, got, after, nil)
	select {
	case how := <-a.down:
		t.Fatalf("edge gw-1's connection ended (%s) when other clients tried its client id", how)
	default:
	}
}

// TestConnectWill: an edge's Last Will may only be its own status. A will on
// any other topic is refused at CONNECT, and the broker, closing the refused
// connection, publishes none of them: the control node's message on the
// same topics, published once the broker closed them, arrives first.
func TestConnectWill(t *testing.T) {
	b, _, _ := startAuthBroker(t)
	all := watch(t, b, "#")
	never := map[received]bool{}
	for _, topic := range []string{
		broker.EdgeDesiredTopic("gw-1"),
		broker.EdgeCmdTopic("gw-1"),
		broker.EdgeCmdReplyTopic("gw-1"),
		broker.EdgeStatusTopic("gw-2"),
		broker.EdgeDesiredTopic("gw-2"),
		broker.EventsTopic,
		"elsewhere/x",
	} {
		will := received{topic, "a will on " + topic}
		never[will] = true
		o := edge("gw-1", credGW1, nil)
		o.Will = &paho.WillMessage{Topic: will.topic, Payload: []byte(will.payload), QoS: 1, Retain: true}
		o.Hold = true
		s := mustRefuse(t, b, "a will on "+topic, o)
		waitClosed(t, s)
	}
	for m := range never {
		after := received{m.topic, "after the refused wills"}
		inlinePublish(t, b, after.topic, after.payload, false)
		waitFor(t, all, after, never)
	}
}

// TestOwnStatusWill: a will on the edge's own status is accepted and, when
// the edge's connection drops without DISCONNECT, published and retained:
// the control node subscribing afterwards gets it.
func TestOwnStatusWill(t *testing.T) {
	b, _, _ := startAuthBroker(t)
	live := watch(t, b, broker.EdgeStatusFilter)
	will := received{broker.EdgeStatusTopic("gw-1"), `{"v":1,"edge":"gw-1","online":false}`}
	o := edge("gw-1", credGW1, nil)
	o.Will = &paho.WillMessage{Topic: will.topic, Payload: []byte(will.payload), QoS: broker.StatusQoS, Retain: true}
	s := mustDial(t, b, o)
	online := received{will.topic, "online"}
	mustPublish(t, s, online.topic, online.payload)
	waitFor(t, live, online, nil)

	s.conn.Close() // the edge's network goes away
	waitFor(t, live, will, nil)
	select {
	case m := <-watch(t, b, will.topic):
		if m != will {
			t.Fatalf("retained %s %q; want the will %q", m.topic, m.payload, will.payload)
		}
	default:
		t.Fatalf("the will on %s was not retained", will.topic)
	}
}

// TestOnWillKeepsOwnStatus: were a will changed after CONNECT, the hook
// puts it back on the client's own status, retained, saying it is offline.
func TestOnWillKeepsOwnStatus(t *testing.T) {
	h := &authHook{edges: newFakeEdges(), gate: &fakeGate{}}
	cl := &mqtt.Client{}
	cl.Properties.Username = []byte("gw-1")
	w, err := h.OnWill(cl, mqtt.Will{TopicName: broker.EdgeDesiredTopic("gw-2"), Payload: []byte("planted"), Qos: 1})
	if err != nil {
		t.Fatal(err)
	}
	if w.TopicName != broker.EdgeStatusTopic("gw-1") || !w.Retain {
		t.Fatalf("will on %s (retain %v); want %s, retained", w.TopicName, w.Retain, broker.EdgeStatusTopic("gw-1"))
	}
	var st broker.EdgeStatus
	if err := broker.Decode(w.Payload, &st); err != nil || st.Edge != "gw-1" || st.Online {
		t.Fatalf("will payload %s (%v); want gw-1 offline", w.Payload, err)
	}
	own := mqtt.Will{TopicName: broker.EdgeStatusTopic("gw-1"), Payload: []byte("mine"), Qos: 1}
	if w, _ := h.OnWill(cl, own); w.TopicName != own.TopicName || string(w.Payload) != "mine" {
		t.Fatalf("own-status will changed to %s %q", w.TopicName, w.Payload)
	}
}

// TestGate: every CONNECT refused for its credential, identity or will is
// reported to the gate with the client's address and why; an accepted one
// is not. While the gate blocks the address, even the right credential is
// refused, and that refusal is the gate's own (counted by Blocked, not
// reported as a new failure).
func TestGate(t *testing.T) {
	b, _, gate := startAuthBroker(t)
	loopback := netip.MustParseAddr("127.0.0.1")
	badWill := edge("gw-1", credGW1, nil)
	badWill.Will = &paho.WillMessage{Topic: broker.EdgeDesiredTopic("gw-2"), Payload: []byte("x"), QoS: 1}
	for _, c := range []struct {
		name   string
		o      connectOpts
		reason string
	}{
		{"wrong credential", connectOpts{ID: ClientIDPrefix + "gw-1", User: "gw-1", Pass: "wrong"}, "credential"},
		{"no credential", connectOpts{ID: ClientIDPrefix + "gw-1", User: "gw-1"}, "credential"},
		{"another edge's client id", connectOpts{ID: ClientIDPrefix + "gw-1", Pass: credGW2}, "identity"},
		{"another edge's username", connectOpts{ID: ClientIDPrefix + "gw-1", User: "gw-2", Pass: credGW1}, "identity"},
		{"a will elsewhere", badWill, "will"},
	} {
		before, _ := gate.state()
		mustRefuse(t, b, c.name, c.o)
		after, _ := gate.state()
		want := failure{loopback, c.reason}
		if len(after) != len(before)+1 || after[len(after)-1] != want {
			t.Errorf("%s: the gate saw %v after %v; want one more failure %v", c.name, after, before, want)
		}
	}

	before, _ := gate.state()
	s := mustDial(t, b, edge("gw-1", credGW1, nil))
	if after, _ := gate.state(); len(after) != len(before) {
		t.Errorf("an accepted CONNECT was reported as failed: %v", after[len(before):])
	}
	_ = s.Disconnect(&paho.Disconnect{ReasonCode: rcSuccess})
	<-s.Done()

	gate.setBlock(true)
	mustRefuse(t, b, "the right credential while blocked", edge("gw-1", credGW1, nil))
	failures, blocked := gate.state()
	if blocked != 1 {
		t.Errorf("the gate refused %d CONNECTs; want 1", blocked)
	}
	if len(failures) != len(before) {
		t.Errorf("a blocked CONNECT was reported as a new failure: %v", failures[len(before):])
	}
	gate.setBlock(false)
	mustDial(t, b, edge("gw-1", credGW1, nil))
}

// TestDisconnectEdge: DisconnectEdge closes the edge's session (the client
// gets DISCONNECT and its connection ends), counts it, and the edge's
// credential, now refused by the authenticator, gets CONNACK 0x86. Another
// edge keeps its session: it receives its desired state published after.
func TestDisconnectEdge(t *testing.T) {
	b, edges, _ := startAuthBroker(t)
	gw1 := mustDial(t, b, edge("gw-1", credGW1, nil))
	got2 := make(chan received, 16)
	gw2 := mustDial(t, b, edge("gw-2", credGW2, got2))
	mustSubscribe(t, gw2, broker.EdgeDesiredTopic("gw-2"))

	edges.revoke(credGW1)
	if n := b.DisconnectEdge("gw-1"); n != 1 {
		t.Errorf("DisconnectEdge(gw-1) = %d; want 1", n)
	}
	if how := waitDown(t, gw1, "after DisconnectEdge(gw-1)"); strings.HasPrefix(how, "DISCONNECT") && how != "DISCONNECT 0x87" {
		t.Errorf("gw-1 got %s; want DISCONNECT 0x%02x (not authorized)", how, rcNotAuthorized)
	}
	select {
	case <-gw1.Done():
	case <-time.After(waitForBroker):
		t.Fatal("gw-1's client is not done after the broker closed its session")
	}
	mustRefuse(t, b, "gw-1's revoked credential", edge("gw-1", credGW1, nil))
	if n := b.DisconnectEdge("gw-1"); n != 0 {
		t.Errorf("DisconnectEdge(gw-1) again = %d; want 0", n)
	}
	if n := b.DisconnectEdge("nobody"); n != 0 {
		t.Errorf("DisconnectEdge(nobody) = %d; want 0", n)
	}

	after := received{broker.EdgeDesiredTopic("gw-2"), "after gw-1 was cut off"}
	inlinePublish(t, b, after.topic, after.payload, false)
	waitFor(t, got2, after, nil)
	select {
	case how := <-gw2.down:
		t.Fatalf("gw-2's connection ended (%s) when gw-1 was disconnected", how)
	default:
	}
}

// TestRevokedWhileConnecting: a client whose credential was good when the
// broker checked it, but revoked before its session was in place (so
// DisconnectEdge did not find it), does not keep that session.
func TestRevokedWhileConnecting(t *testing.T) {
	b, edges, _ := startAuthBroker(t)
	h := edges.holdNext(credGW1)
	type result struct {
		s   *session
		ca  *paho.Connack
		err error
	}
	res := make(chan result, 1)
	go func() {
		s, ca, err := dial(t, b, edge("gw-1", credGW1, nil))
		res <- result{s, ca, err}
	}()
	select {
	case <-h.entered:
	case <-time.After(waitForBroker):
		t.Fatal("the broker did not authenticate the client")
	}
	edges.revoke(credGW1)
	if n := b.DisconnectEdge("gw-1"); n != 0 {
		t.Fatalf("DisconnectEdge(gw-1) = %d while the client was being authenticated; want 0", n)
	}
	close(h.release)
	r := <-res
	switch {
	case r.s == nil:
		t.Fatalf("dial: %v", r.err)
	case r.err == nil:
		// CONNACK 0x00 (the credential was good when checked): the session
		// must end at once.
		if how := waitDown(t, r.s, "the session of a credential revoked while it connected"); strings.HasPrefix(how, "DISCONNECT") && how != "DISCONNECT 0x87" {
			t.Errorf("the client got %s; want DISCONNECT 0x%02x (not authorized)", how, rcNotAuthorized)
		}
	case r.ca == nil || r.ca.ReasonCode != rcBadUserOrPassword:
		t.Fatalf("CONNACK %s, %v; want 0x00 then DISCONNECT, or 0x%02x", connackCode(r.ca), r.err, rcBadUserOrPassword)
	}
	mustRefuse(t, b, "gw-1's revoked credential", edge("gw-1", credGW1, nil))
}
