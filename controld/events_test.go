package controld

import (
	"context"
	"testing"
	"time"

	"github.com/lmx-video/lmx/api"
)

func TestEventStream(t *testing.T) {
	n := startNode(t, nil)
	c, err := api.NewClient(n.api, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	kinds := make(chan string, 64)
	go func() {
		_ = c.FollowEvents(ctx, func(ev api.StreamEvent) { kinds <- ev.Kind })
	}()
	want := func(kind string) {
		t.Helper()
		for {
			select {
			case k := <-kinds:
				if k == kind {
					return
				}
			case <-ctx.Done():
				t.Fatalf("no %q event", kind)
			}
		}
	}
	want("hello")
	want("edge.status") // the edge's heartbeat
	if _, err := c.CreateSource(ctx, api.NewSource{Name: "cam-ev"}); err != nil {
		t.Fatal(err)
	}
	want("source.added")
	if _, err := c.SetStreaming(ctx, "cam-ev", true); err != nil {
		t.Fatal(err)
	}
	want("source.streaming")
}
