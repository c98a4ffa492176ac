package mgmt_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/controld/internal/edges"
	"github.com/lmx-video/lmx/controld/internal/eventstest"
	"github.com/lmx-video/lmx/controld/internal/live"
	"github.com/lmx-video/lmx/controld/internal/mgmt"
	"github.com/lmx-video/lmx/internal/syncbuf"
	"github.com/lmx-video/lmx/sqlstore"
)

// The tests of pulled sources and of removing a pushed source run the API
// on a real store and a real edge tracker (its MQTT side recorded), so
// edge statuses go the way they go in the node: through OnStatus.

// recordingBus keeps what the tracker publishes.
type recordingBus struct {
	mu   sync.Mutex
	msgs map[string][]byte // newest payload per topic
	all  []string          // every payload, in order
}

func (b *recordingBus) Publish(topic string, payload []byte, _ bool, _ byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.msgs == nil {
		b.msgs = map[string][]byte{}
	}
	b.msgs[topic] = append([]byte(nil), payload...)
	b.all = append(b.all, topic+" "+string(payload))
	return nil
}

// desired is the newest desired state published for edge.
func (b *recordingBus) desired(t *testing.T, edge string) broker.Desired {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var d broker.Desired
	if p, ok := b.msgs[broker.EdgeDesiredTopic(edge)]; ok {
		if err := json.Unmarshal(p, &d); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

type nopFrames struct{}

func (nopFrames) Publish(string, []byte) {}

// realNode is the API over a real store and tracker.
type realNode struct {
	node
	tracker *edges.Tracker
	bus     *recordingBus
	logs    *syncbuf.Buffer
	bodies  []string // every answer the test read
}

func startReal(t *testing.T, cfg mgmt.Config, trackerCfg edges.Config) *realNode {
	t.Helper()
	logs := &syncbuf.Buffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	store, err := sqlstore.Open(t.Context(), filepath.Join(t.TempDir(), "lmx.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	n := &realNode{bus: &recordingBus{}, logs: logs}
	n.node = node{store: store, objects: &fakeObjects{}, events: &eventstest.Recorder{}, ready: make(chan struct{}),
		live: live.New(live.Config{Segments: 3, MemoryLimit: 16 << 20}, live.Gauges{}, logger)}
	n.tracker = edges.New(trackerCfg, store, n.bus, n.events, nopFrames{}, prometheus.NewGauge(prometheus.GaugeOpts{Name: "online"}), logger)
	cfg.PublicURL = publicURL
	a := mgmt.New(cfg, mgmt.Deps{
		Store: store, Edges: n.tracker, Live: n.live, Objects: n.objects, Events: n.events,
		Stream:  streamFunc(func(w http.ResponseWriter, _ *http.Request, _ string) {}),
		Metrics: http.NotFoundHandler(), Ready: n.ready,
	}, logger)
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	n.url = srv.URL
	return n
}

// report feeds the tracker edge's status: online, pushing each of pushed
// with a segment age ago (0: just now).
func (n *realNode) report(edge string, online bool, age time.Duration, pushed ...string) {
	now := time.Now().UTC()
	st := broker.EdgeStatus{V: broker.Version, Edge: edge, Online: online, Time: now, HeartbeatEvery: broker.Duration(time.Second)}
	for _, s := range pushed {
		st.Sources = append(st.Sources, broker.SourceStatus{Name: s, Streaming: true, LastSegmentAt: now.Add(-age)})
	}
	n.reportStatus(st)
}

func (n *realNode) reportStatus(st broker.EdgeStatus) {
	n.tracker.OnStatus(broker.EdgeStatusTopic(st.Edge), broker.Encode(st))
}

// send is node.call that keeps the answer for the leak checks.
func (n *realNode) send(t *testing.T, method, path, body string) (int, []byte) {
	t.Helper()
	code, b := n.call(t, method, path, body)
	n.bodies = append(n.bodies, string(b))
	return code, b
}

// okSource sends a request that must answer a source.
func (n *realNode) okSource(t *testing.T, method, path, body string) api.Source {
	t.Helper()
	code, b := n.send(t, method, path, body)
	if code != http.StatusOK {
		t.Fatalf("%s %s %s: %d\n%s", method, path, body, code, b)
	}
	var r api.SourceReply
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r.Source
}

// refused sends a request that must fail with code, its message naming
// every part; it returns the error.
func (n *realNode) refused(t *testing.T, method, path, body string, code int, parts ...string) api.Error {
	t.Helper()
	got, b := n.send(t, method, path, body)
	var env api.Envelope
	if err := json.Unmarshal(b, &env); err != nil || got != code || env.Error == nil {
		t.Fatalf("%s %s %s: %d %s, want %d with an error", method, path, body, got, b, code)
	}
	for _, p := range parts {
		if !strings.Contains(env.Error.Message+" "+env.Error.Detail, p) {
			t.Errorf("%s %s: error %+v does not mention %q", method, path, env.Error, p)
		}
	}
	return *env.Error
}

// noSecret fails t if secret shows in any answer read, any event emitted,
// any log line, or any control-plane message but the desired states of
// owners, the edges that pull it (the only place the camera's credentials
// may go).
func (n *realNode) noSecret(t *testing.T, secret string, owners ...string) {
	t.Helper()
	for _, b := range n.bodies {
		if strings.Contains(b, secret) {
			t.Errorf("an API answer shows the password: %s", b)
		}
	}
	for _, e := range n.events.Events() {
		if strings.Contains(fmt.Sprintf("%+v", e), secret) {
			t.Errorf("an event shows the password: %+v", e)
		}
	}
	if strings.Contains(n.logs.String(), secret) {
		t.Errorf("the log shows the password:\n%s", n.logs.String())
	}
	n.bus.mu.Lock()
	defer n.bus.mu.Unlock()
	for _, m := range n.bus.all {
		if !strings.Contains(m, secret) {
			continue
		}
		topic, _, _ := strings.Cut(m, " ")
		if !slices.ContainsFunc(owners, func(o string) bool { return topic == broker.EdgeDesiredTopic(o) }) {
			t.Errorf("a control-plane message other than the desired state of %v shows the password: %s", owners, m)
		}
	}
}

const (
	camPassword = "hunter2sekrit"
	camURL      = "rtsp://admin:" + camPassword + "@10.0.0.7:554/stream"
	camMasked   = "rtsp://admin:xxxxx@10.0.0.7:554/stream"
)

// TestPullSourceEdgeChoice: a pulled source with no edge named goes to the
// one edge online; with none or several online it is refused, saying
// which edges there are and how to name one.
func TestPullSourceEdgeChoice(t *testing.T) {
	n := startReal(t, mgmt.Config{}, edges.Config{})
	body := func(name, edge string) string {
		b, _ := json.Marshal(api.NewSource{Name: name, PullURL: camURL, Edge: edge})
		return string(b)
	}
	n.refused(t, http.MethodPost, api.PathSources, body("cam-0", ""), http.StatusBadRequest, "no edge is online", "lmx edge add")
	n.refused(t, http.MethodPost, api.PathSources, body("cam-0", "gw-typo"), http.StatusBadRequest, `edge "gw-typo" is not known`)

	n.report("gw-a", true, 0)
	src := n.okSource(t, http.MethodPost, api.PathSources, body("cam-0", ""))
	if src.Edge != "gw-a" || src.PullURL != camMasked || !src.IsStreaming() {
		t.Errorf("with one edge online: %+v, want on gw-a, streaming, URL masked", src)
	}
	d := n.bus.desired(t, "gw-a")
	if ds, ok := d.Sources["cam-0"]; !ok || ds.PullURL != camURL || !ds.Stream {
		t.Errorf("gw-a's desired state %+v: want cam-0 streaming with its pull URL", d)
	}

	n.report("gw-b", true, 0)
	n.refused(t, http.MethodPost, api.PathSources, body("cam-1", ""), http.StatusBadRequest, "2 edges are online (gw-a, gw-b)", "--edge")
	src = n.okSource(t, http.MethodPost, api.PathSources, body("cam-1", "gw-b"))
	if src.Edge != "gw-b" {
		t.Errorf("named edge: %+v", src)
	}
	if _, ok := n.bus.desired(t, "gw-a").Sources["cam-1"]; ok {
		t.Error("cam-1's pull URL went to gw-a too")
	}
	// An edge offline does not count: back to one online.
	n.report("gw-b", false, 0)
	if src := n.okSource(t, http.MethodPost, api.PathSources, body("cam-2", "")); src.Edge != "gw-a" {
		t.Errorf("with gw-b offline: %+v, want gw-a", src)
	}
	n.noSecret(t, camPassword, "gw-a", "gw-b")
}

// TestPullSourceMasked: create and patch with a pull URL, list, get, the
// edge list with the edge's pull report: the password shows in no answer,
// event or log line, only in the bound edge's desired state; clearing the
// URL takes it out of the desired state.
func TestPullSourceMasked(t *testing.T) {
	n := startReal(t, mgmt.Config{}, edges.Config{})
	n.report("gw-a", true, 0)
	n.okSource(t, http.MethodPost, api.PathSources, `{"name":"cam-0","pull_url":"`+camURL+`"}`)
	added := n.events.Events()
	if len(added) == 0 || added[len(added)-1].Kind != broker.EventSourceAdded || added[len(added)-1].Event.Detail != "pull "+camMasked {
		t.Errorf("events %+v, want source.added with the masked URL", added)
	}

	// The edge reports its ffmpeg, with an error line it failed to mask.
	now := time.Now().UTC()
	n.reportStatus(broker.EdgeStatus{V: broker.Version, Edge: "gw-a", Online: true, Time: now, Sources: []broker.SourceStatus{{
		Name: "cam-0", Streaming: true, LastSegmentAt: now,
		Pull: &broker.PullStatus{State: "backoff", Since: now, Restarts: 3, Video: "h264",
			LastError: "method DESCRIBE failed: 401 Unauthorized " + camURL, Warnings: []string{"audio pcm_alaw dropped (" + camPassword + ")"}},
	}}})
	src := n.okSource(t, http.MethodGet, api.Expand(api.PathSource, "cam-0"), "")
	if src.Pull == nil || src.Pull.State != api.PullBackoff || src.Pull.Restarts != 3 || src.Pull.Video != "h264" ||
		!strings.Contains(src.Pull.LastError, "401 Unauthorized "+camMasked) || len(src.Pull.Warnings) != 1 {
		t.Errorf("pull state %+v", src.Pull)
	}
	var edgesReply api.EdgesReply
	code, b := n.send(t, http.MethodGet, api.PathEdges, "")
	if err := json.Unmarshal(b, &edgesReply); code != http.StatusOK || err != nil {
		t.Fatalf("GET /v1/edge: %d %v", code, err)
	}
	if len(edgesReply.Edges) != 1 || len(edgesReply.Edges[0].Sources) != 1 || edgesReply.Edges[0].Sources[0].Pull == nil ||
		edgesReply.Edges[0].Sources[0].Pull.State != api.PullBackoff {
		t.Errorf("edge view %+v: want cam-0's pull in backoff", edgesReply.Edges)
	}
	var pullEvents []string
	for _, e := range n.events.Events() {
		if e.Kind == broker.EventPullChanged {
			pullEvents = append(pullEvents, e.Event.Detail)
		}
	}
	if len(pullEvents) != 1 || !strings.HasPrefix(pullEvents[0], "backoff ×3: method DESCRIBE failed: 401 Unauthorized") {
		t.Errorf("pull events %q", pullEvents)
	}

	// A pushed source made pulled, then the URL changed, then cleared.
	n.okSource(t, http.MethodPost, api.PathSources, `{"name":"door"}`)
	src = n.okSource(t, http.MethodPatch, api.Expand(api.PathSource, "door"), `{"pull_url":"srt://10.0.0.8:9000?mode=caller&passphrase=`+camPassword+`"}`)
	if src.Edge != "gw-a" || src.PullURL != "srt://10.0.0.8:9000?mode=caller&passphrase=xxxxx" {
		t.Errorf("patched: %+v", src)
	}
	if ds := n.bus.desired(t, "gw-a").Sources["door"]; !strings.Contains(ds.PullURL, camPassword) {
		t.Errorf("desired state of door %+v: want the real URL", ds)
	}
	src = n.okSource(t, http.MethodPatch, api.Expand(api.PathSource, "door"), `{"pull_url":""}`)
	if src.PullURL != "" || src.Pull != nil {
		t.Errorf("cleared: %+v", src)
	}
	if ds := n.bus.desired(t, "gw-a").Sources["door"]; ds.PullURL != "" {
		t.Errorf("desired state after clearing: %+v", ds)
	}
	var list api.SourcesReply
	code, b = n.send(t, http.MethodGet, api.PathSources, "")
	if err := json.Unmarshal(b, &list); code != http.StatusOK || err != nil || len(list.Sources) != 2 {
		t.Fatalf("list: %d %v %s", code, err, b)
	}
	for _, e := range n.events.Events() {
		if e.Kind == broker.EventSourceChanged && strings.Contains(e.Event.Detail, "pull srt://") && !strings.Contains(e.Event.Detail, "passphrase=xxxxx") {
			t.Errorf("source.changed %+v", e.Event)
		}
	}
	n.noSecret(t, camPassword, "gw-a")
}

// TestPullURLRefused: what ffmpeg must never read, and what is not a URL,
// is refused with a 400 that names the problem and not the password.
func TestPullURLRefused(t *testing.T) {
	n := startReal(t, mgmt.Config{}, edges.Config{})
	n.report("gw-a", true, 0)
	n.okSource(t, http.MethodPost, api.PathSources, `{"name":"cam"}`)
	for _, c := range []struct{ url, says string }{
		{"file:///etc/passwd", `scheme "file"`},
		{"concat:rtsp://u:" + camPassword + "@a|file:///etc/shadow", "concat"},
		{"subfile:,,start,0,end,0,,:/etc/passwd", "subfile"},
		{"rtsp://admin:" + camPassword + "@/stream", "no host"},
		{"rtsp://admin:" + camPassword + "@cam/\r\nx", "control character"},
		{"rtsp://admin:" + camPassword + "@cam/" + strings.Repeat("a", 2100), "over 2048"},
		{"/dev/video0", "no scheme"},
	} {
		b, _ := json.Marshal(api.NewSource{Name: "new", PullURL: c.url, Edge: "gw-a"})
		n.refused(t, http.MethodPost, api.PathSources, string(b), http.StatusBadRequest, "pull_url", c.says)
		b, _ = json.Marshal(map[string]string{"pull_url": c.url})
		n.refused(t, http.MethodPatch, api.Expand(api.PathSource, "cam"), string(b), http.StatusBadRequest, "pull_url", c.says)
	}
	if _, err := n.store.GetSource(t.Context(), "new"); err == nil {
		t.Error("a refused source was created")
	}
	n.noSecret(t, camPassword, "gw-a")
}
