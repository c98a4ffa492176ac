package controld

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/lmx-video/lmx/broker/embedded"
)

// TestExternalBroker runs the control node and the edge against a broker of
// their own (here a standalone mochi), as with --broker in production.
func TestExternalBroker(t *testing.T) {
	b, err := embedded.New(embedded.Config{Listen: "127.0.0.1:0"}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	n := startNode(t, func(c *Config) { c.Broker = "mqtt://" + b.Addr().String() })
	n.pushSegments(t, "cam", 0, 2)
	if code, m, _ := do(t, http.MethodPut, n.api+"/v1/source/cam/streaming?new_state=true", ""); code != 200 {
		t.Fatalf("streaming on: %d %v", code, m)
	}
	eventually(t, "edge to confirm streaming through the external broker", 15*time.Second, func() bool {
		_, m, _ := do(t, http.MethodGet, n.api+"/v1/source/cam", "")
		return m.Source.EdgeStreaming && m.Source.EdgeOnline
	})
	eventually(t, "live playlist", 10*time.Second, func() bool {
		code, _, _ := do(t, http.MethodGet, n.vod+"/v1/vod/live/cam/vid.m3u8", "")
		return code == 200
	})
}
