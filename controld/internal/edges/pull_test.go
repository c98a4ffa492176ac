package edges

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/controld/internal/eventstest"
	"github.com/lmx-video/lmx/sqlstore"
)

// pulled is a status of edge-1 pulling cam with p.
func pulled(p broker.PullStatus) broker.EdgeStatus {
	st := status("edge-1", true, time.Second, "cam")
	st.Sources[0].Pull = &p
	return st
}

// TestPullChangedEvents: a change of a pull's state or last error is one
// source.pull event with the state in words, credentials masked, even when
// the edge did not mask them; a heartbeat with the same state is none.
func TestPullChangedEvents(t *testing.T) {
	h := newHarness(t, Config{})
	const url = "rtsp://admin:hunter2@10.0.0.7/stream"
	if _, err := h.store.CreateSource(t.Context(), sqlstore.Source{Name: "cam", Edge: "edge-1", PullURL: url, Streaming: true}); err != nil {
		t.Fatal(err)
	}
	pullEvents := func() []string {
		t.Helper()
		var out []string
		for _, e := range h.events.Take() {
			if e.Kind == broker.EventPullChanged {
				if e.Event.Source != "cam" || e.Event.Edge != "edge-1" {
					t.Errorf("event %+v, want cam on edge-1", e.Event)
				}
				out = append(out, e.Event.Detail)
			}
		}
		return out
	}
	h.report(pulled(broker.PullStatus{State: "starting"}))
	if got := pullEvents(); len(got) != 1 || got[0] != "starting" {
		t.Errorf("first report: %q, want [starting]", got)
	}
	h.report(pulled(broker.PullStatus{State: "running", Video: "h264"}))
	h.report(pulled(broker.PullStatus{State: "running", Video: "h264"}))
	if got := pullEvents(); len(got) != 1 || got[0] != "running" {
		t.Errorf("running twice: %q, want one [running]", got)
	}
	// An edge that failed to mask: the password never leaves the tracker.
	leak := "[rtsp @ 0x1] method DESCRIBE failed: 401 Unauthorized rtsp://admin:hunter2@10.0.0.7/stream (hunter2)"
	h.report(pulled(broker.PullStatus{State: "backoff", Restarts: 3, LastError: leak, Warnings: []string{"retrying rtsp://x:hunter2@10.0.0.7"}}))
	got := pullEvents()
	if len(got) != 1 || !strings.HasPrefix(got[0], "backoff ×3: [rtsp @ 0x1] method DESCRIBE failed: 401 Unauthorized") {
		t.Fatalf("backoff: %q", got)
	}
	st, _, _ := h.tr.Status("edge-1")
	for _, s := range append([]string{got[0], st.Sources[0].Pull.LastError}, st.Sources[0].Pull.Warnings...) {
		if strings.Contains(s, "hunter2") {
			t.Errorf("password shown: %q", s)
		}
	}
	for _, f := range h.frames.frames {
		if strings.Contains(f, "hunter2") {
			t.Errorf("password relayed to the event stream: %s", f)
		}
	}
	// Same state, another error: an event; then refused.
	h.report(pulled(broker.PullStatus{State: "backoff", Restarts: 4, LastError: "Connection refused"}))
	h.report(pulled(broker.PullStatus{State: "refused", LastError: "audio pcm_alaw cannot be carried in HLS"}))
	if got := pullEvents(); len(got) != 2 || got[0] != "backoff ×4: Connection refused" || got[1] != "refused: audio pcm_alaw cannot be carried in HLS" {
		t.Errorf("later changes: %q", got)
	}
	// Back online after being offline: the state is said again.
	h.report(status("edge-1", false, time.Second))
	h.events.Take()
	h.report(pulled(broker.PullStatus{State: "refused", LastError: "audio pcm_alaw cannot be carried in HLS"}))
	if got := pullEvents(); len(got) != 1 {
		t.Errorf("after a reconnection: %q, want the state once", got)
	}
}

// TestRemovedNotRegistered: a name removed while pushed is not registered
// again, by a push or by a status, and the error says so and what to do;
// once added again it binds as any source.
func TestRemovedNotRegistered(t *testing.T) {
	h := newHarness(t, Config{})
	h.report(status("edge-1", true, time.Second, "cam1"))
	src, err := h.store.GetSource(t.Context(), "cam1")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.store.DeleteSourceKeepOut(t.Context(), src.ID, "ops"); err != nil {
		t.Fatal(err)
	}
	h.events.Take()
	h.now = h.now.Add(5 * time.Second)
	_, err = h.tr.BindSource(t.Context(), "edge-1", "cam1")
	if !errors.Is(err, sqlstore.ErrRemoved) || !errors.Is(err, sqlstore.ErrNotFound) {
		t.Fatalf("BindSource of a removed name: %v, want ErrRemoved and ErrNotFound", err)
	}
	for _, want := range []string{`"cam1" was removed`, "by ops", "lmx source add cam1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	h.report(status("edge-1", true, time.Second, "cam1"))
	if _, err := h.store.GetSource(t.Context(), "cam1"); !errors.Is(err, sqlstore.ErrNotFound) {
		t.Errorf("a status registered the removed cam1 again: %v", err)
	}
	wantKinds(t, eventstest.Kinds(h.events.Take()))

	if _, err := h.store.CreateSource(t.Context(), sqlstore.Source{Name: "cam1"}); err != nil {
		t.Fatal(err)
	}
	if err := h.store.ForgetRemovedSource(t.Context(), "cam1"); err != nil {
		t.Fatal(err)
	}
	if src, err := h.tr.BindSource(t.Context(), "edge-1", "cam1"); err != nil || src.Edge != "edge-1" {
		t.Errorf("after add: %+v, %v", src, err)
	}
}

// TestStaleStatusRegistersNothing: a status lists every source the edge
// has seen; one whose newest segment is older than RecentPush is not
// registered from it (removed after its push stopped, it stays removed),
// while a push (BindSource) still registers it.
func TestStaleStatusRegistersNothing(t *testing.T) {
	h := newHarness(t, Config{})
	st := status("edge-1", true, time.Second, "old", "never")
	st.Sources[0].LastSegmentAt = st.Time.Add(-RecentPush - time.Second)
	st.Sources[1].LastSegmentAt = time.Time{}
	h.report(st)
	for _, name := range []string{"old", "never"} {
		if _, err := h.store.GetSource(t.Context(), name); !errors.Is(err, sqlstore.ErrNotFound) {
			t.Errorf("%s registered from a status with no recent segment: %v", name, err)
		}
	}
	h.bus.take()
	if _, err := h.tr.BindSource(t.Context(), "edge-1", "old"); err != nil {
		t.Fatal(err)
	}
	// The new name's edge is told at once, in its desired state.
	msgs := h.bus.take()
	if len(msgs) != 1 || msgs[0].topic != broker.EdgeDesiredTopic("edge-1") || !strings.Contains(string(msgs[0].payload), `"old"`) {
		t.Errorf("after registering: published %+v, want edge-1's desired state with old", msgs)
	}
}
