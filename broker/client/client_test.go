package client_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/packets"

	"github.com/lmx-video/lmx/broker/client"
	"github.com/lmx-video/lmx/broker/embedded"
	"github.com/lmx-video/lmx/internal/syncbuf"
	"github.com/lmx-video/lmx/internal/tlsca"
	"github.com/lmx-video/lmx/internal/tlspin"
)

// tlsBroker is an embedded broker behind a TLS listener on 127.0.0.1 with
// a certificate of the control node's own CA, as an mqtts:// URL.
func tlsBroker(t *testing.T) (url string, ca *tlsca.Bundle) {
	t.Helper()
	b, err := embedded.New(embedded.Config{Listen: "127.0.0.1:0"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = b.Run(ctx); close(done) }()
	ca, err = tlsca.Ensure(t.TempDir(), []string{"127.0.0.1"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", ca.ServerConfig())
	if err != nil {
		t.Fatal(err)
	}
	var conns sync.WaitGroup
	conns.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Go(func() {
				defer c.Close()
				up, err := net.Dial("tcp", b.Addr().String())
				if err != nil {
					return
				}
				defer up.Close()
				go func() { _, _ = io.Copy(up, c); up.Close() }()
				_, _ = io.Copy(c, up)
			})
		}
	})
	t.Cleanup(func() {
		ln.Close()
		cancel()
		<-done
		conns.Wait()
	})
	return "mqtts://" + ln.Addr().String(), ca
}

// connect runs a client with cfg for up to wait and reports whether its
// connection came up, and what it logged.
func connect(t *testing.T, cfg client.Config, wait time.Duration) (bool, string) {
	t.Helper()
	up := make(chan struct{}, 1)
	cfg.ClientID = "lmx-edge-gw-1"
	cfg.OnUp = func() {
		select {
		case up <- struct{}{}:
		default:
		}
	}
	var logs syncbuf.Buffer
	c, err := client.New(cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = c.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	select {
	case <-up:
		return true, logs.String()
	case <-time.After(wait):
		return false, logs.String()
	}
}

// TestTLSPinned: over mqtts:// the client uses the TLS configuration it is
// given: trusting the pinned CA it connects, with another pin it does not,
// and says why once at warn.
func TestTLSPinned(t *testing.T) {
	url, ca := tlsBroker(t)
	pinned, err := tlspin.ClientConfig(ca.Pin, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if ok, logs := connect(t, client.Config{URL: url, TLS: pinned}, 10*time.Second); !ok {
		t.Fatalf("no connection with the right pin:\n%s", logs)
	}

	other, err := tlsca.Ensure(t.TempDir(), []string{"127.0.0.1"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	wrong, err := tlspin.ClientConfig(other.Pin, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	ok, logs := connect(t, client.Config{URL: url, TLS: wrong}, 2*time.Second)
	if ok {
		t.Fatal("connected with the pin of another CA")
	}
	if n := strings.Count(logs, "level=WARN msg=\"mqtt connect failed; retrying with backoff\""); n != 1 || !strings.Contains(logs, "pinned") {
		t.Errorf("a connection refused for its pin: %d warnings, want 1, naming the pin:\n%s", n, logs)
	}

	// Without a configuration: the system's roots, which do not know the CA.
	if ok, logs := connect(t, client.Config{URL: url}, time.Second); ok {
		t.Fatalf("connected to a private CA with the system's roots:\n%s", logs)
	}
}

func TestTLSNeedsTLSURL(t *testing.T) {
	_, err := client.New(client.Config{URL: "mqtt://127.0.0.1:1883", TLS: &tls.Config{}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if !errors.Is(err, client.ErrBadURL) {
		t.Errorf("TLS with mqtt://: %v, want ErrBadURL", err)
	}
	for _, u := range []string{"mqtts://127.0.0.1", "tls://127.0.0.1:8883", "ssl://127.0.0.1:8883"} {
		if _, err := client.New(client.Config{URL: u, TLS: &tls.Config{}}, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
			t.Errorf("TLS with %s: %v", u, err)
		}
	}
}

// refusingBroker answers every CONNECT with a CONNACK of reason code rc, as
// a broker that does not take the login does, and returns its mqtt:// URL.
func refusingBroker(t *testing.T, rc byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				if _, err := packets.ReadPacket(c); err != nil {
					return
				}
				ack := packets.NewControlPacket(packets.CONNACK)
				ack.Content.(*packets.Connack).ReasonCode = rc
				_, _ = ack.WriteTo(c)
			}()
		}
	}()
	return "mqtt://" + ln.Addr().String()
}

// TestLoginRefused: a refused login is logged once at warn saying what the
// broker's reason code means, never with the password.
func TestLoginRefused(t *testing.T) {
	const pw = "the-password-of-this-client"
	for rc, want := range map[byte]string{
		0x86: `refused="bad username or password (CONNACK 0x86)`,
		0x87: `refused="not authorized (CONNACK 0x87)`,
	} {
		ok, logs := connect(t, client.Config{URL: refusingBroker(t, rc), Username: "gw-1", Password: pw}, time.Second)
		if ok {
			t.Fatalf("0x%02x: connected", rc)
		}
		if n := strings.Count(logs, `level=WARN msg="mqtt connect failed; retrying with backoff"`); n != 1 || !strings.Contains(logs, want) {
			t.Errorf("0x%02x: %d warnings, want 1 saying %s:\n%s", rc, n, want, logs)
		}
		if strings.Contains(logs, pw) {
			t.Errorf("0x%02x: the password is in the log:\n%s", rc, logs)
		}
	}
	// Other failures say nothing of a refusal.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	if _, logs := connect(t, client.Config{URL: "mqtt://" + addr}, 500*time.Millisecond); strings.Contains(logs, "refused=") {
		t.Errorf("a closed port: %s", logs)
	}
}
