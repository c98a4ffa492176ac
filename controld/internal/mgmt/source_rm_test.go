package mgmt_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/controld/internal/edges"
	"github.com/lmx-video/lmx/controld/internal/mgmt"
	"github.com/lmx-video/lmx/sqlstore"
)

// TestRemovePushedSource: a source its edge pushes right now is not removed
// (409, saying by which edge, how long ago, and what to do); with force it
// is, and neither the edge's next push nor its heartbeats register it
// again; adding it again takes it back.
func TestRemovePushedSource(t *testing.T) {
	n := startReal(t, mgmt.Config{}, edges.Config{})
	n.report("gw-a", true, time.Second, "cam1") // registered by its push
	before := n.okSource(t, http.MethodGet, api.Expand(api.PathSource, "cam1"), "")

	e := n.refused(t, http.MethodDelete, api.Expand(api.PathSource, "cam1"), "", http.StatusConflict,
		`source "cam1" is still being pushed by edge "gw-a" (last segment 1s ago)`,
		"stop the push", "lmx source rm cam1 --force", "lmx source add cam1", "--no-auto-register")
	if !strings.Contains(e.Detail, "--force") {
		t.Errorf("the what-to-do is not in the detail: %+v", e)
	}
	if got := n.okSource(t, http.MethodGet, api.Expand(api.PathSource, "cam1"), ""); got.ID != before.ID {
		t.Errorf("after a refused removal: %+v, want the same source", got)
	}
	n.refused(t, http.MethodDelete, api.Expand(api.PathSource, "cam1")+"?force=maybe", "", http.StatusBadRequest, `force "maybe"`)

	n.events.Take()
	if code, b := n.send(t, http.MethodDelete, api.Expand(api.PathSource, "cam1")+"?force=true", ""); code != http.StatusOK {
		t.Fatalf("forced removal: %d %s", code, b)
	}
	if ev := n.wantEvents(t, broker.EventSourceRemoved); len(ev) == 1 && !strings.Contains(ev[0].Event.Detail, "not registered again") {
		t.Errorf("source.removed %+v", ev[0].Event)
	}
	if _, ok := n.bus.desired(t, "gw-a").Sources["cam1"]; ok {
		t.Error("gw-a's desired state still lists cam1")
	}
	// The push goes on: its heartbeat and its next upload or registration.
	n.report("gw-a", true, 0, "cam1")
	_, err := n.tracker.BindSource(t.Context(), "gw-a", "cam1")
	if !errors.Is(err, sqlstore.ErrRemoved) || !strings.Contains(err.Error(), "lmx source add cam1") {
		t.Errorf("a push of the removed name: %v, want it refused as removed", err)
	}
	n.refused(t, http.MethodGet, api.Expand(api.PathSource, "cam1"), "", http.StatusNotFound)
	n.wantEvents(t)

	// Added again, as the message says: it is taken once more.
	added := n.okSource(t, http.MethodPost, api.PathSources, `{"name":"cam1"}`)
	if added.ID == before.ID {
		t.Error("the new cam1 has the old id")
	}
	if src, err := n.tracker.BindSource(t.Context(), "gw-a", "cam1"); err != nil || src.Edge != "gw-a" {
		t.Errorf("after lmx source add: %+v, %v", src, err)
	}
	if _, err := n.store.GetRemovedSource(t.Context(), "cam1"); !errors.Is(err, sqlstore.ErrNotFound) {
		t.Errorf("the removal record outlived the add: %v", err)
	}
}

// TestRemoveSourceNotPushed: a source whose push stopped, whose edge is
// offline, or whose live window is its only sign of life long ago, goes
// without force; a later heartbeat listing it does not bring it back.
func TestRemoveSourceNotPushed(t *testing.T) {
	n := startReal(t, mgmt.Config{}, edges.Config{})
	n.report("gw-a", true, 0, "stale", "gone-edge")
	n.report("gw-a", true, 30*time.Second, "stale", "gone-edge")
	if code, b := n.send(t, http.MethodDelete, api.Expand(api.PathSource, "stale"), ""); code != http.StatusOK {
		t.Fatalf("removing a source pushed 30 s ago: %d %s", code, b)
	}
	n.report("gw-a", true, 30*time.Second, "stale", "gone-edge")
	n.refused(t, http.MethodGet, api.Expand(api.PathSource, "stale"), "", http.StatusNotFound)

	n.report("gw-a", false, 0, "gone-edge")
	if code, b := n.send(t, http.MethodDelete, api.Expand(api.PathSource, "gone-edge"), ""); code != http.StatusOK {
		t.Fatalf("removing a source of an offline edge: %d %s", code, b)
	}
}

// TestRemovePushedSourceNoAutoRegister: with --no-auto-register a push
// never registers a name, so removing a pushed source needs no force.
func TestRemovePushedSourceNoAutoRegister(t *testing.T) {
	n := startReal(t, mgmt.Config{NoAutoRegister: true}, edges.Config{NoAutoRegister: true})
	n.okSource(t, http.MethodPost, api.PathSources, `{"name":"cam1"}`)
	n.report("gw-a", true, 0, "cam1")
	if code, b := n.send(t, http.MethodDelete, api.Expand(api.PathSource, "cam1"), ""); code != http.StatusOK {
		t.Fatalf("%d %s", code, b)
	}
	n.report("gw-a", true, 0, "cam1")
	n.refused(t, http.MethodGet, api.Expand(api.PathSource, "cam1"), "", http.StatusNotFound)
}

// TestRemovePulledSource: a pulled source is removed while its edge runs
// ffmpeg for it, without force: its desired state no longer lists it, so
// the edge stops the process; a last push of that ffmpeg, or a heartbeat
// listing it, does not register it again as a pushed source.
func TestRemovePulledSource(t *testing.T) {
	n := startReal(t, mgmt.Config{}, edges.Config{})
	n.report("gw-a", true, 0)
	n.okSource(t, http.MethodPost, api.PathSources, `{"name":"cam-0","pull_url":"`+camURL+`"}`)
	n.report("gw-a", true, 0, "cam-0") // ffmpeg pushes it into the edge
	n.events.Take()
	if code, b := n.send(t, http.MethodDelete, api.Expand(api.PathSource, "cam-0"), ""); code != http.StatusOK {
		t.Fatalf("%d %s", code, b)
	}
	if ev := n.wantEvents(t, broker.EventSourceRemoved); len(ev) == 1 && !strings.HasPrefix(ev[0].Event.Detail, "pull stopped") {
		t.Errorf("source.removed %+v", ev[0].Event)
	}
	if _, ok := n.bus.desired(t, "gw-a").Sources["cam-0"]; ok {
		t.Error("gw-a's desired state still lists cam-0: its ffmpeg would keep running")
	}
	n.report("gw-a", true, 0, "cam-0")
	if _, err := n.tracker.BindSource(t.Context(), "gw-a", "cam-0"); !errors.Is(err, sqlstore.ErrRemoved) {
		t.Errorf("a last push of the removed pulled source: %v, want it refused", err)
	}
	n.refused(t, http.MethodGet, api.Expand(api.PathSource, "cam-0"), "", http.StatusNotFound)
	n.noSecret(t, camPassword, "gw-a")
}
