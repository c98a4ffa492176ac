package embedded

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/broker/client"
)

// TestTokenAndACL runs the embedded broker with a token and real MQTT
// clients: a wrong token is refused, and an edge may write only its own
// status.
func TestTokenAndACL(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	b, err := New(Config{Listen: "127.0.0.1:0", Token: "s3cret"}, logger)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go b.Run(ctx)
	got := make(chan string, 16)
	if err := b.Subscribe(broker.EdgeStatusFilter, 1, func(topic string, _ []byte) { got <- topic }); err != nil {
		t.Fatal(err)
	}
	dial := func(user, pass string) *client.Client {
		c, err := client.New(client.Config{URL: "mqtt://" + b.Addr().String(), ClientID: "lmx-edge-" + user + pass, Username: user, Password: pass}, logger)
		if err != nil {
			t.Fatal(err)
		}
		cctx, ccancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { _ = c.Run(cctx); close(done) }()
		t.Cleanup(func() { ccancel(); <-done })
		return c
	}
	good, bad := dial("gw-1", "s3cret"), dial("gw-2", "wrong")
	deadline := time.Now().Add(5 * time.Second)
	for !good.Connected() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !good.Connected() {
		t.Fatal("a client with the token did not connect")
	}
	time.Sleep(300 * time.Millisecond)
	if bad.Connected() {
		t.Fatal("a client with a wrong token connected")
	}
	pub := func(topic string) {
		pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
		defer pcancel()
		_ = good.Publish(pctx, client.Message{Topic: topic, Payload: []byte("{}"), QoS: 1})
	}
	pub(broker.EdgeStatusTopic("gw-2")) // another edge's status: denied
	pub(broker.EdgeStatusTopic("gw-1")) // its own: allowed
	select {
	case topic := <-got:
		if topic != broker.EdgeStatusTopic("gw-1") {
			t.Fatalf("the broker delivered %s: an edge wrote another edge's status", topic)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("an edge's own status was not delivered")
	}
	select {
	case topic := <-got:
		t.Fatalf("unexpected delivery of %s", topic)
	case <-time.After(200 * time.Millisecond):
	}
}
