package embedded

import (
	"context"
	"testing"

	"github.com/eclipse/paho.golang/paho"

	"github.com/lmx-video/lmx/broker"
)

// TestACLPublish: an edge may write only its own status and command
// replies. Every other QoS 1 publish gets PUBACK 0x87 and goes nowhere: the
// control node, watching every topic, receives the edge's allowed messages
// published afterwards and none of the refused ones before them; edge gw-2,
// which the refused messages aimed at, receives the control node's own
// messages published after that and none of the refused ones first; and a
// refused retained message does not replace the retained desired state.
func TestACLPublish(t *testing.T) {
	b, _, _ := startAuthBroker(t)
	legit := received{broker.EdgeDesiredTopic("gw-2"), "gw-2's desired state"}
	inlinePublish(t, b, legit.topic, legit.payload, true)
	all := watch(t, b, "#")
	got2 := make(chan received, 64)
	gw2 := mustDial(t, b, edge("gw-2", credGW2, got2))
	mustSubscribe(t, gw2, broker.EdgeDesiredTopic("gw-2"))
	mustSubscribe(t, gw2, broker.EdgeCmdTopic("gw-2"))
	waitFor(t, got2, legit, nil)
	gw1 := mustDial(t, b, edge("gw-1", credGW1, nil))

	denied := map[received]bool{}
	for _, m := range []received{
		{broker.EdgeStatusTopic("gw-2"), "another edge's status"},
		{broker.EdgeCmdReplyTopic("gw-2"), "another edge's reply"},
		{broker.EdgeDesiredTopic("gw-2"), "another edge's desired state"},
		{broker.EdgeCmdTopic("gw-2"), "a command to another edge"},
		{broker.EdgeDesiredTopic("gw-1"), "its own desired state"},
		{broker.EdgeCmdTopic("gw-1"), "a command to itself"},
		{broker.EdgeStatusTopic("gw-1") + "/x", "below its own status"},
		{broker.Prefix + "/edges/gw-1", "its edge's root"},
		{broker.EventsTopic, "an event"},
		{"elsewhere/x", "a topic outside lmx"},
	} {
		rc, err := publish(t, gw1, m.topic, m.payload, true)
		if err == nil || rc != rcNotAuthorized {
			t.Errorf("PUBACK for %s (%s): 0x%02x, %v; want 0x%02x (not authorized)", m.topic, m.payload, rc, err, rcNotAuthorized)
		}
		denied[m] = true
	}
	// At QoS 0 there is no PUBACK to refuse: the message is dropped.
	qos0 := received{broker.EdgeCmdTopic("gw-2"), "a command to another edge at QoS 0"}
	if _, err := gw1.Client.Publish(context.Background(), &paho.Publish{Topic: qos0.topic, Payload: []byte(qos0.payload)}); err != nil {
		t.Fatal(err)
	}
	denied[qos0] = true

	reply := received{broker.EdgeCmdReplyTopic("gw-1"), "its own reply"}
	status := received{broker.EdgeStatusTopic("gw-1"), "its own status"}
	mustPublish(t, gw1, reply.topic, reply.payload)
	mustPublish(t, gw1, status.topic, status.payload)
	waitFor(t, all, reply, denied)
	waitFor(t, all, status, denied)

	// gw-1's refused messages were handled before its status, which the
	// control node has seen: anything they sent gw-2 is queued before this.
	for _, topic := range []string{broker.EdgeDesiredTopic("gw-2"), broker.EdgeCmdTopic("gw-2")} {
		after := received{topic, "from the control node"}
		inlinePublish(t, b, after.topic, after.payload, false)
		waitFor(t, got2, after, denied)
	}

	select {
	case m := <-watch(t, b, legit.topic):
		if m != legit {
			t.Fatalf("retained on %s: %q; want %q", m.topic, m.payload, legit.payload)
		}
	default:
		t.Fatalf("nothing retained on %s", legit.topic)
	}
}

// TestACLSubscribe: an edge may read only its own desired state and
// commands. Any other filter, wildcards and events included, gets SUBACK
// 0x87 and delivers nothing: another edge's retained desired state, which
// the broker would send right after a granted SUBACK, does not arrive before
// the edge's own, asked for later; nor do the control node's messages on
// the refused filters before its message to the edge.
func TestACLSubscribe(t *testing.T) {
	b, _, _ := startAuthBroker(t)
	other := received{broker.EdgeDesiredTopic("gw-2"), "gw-2's desired state"}
	own := received{broker.EdgeDesiredTopic("gw-1"), "gw-1's desired state"}
	inlinePublish(t, b, other.topic, other.payload, true)
	inlinePublish(t, b, own.topic, own.payload, true)
	inlinePublish(t, b, broker.EdgeStatusTopic("gw-2"), "gw-2's status", true)

	got := make(chan received, 64)
	gw1 := mustDial(t, b, edge("gw-1", credGW1, got))
	for _, filter := range []string{
		broker.EdgeDesiredTopic("gw-2"),
		broker.EdgeCmdTopic("gw-2"),
		broker.EdgeStatusTopic("gw-2"),
		broker.Prefix + "/edges/+/desired",
		broker.Prefix + "/edges/gw-1/#",
		broker.EdgeStatusTopic("gw-1"),
		broker.EdgeCmdReplyTopic("gw-1"),
		broker.EdgeStatusFilter,
		broker.Prefix + "/#",
		"#",
		"+/v1/edges/gw-2/desired",
		"$share/g/" + broker.EdgeDesiredTopic("gw-2"),
		broker.EventsTopic,
	} {
		if rc, err := subscribe(t, gw1, filter); err == nil || rc != rcNotAuthorized {
			t.Errorf("SUBACK for %s: 0x%02x, %v; want 0x%02x (not authorized)", filter, rc, err, rcNotAuthorized)
		}
	}
	never := map[received]bool{other: true, {broker.EdgeStatusTopic("gw-2"), "gw-2's status"}: true}
	mustSubscribe(t, gw1, broker.EdgeDesiredTopic("gw-1"))
	waitFor(t, got, own, never)
	mustSubscribe(t, gw1, broker.EdgeCmdTopic("gw-1"))

	for _, m := range []received{
		{broker.EdgeDesiredTopic("gw-2"), "gw-2's new desired state"},
		{broker.EdgeCmdTopic("gw-2"), "a command to gw-2"},
		{broker.EventsTopic, "an event"},
	} {
		inlinePublish(t, b, m.topic, m.payload, false)
		never[m] = true
	}
	cmd := received{broker.EdgeCmdTopic("gw-1"), "a command to gw-1"}
	inlinePublish(t, b, cmd.topic, cmd.payload, false)
	waitFor(t, got, cmd, never)
}
