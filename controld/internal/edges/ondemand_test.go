package edges

import (
	"testing"
	"time"

	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/sqlstore"
)

// awakeSet is a fake of the on-demand component.
type awakeSet map[string]bool

func (a awakeSet) Awake(id string) bool { return a[id] }

// TestDesiredOnDemand: an on-demand source streams in its edge's desired
// state only while awake, and then with a backfill of a full live
// playlist; a plain source is unaffected.
func TestDesiredOnDemand(t *testing.T) {
	h := newHarness(t, Config{LiveSegments: 5})
	ctx := t.Context()
	for _, s := range []sqlstore.Source{
		{Name: "cam", Edge: "edge-1", Streaming: true, OnDemand: true, SegmentLen: 2},
		{Name: "auto", Edge: "edge-1", Streaming: true, OnDemand: true}, // segment length unknown: 2 s
		{Name: "off", Edge: "edge-1", Streaming: false, OnDemand: true},
		{Name: "plain", Edge: "edge-1", Streaming: true},
	} {
		if _, err := h.store.CreateSource(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	id := func(name string) string {
		src, err := h.store.GetSource(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		return src.ID
	}
	desired := func() map[string]broker.DesiredSource {
		t.Helper()
		h.tr.PublishDesired(ctx, "edge-1")
		msgs := h.bus.take()
		if len(msgs) != 1 {
			t.Fatalf("published %d messages, want 1", len(msgs))
		}
		var d broker.Desired
		if err := broker.Decode(msgs[0].payload, &d); err != nil {
			t.Fatal(err)
		}
		return d.Sources
	}
	check := func(what string, got map[string]broker.DesiredSource, name string, stream bool, backfill time.Duration) {
		t.Helper()
		if ds := got[name]; ds.Stream != stream || time.Duration(ds.Backfill) != backfill {
			t.Errorf("%s: %s stream=%v backfill=%v, want %v and %v", what, name, ds.Stream, time.Duration(ds.Backfill), stream, backfill)
		}
	}

	// Without the on-demand component every on-demand source sleeps.
	d := desired()
	check("no component", d, "cam", false, 0)
	check("no component", d, "plain", true, 0)

	awake := awakeSet{}
	h.tr.SetAwake(awake)
	d = desired()
	check("asleep", d, "cam", false, 0)
	check("asleep", d, "auto", false, 0)
	check("asleep", d, "plain", true, 0)

	awake[id("cam")], awake[id("auto")], awake[id("off")] = true, true, true
	d = desired()
	// Five listed segments of 2 s, and the one being written.
	check("awake", d, "cam", true, 12*time.Second)
	check("awake", d, "auto", true, 12*time.Second)
	// Awake does not override streaming off.
	check("awake", d, "off", false, 0)
	check("awake", d, "plain", true, 0)

	delete(awake, id("cam"))
	d = desired()
	check("asleep again", d, "cam", false, 0)
	check("asleep again", d, "auto", true, 12*time.Second)
}
