package embedded

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
)

// TestManyClientsAtOnce: clients connecting and leaving at the same time
// are all served by the broker's own TCP listener.
func TestManyClientsAtOnce(t *testing.T) {
	b := startBroker(t, Config{})
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			for round := range 8 {
				id := fmt.Sprintf("edge-%d-%d", i, round)
				c, ca, err := dial(t, b, connectOpts{ID: id, User: id})
				if err != nil || ca == nil || ca.ReasonCode != rcSuccess {
					t.Errorf("%s: CONNACK %s, %v", id, connackCode(ca), err)
					return
				}
				// Leave at once, while others connect.
				_ = c.Disconnect(&paho.Disconnect{ReasonCode: rcSuccess})
				<-c.Done()
			}
		})
	}
	wg.Wait()
}

// TestCloseWhileClientsReconnect: a broker closing while its clients
// reconnect as fast as they can (edges do, within milliseconds) stops
// promptly, and no connection outlives it.
func TestCloseWhileClientsReconnect(t *testing.T) {
	b, err := New(Config{Listen: "127.0.0.1:0"}, discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- b.Run(ctx) }()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var open []net.Conn
	for i := range 4 {
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				conn, err := net.Dial("tcp", b.Addr().String())
				if err != nil {
					continue // closed: keep trying, as an edge would
				}
				c := paho.NewClient(paho.ClientConfig{ClientID: fmt.Sprintf("edge-%d-%d", i, n), Conn: conn})
				cctx, ccancel := context.WithTimeout(context.Background(), time.Second)
				_, err = c.Connect(cctx, &paho.Connect{ClientID: fmt.Sprintf("edge-%d-%d", i, n), KeepAlive: 30, CleanStart: true})
				ccancel()
				if err != nil {
					conn.Close()
					continue
				}
				mu.Lock()
				open = append(open, conn)
				mu.Unlock()
			}
		})
	}
	time.Sleep(200 * time.Millisecond) // let connections come and go
	cancel()
	select {
	case <-runDone:
	case <-time.After(3 * time.Second):
		t.Fatal("the broker did not stop within 3 s while clients reconnected")
	}
	close(stop)
	wg.Wait()
	// Every connection the broker took is closed: reading one ends.
	mu.Lock()
	defer mu.Unlock()
	for _, c := range open {
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		buf := make([]byte, 1024)
		for {
			if _, err := c.Read(buf); err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					t.Fatalf("a client connection is still open after the broker stopped")
				}
				break
			}
		}
		c.Close()
	}
}
