package mgmt_test

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/controld/internal/eventstest"
	"github.com/lmx-video/lmx/controld/internal/live"
	"github.com/lmx-video/lmx/controld/internal/mgmt"
	"github.com/lmx-video/lmx/sqlstore"
)

// fakeAwake is the on-demand component as the API sees it.
type fakeAwake struct {
	mu     sync.Mutex
	awake  map[string]bool
	forgot []string
}

func (f *fakeAwake) Awake(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.awake[id]
}

func (f *fakeAwake) Forget(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.awake, id)
	f.forgot = append(f.forgot, id)
}

func startOnDemand(t *testing.T, fa *fakeAwake) *node {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	store, err := sqlstore.Open(t.Context(), filepath.Join(t.TempDir(), "lmx.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	n := &node{
		store: store, edges: &fakeEdges{}, objects: &fakeObjects{}, events: &eventstest.Recorder{}, ready: make(chan struct{}),
		live: live.New(live.Config{Segments: 3, MemoryLimit: 16 << 20}, live.Gauges{}, logger),
	}
	a := mgmt.New(mgmt.Config{PublicURL: publicURL, Defaults: mgmt.SourceDefaults{Idle: 45 * time.Second}}, mgmt.Deps{
		Store: store, Edges: n.edges, Live: n.live, Objects: n.objects, Events: n.events, Ready: n.ready, OnDemand: fa,
		Stream:  streamFunc(func(w http.ResponseWriter, _ *http.Request, _ string) {}),
		Metrics: http.NotFoundHandler(),
	}, logger)
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	n.url = srv.URL
	return n
}

// TestOnDemandSource: the API renders whether an on-demand source is
// awake, closes the live window of a streaming source turned on demand
// (nobody watches it yet), opens it again when on-demand is turned off,
// and forgets the awake state of a source turned off or removed.
func TestOnDemandSource(t *testing.T) {
	fa := &fakeAwake{awake: map[string]bool{}}
	n := startOnDemand(t, fa)
	cam := n.create(t, `{"name":"cam","segment_len":2}`)
	var r api.SourceReply
	n.ok(t, http.MethodPatch, "/v1/source/"+cam.ID, `{"edge":"edge-1"}`, &r)
	n.ok(t, http.MethodPut, "/v1/source/"+cam.ID+"/streaming?new_state=true", "", &r)
	appendOne := func() error {
		_, err := n.live.Append(cam.ID, "cam", 2, live.Arrival{Edge: "edge-1", Boot: "b", EdgeSeq: uint64(time.Now().UnixNano()), Duration: 2, Start: time.Now()}, []byte("seg"))
		return err
	}
	if err := appendOne(); err != nil {
		t.Fatal(err)
	}
	n.edges.take()

	n.ok(t, http.MethodPatch, "/v1/source/"+cam.ID, `{"on_demand":true}`, &r)
	if !r.Source.OnDemand || r.Source.Awake || r.Source.IdleSeconds != 45 {
		t.Errorf("turned on demand: on_demand %v, awake %v, idle %d; want true, false, the node's 45", r.Source.OnDemand, r.Source.Awake, r.Source.IdleSeconds)
	}
	if _, ok := n.live.Get(cam.ID); ok {
		t.Error("the live window stayed open for an on-demand source nobody watches")
	}
	if err := appendOne(); !errors.Is(err, live.ErrStreamingOff) {
		t.Errorf("an upload to the sleeping source: %v, want it refused for live", err)
	}
	if got := n.edges.take(); len(got) == 0 {
		t.Error("the edge's desired state was not republished")
	}

	fa.mu.Lock()
	fa.awake[cam.ID] = true
	fa.mu.Unlock()
	n.ok(t, http.MethodGet, "/v1/source/"+cam.ID, "", &r)
	if !r.Source.Awake {
		t.Error("an awake source rendered asleep")
	}
	// Its own idle time is shown when it has one.
	n.ok(t, http.MethodPatch, "/v1/source/"+cam.ID, `{"idle_seconds":10}`, &r)
	if r.Source.IdleSeconds != 10 {
		t.Errorf("idle_seconds %d, want 10", r.Source.IdleSeconds)
	}

	r = api.SourceReply{} // omitted fields must not linger from the last answer
	n.ok(t, http.MethodPatch, "/v1/source/"+cam.ID, `{"on_demand":false}`, &r)
	if r.Source.OnDemand || r.Source.Awake {
		t.Errorf("on-demand off: %+v", r.Source)
	}
	if err := appendOne(); err != nil {
		t.Errorf("on-demand off, streaming on: upload refused: %v", err)
	}
	n.ok(t, http.MethodPatch, "/v1/source/"+cam.ID, `{"on_demand":true}`, &r)
	n.ok(t, http.MethodPut, "/v1/source/"+cam.ID+"/streaming?new_state=false", "", &r)
	code, b := n.call(t, http.MethodDelete, "/v1/source/"+cam.ID, "")
	if code != http.StatusOK {
		t.Fatalf("delete: %d %s", code, b)
	}
	fa.mu.Lock()
	defer fa.mu.Unlock()
	if len(fa.forgot) != 3 {
		t.Errorf("forgot %v, want the source forgotten when on-demand, streaming and the source went", fa.forgot)
	}
	n.fail(t, http.MethodPatch, "/v1/source/nope", `{"idle_seconds":-1}`, http.StatusBadRequest, "idle_seconds")
}
