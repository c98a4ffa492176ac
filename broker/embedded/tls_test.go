package embedded

import (
	"crypto/tls"
	"net"
	"testing"
	"time"

	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/internal/tlsca"
	"github.com/lmx-video/lmx/internal/tlspin"
)

// startTLSBroker runs an authenticating broker on TLS with a certificate of
// a CA made for the test, and returns the CA's pin.
func startTLSBroker(t *testing.T) (*Broker, string) {
	t.Helper()
	bundle, err := tlsca.Ensure(t.TempDir(), []string{"127.0.0.1"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	b := startBroker(t, Config{TLS: bundle.ServerConfig(), Edges: newFakeEdges(), Gate: &fakeGate{}})
	return b, bundle.Pin
}

// pinned is a client configuration trusting the CA of pin only.
func pinned(t *testing.T, pin string) *tls.Config {
	t.Helper()
	cfg, err := tlspin.ClientConfig(pin, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestTLS: on a TLS listener an edge that pins the control node's CA
// connects with its credential and publishes its status; the ACL holds
// there as on plain TCP.
func TestTLS(t *testing.T) {
	b, pin := startTLSBroker(t)
	all := watch(t, b, "#")
	o := edge("gw-1", credGW1, nil)
	o.TLS = pinned(t, pin)
	s := mustDial(t, b, o)
	if rc, err := publish(t, s, broker.EdgeStatusTopic("gw-2"), "not its own", false); err == nil || rc != rcNotAuthorized {
		t.Errorf("PUBACK for another edge's status over TLS: 0x%02x, %v; want 0x%02x", rc, err, rcNotAuthorized)
	}
	status := received{broker.EdgeStatusTopic("gw-1"), "online over TLS"}
	mustPublish(t, s, status.topic, status.payload)
	waitFor(t, all, status, map[received]bool{{broker.EdgeStatusTopic("gw-2"), "not its own"}: true})

	o = edge("gw-2", "wrong", nil)
	o.TLS = pinned(t, pin)
	mustRefuse(t, b, "a wrong credential over TLS", o)
}

// TestTLSWrongPin: a client pinning another CA fails the handshake, and
// one speaking MQTT without TLS gets no CONNACK; the listener still serves
// the right client afterwards.
func TestTLSWrongPin(t *testing.T) {
	b, pin := startTLSBroker(t)
	other, err := tlsca.Ensure(t.TempDir(), []string{"127.0.0.1"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	d := &net.Dialer{Timeout: waitForBroker}
	if conn, err := tls.DialWithDialer(d, "tcp", b.Addr().String(), pinned(t, other.Pin)); err == nil {
		conn.Close()
		t.Fatal("the TLS handshake with another CA's pin succeeded")
	}
	if s, ca, err := dial(t, b, edge("gw-1", credGW1, nil)); err == nil {
		t.Fatalf("MQTT without TLS on the TLS listener: CONNACK %s; want no CONNACK", connackCode(ca))
	} else if ca != nil {
		t.Fatalf("MQTT without TLS on the TLS listener: CONNACK %s, %v; want none", connackCode(ca), err)
	} else if s == nil {
		t.Fatalf("dial: %v", err)
	}
	o := edge("gw-1", credGW1, nil)
	o.TLS = pinned(t, pin)
	mustDial(t, b, o)
}
