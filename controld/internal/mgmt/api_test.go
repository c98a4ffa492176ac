package mgmt_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/controld/internal/eventstest"
	"github.com/lmx-video/lmx/controld/internal/live"
	"github.com/lmx-video/lmx/controld/internal/mgmt"
	"github.com/lmx-video/lmx/sqlstore"
)

// fakeEdges answers a canned status for "edge-1" and records PublishDesired.
type fakeEdges struct {
	mu        sync.Mutex
	published []string
}

var seen = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

func (e *fakeEdges) Status(edge string) (broker.EdgeStatus, time.Time, bool) {
	if edge != "edge-1" {
		return broker.EdgeStatus{}, time.Time{}, false
	}
	return broker.EdgeStatus{Edge: edge, Online: true, Sources: []broker.SourceStatus{
		{Name: "cam", Streaming: true, BitrateBPS: 1234, BufferedSeconds: 30, Uploaded: 7},
		{Name: "other", BitrateBPS: 99},
	}}, seen, true
}

func (e *fakeEdges) LastPush(string) time.Time { return time.Time{} }

func (e *fakeEdges) PublishDesired(_ context.Context, edges ...string) {
	for _, edge := range edges {
		e.publishOne(edge)
	}
}

func (e *fakeEdges) publishOne(edge string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.published = append(e.published, edge)
}

// take returns and forgets the edges published for so far.
func (e *fakeEdges) take() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.published
	e.published = nil
	return p
}

type fakeObjects struct {
	mu      sync.Mutex
	removed [][]string
}

func (o *fakeObjects) RemoveObjects(_ context.Context, keys []string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.removed = append(o.removed, slices.Clone(keys))
	return len(keys)
}

const publicURL = "https://tv.example"

// streamFunc is an mgmt.EventStream made of a function.
type streamFunc func(w http.ResponseWriter, r *http.Request, owner string)

func (f streamFunc) ServeFor(w http.ResponseWriter, r *http.Request, owner string, _ time.Time, _ func() bool) {
	f(w, r, owner)
}

type node struct {
	url     string
	store   *sqlstore.Store
	edges   *fakeEdges
	live    *live.Registry
	objects *fakeObjects
	events  *eventstest.Recorder
	ready   chan struct{}
}

func start(t *testing.T) *node {
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
	a := mgmt.New(mgmt.Config{PublicURL: publicURL}, mgmt.Deps{
		Store: store, Edges: n.edges, Live: n.live, Objects: n.objects, Events: n.events,
		Stream:  streamFunc(func(w http.ResponseWriter, _ *http.Request, _ string) { io.WriteString(w, "the stream") }),
		Metrics: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "the metrics") }),
		Ready:   n.ready,
	}, logger)
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	n.url = srv.URL
	return n
}

// call sends a request and returns the status and body.
func (n *node) call(t *testing.T, method, path, body string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, n.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// ok sends a request that must succeed and decodes its answer into out.
func (n *node) ok(t *testing.T, method, path, body string, out any) {
	t.Helper()
	code, b := n.call(t, method, path, body)
	if code != http.StatusOK {
		t.Fatalf("%s %s: %d, want 200\n%s", method, path, code, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("%s %s: %v\n%s", method, path, err, b)
	}
	var env api.Envelope
	if err := json.Unmarshal(b, &env); err != nil || !env.Success || env.RequestID == "" || env.Error != nil {
		t.Fatalf("%s %s: envelope %+v (%v)", method, path, env, err)
	}
}

// fail sends a request that must fail with code, with an envelope whose
// message mentions every part.
func (n *node) fail(t *testing.T, method, path, body string, code int, parts ...string) api.Envelope {
	t.Helper()
	got, b := n.call(t, method, path, body)
	if got != code {
		t.Fatalf("%s %s: %d, want %d\n%s", method, path, got, code, b)
	}
	var env api.Envelope
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatalf("%s %s: not an envelope: %v\n%s", method, path, err, b)
	}
	if env.Success || env.Error == nil || env.Error.Code != code || env.RequestID == "" {
		t.Fatalf("%s %s: envelope %+v, want a failure with code %d", method, path, env, code)
	}
	for _, p := range parts {
		if !strings.Contains(env.Error.Message, p) {
			t.Errorf("%s %s: message %q does not mention %q", method, path, env.Error.Message, p)
		}
	}
	return env
}

func (n *node) create(t *testing.T, body string) api.Source {
	t.Helper()
	var r api.SourceReply
	n.ok(t, http.MethodPost, api.PathSources, body, &r)
	return r.Source
}

// wantEvents fails t unless the events emitted since the last call are of kinds.
func (n *node) wantEvents(t *testing.T, kinds ...string) []eventstest.Emitted {
	t.Helper()
	got := n.events.Take()
	var gotKinds []string
	for _, e := range got {
		gotKinds = append(gotKinds, e.Kind)
	}
	if !slices.Equal(gotKinds, kinds) {
		t.Errorf("events %v, want %v", gotKinds, kinds)
	}
	return got
}

func TestSources(t *testing.T) {
	n := start(t)
	cam := n.create(t, `{"name":" cam ","description":"front door","segment_len":4}`)
	if cam.ID == "" || cam.Name != "cam" || cam.Description != "front door" || cam.SegmentLength != 4 || cam.Streaming != api.StreamingOff {
		t.Errorf("created %+v", cam)
	}
	if want := publicURL + "/v1/vod/live/cam/vid.m3u8"; cam.PlaybackURL != want {
		t.Errorf("playback URL %q, want %q", cam.PlaybackURL, want)
	}
	if ev := n.wantEvents(t, broker.EventSourceAdded); len(ev) == 1 && ev[0].Event.Source != "cam" {
		t.Errorf("source.added event %+v", ev[0].Event)
	}
	n.create(t, `{"name":"alpha"}`)
	n.wantEvents(t, broker.EventSourceAdded)

	var list api.SourcesReply
	n.ok(t, http.MethodGet, api.PathSources, "", &list)
	if len(list.Sources) != 2 || list.Sources[0].Name != "alpha" || list.Sources[1].Name != "cam" {
		t.Errorf("list %+v, want alpha and cam", list.Sources)
	}
	n.ok(t, http.MethodGet, api.PathSources+"?source_name=cam", "", &list)
	if len(list.Sources) != 1 || list.Sources[0].ID != cam.ID {
		t.Errorf("list by name %+v, want cam", list.Sources)
	}
	n.ok(t, http.MethodGet, api.PathSources+"?source_name=nope", "", &list)
	if list.Sources == nil || len(list.Sources) != 0 {
		t.Errorf("list of no match %#v, want an empty list", list.Sources)
	}

	for _, key := range []string{cam.ID, "cam"} {
		var got api.SourceReply
		n.ok(t, http.MethodGet, api.Expand(api.PathSource, key), "", &got)
		if got.Source.ID != cam.ID || got.Source.Name != "cam" || got.Source.PlaybackURL != cam.PlaybackURL {
			t.Errorf("get %s: %+v", key, got.Source)
		}
	}

	n.fail(t, http.MethodPost, api.PathSources, `{"name":"cam"}`, http.StatusConflict, "already exists")
	n.fail(t, http.MethodPost, api.PathSources, `{"name":`, http.StatusBadRequest, "not valid JSON")
	n.fail(t, http.MethodPost, api.PathSources, `["cam"]`, http.StatusBadRequest, "not valid JSON")
	n.fail(t, http.MethodPost, api.PathSources, `{"name":"cam","description":"`+strings.Repeat("x", 64<<10)+`"}`, http.StatusRequestEntityTooLarge, "over 65536 bytes")
	for _, name := range []string{"", "   ", "a/b", "a b", ".hidden", strings.Repeat("n", 65)} {
		b, _ := json.Marshal(api.NewSource{Name: name})
		n.fail(t, http.MethodPost, api.PathSources, string(b), http.StatusBadRequest, "name")
	}
	n.fail(t, http.MethodPost, api.PathSources, `{"name":"x","segment_len":61}`, http.StatusBadRequest, "segment_len 61")
	n.fail(t, http.MethodPost, api.PathSources, `{"name":"x","segment_len":-1}`, http.StatusBadRequest, "segment_len -1")
	n.wantEvents(t) // none of the refused ones

	for _, req := range [][2]string{
		{http.MethodGet, api.Expand(api.PathSource, "nope")},
		{http.MethodDelete, api.Expand(api.PathSource, "nope")},
		{http.MethodPut, api.Expand(api.PathSourceStreaming, "nope") + "?new_state=true"},
		{http.MethodPost, api.Expand(api.PathSourceRecordings, "nope")},
		{http.MethodGet, api.Expand(api.PathSourceRecordings, "nope")},
	} {
		n.fail(t, req[0], req[1], "", http.StatusNotFound, `"nope"`)
	}
}

func TestSourceView(t *testing.T) {
	n := start(t)
	cam := n.create(t, `{"name":"cam"}`)
	if _, err := n.store.SetSourceEdge(t.Context(), cam.ID, "edge-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := n.store.SetStreaming(t.Context(), cam.ID, true); err != nil {
		t.Fatal(err)
	}
	for seq := range uint64(2) {
		if _, err := n.live.Append(cam.ID, "cam", 2, live.Arrival{Edge: "edge-1", EdgeSeq: seq + 1, Duration: 2}, []byte("segment")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := n.store.CreateRecording(t.Context(), sqlstore.Recording{SourceID: cam.ID}); err != nil {
		t.Fatal(err)
	}
	var got api.SourceReply
	n.ok(t, http.MethodGet, api.Expand(api.PathSource, "cam"), "", &got)
	s := got.Source
	if s.Edge != "edge-1" || s.RRTarget != "edge-1" || !s.EdgeOnline || !s.EdgeStreaming || s.BitrateBPS != 1234 || !s.LocalTime.Equal(seen) {
		t.Errorf("edge view %+v", s)
	}
	if !s.IsStreaming() || s.LiveSegments != 2 || s.LastSegmentAt.IsZero() || !s.Recording {
		t.Errorf("live and recording view %+v", s)
	}
}

func TestDeleteSource(t *testing.T) {
	n := start(t)
	cam := n.create(t, `{"name":"cam"}`)
	n.store.SetSourceEdge(t.Context(), cam.ID, "edge-1")
	if _, err := n.live.Append(cam.ID, "cam", 2, live.Arrival{Duration: 2}, []byte("segment")); err != nil {
		t.Fatal(err)
	}
	n.wantEvents(t, broker.EventSourceAdded)

	// Not while a recording refers to it. (Its edge is online and it has
	// a segment just now: it is still pushed, so only with force; see
	// source_rm_test.go.)
	var rec api.RecordingReply
	n.ok(t, http.MethodPost, api.Expand(api.PathSourceRecordings, "cam"), "", &rec)
	n.fail(t, http.MethodDelete, api.Expand(api.PathSource, "cam")+"?force=true", "", http.StatusConflict, "recording")
	n.ok(t, http.MethodDelete, api.Expand(api.PathRecording, rec.Recording.ID)+"?force=true", "", &api.DeletedReply{})
	n.edges.take()
	n.events.Take()

	var env api.Envelope
	n.ok(t, http.MethodDelete, api.Expand(api.PathSource, "cam")+"?force=true", "", &env)
	if got := n.edges.take(); !slices.Equal(got, []string{"edge-1"}) {
		t.Errorf("desired state published for %v, want edge-1", got)
	}
	if ev := n.wantEvents(t, broker.EventSourceRemoved); len(ev) == 1 && (ev[0].Event.Source != "cam" || ev[0].Event.Edge != "edge-1") {
		t.Errorf("source.removed event %+v", ev[0].Event)
	}
	if _, ok := n.live.Get(cam.ID); ok {
		t.Errorf("the deleted source's live window is still open")
	}
	n.fail(t, http.MethodGet, api.Expand(api.PathSource, cam.ID), "", http.StatusNotFound)
}

func TestStreaming(t *testing.T) {
	n := start(t)
	cam := n.create(t, `{"name":"cam"}`)
	if _, err := n.store.SetSourceEdge(t.Context(), cam.ID, "edge-1"); err != nil {
		t.Fatal(err)
	}
	n.events.Take()
	path := api.Expand(api.PathSourceStreaming, "cam")

	var got api.SourceReply
	n.ok(t, http.MethodPut, path+"?new_state=true", "", &got)
	if !got.Source.IsStreaming() || got.Source.ID != cam.ID {
		t.Errorf("after on: %+v", got.Source)
	}
	if p := n.edges.take(); !slices.Equal(p, []string{"edge-1"}) {
		t.Errorf("desired state published for %v, want edge-1", p)
	}
	if ev := n.wantEvents(t, broker.EventStreamingChanged); len(ev) == 1 && ev[0].Event != (broker.Event{Source: "cam", Edge: "edge-1", Detail: "on"}) {
		t.Errorf("streaming event %+v", ev[0].Event)
	}
	if _, err := n.live.Append(cam.ID, "cam", 2, live.Arrival{Duration: 2}, []byte("segment")); err != nil {
		t.Fatalf("append while on: %v", err)
	}
	if _, ok := n.live.Get(cam.ID); !ok {
		t.Fatal("no live window while on")
	}

	n.ok(t, http.MethodPut, path+"?new_state=false", "", &got)
	if got.Source.IsStreaming() || got.Source.LiveSegments != 0 {
		t.Errorf("after off: %+v", got.Source)
	}
	if p := n.edges.take(); !slices.Equal(p, []string{"edge-1"}) {
		t.Errorf("desired state published for %v, want edge-1", p)
	}
	if ev := n.wantEvents(t, broker.EventStreamingChanged); len(ev) == 1 && ev[0].Event.Detail != "off" {
		t.Errorf("streaming event %+v", ev[0].Event)
	}
	if _, ok := n.live.Get(cam.ID); ok {
		t.Error("the live window is still open after streaming off")
	}
	if _, err := n.live.Append(cam.ID, "cam", 2, live.Arrival{Duration: 2}, []byte("late")); err != live.ErrStreamingOff {
		t.Errorf("late upload after off: %v, want ErrStreamingOff", err)
	}
	stored, _ := n.store.GetSource(t.Context(), cam.ID)
	if stored.Streaming {
		t.Error("store still says streaming")
	}

	// On again: the window may open again.
	n.ok(t, http.MethodPut, path+"?new_state=1", "", &got)
	if _, err := n.live.Append(cam.ID, "cam", 2, live.Arrival{Duration: 2}, []byte("segment")); err != nil {
		t.Errorf("append after on again: %v", err)
	}

	n.fail(t, http.MethodPut, path+"?new_state=maybe", "", http.StatusBadRequest, `new_state "maybe"`)
	n.fail(t, http.MethodPut, path, "", http.StatusBadRequest, "new_state")
}

func TestRecordings(t *testing.T) {
	n := start(t)
	cam := n.create(t, `{"name":"cam"}`)
	n.store.SetSourceEdge(t.Context(), cam.ID, "edge-1")
	n.events.Take()

	var r api.RecordingReply
	n.ok(t, http.MethodPost, api.Expand(api.PathSourceRecordings, "cam"), `{"alias":"goal","description":"the second half"}`, &r)
	rec := r.Recording
	if rec.ID == "" || rec.Source != cam.ID || rec.SourceName != "cam" || rec.Alias != "goal" || rec.Description != "the second half" || !rec.IsActive() || !rec.EndTS.IsZero() {
		t.Errorf("started %+v", rec)
	}
	if want := publicURL + "/v1/vod/recording/" + rec.ID + "/vid.m3u8"; rec.PlaybackURL != want {
		t.Errorf("playback URL %q, want %q", rec.PlaybackURL, want)
	}
	if p := n.edges.take(); !slices.Equal(p, []string{"edge-1"}) {
		t.Errorf("desired state published for %v, want edge-1", p)
	}
	if ev := n.wantEvents(t, broker.EventRecordingStarted); len(ev) == 1 && ev[0].Event != (broker.Event{Source: "cam", Edge: "edge-1", Recording: rec.ID}) {
		t.Errorf("recording.started event %+v", ev[0].Event)
	}

	// Started in the past (what the edge still buffers), without a body.
	past := time.Now().Add(-time.Hour).Truncate(time.Second)
	var r2 api.RecordingReply
	n.ok(t, http.MethodPost, api.Expand(api.PathSourceRecordings, cam.ID), fmt.Sprintf(`{"start_time_epoch":%d}`, past.Unix()), &r2)
	if !r2.Recording.StartTS.Equal(past) {
		t.Errorf("start %v, want %v", r2.Recording.StartTS, past)
	}
	var r3 api.RecordingReply
	n.ok(t, http.MethodPost, api.Expand(api.PathSourceRecordings, cam.ID), "", &r3)
	if p := n.edges.take(); !slices.Equal(p, []string{"edge-1", "edge-1"}) {
		t.Errorf("desired state published for %v, want edge-1 twice", p)
	}
	n.fail(t, http.MethodPost, api.Expand(api.PathSourceRecordings, "cam"), fmt.Sprintf(`{"start_time_epoch":%d}`, time.Now().Add(time.Hour).Unix()), http.StatusBadRequest, "in the future")
	n.fail(t, http.MethodPost, api.Expand(api.PathSourceRecordings, "cam"), `{"alias":`, http.StatusBadRequest, "not valid JSON")
	n.fail(t, http.MethodPost, api.Expand(api.PathSourceRecordings, "cam"), `{"alias":"`+strings.Repeat("a", 129)+`"}`, http.StatusBadRequest, "too long")
	if p := n.edges.take(); len(p) != 0 {
		t.Errorf("refused starts published desired state for %v", p)
	}

	// Segments: 1 and 2 in a row, then 4 after a lost one; 2 shared with r2.
	base := time.Now().Add(-30 * time.Minute).UTC().Truncate(time.Millisecond)
	for i, seq := range []int{1, 2, 4} {
		seg := sqlstore.RecordedSegment{
			SourceID: cam.ID, Seq: uint64(seq), ObjectKey: fmt.Sprintf("%s/edge-1-b-%d.ts", cam.ID, seq),
			Duration: 2, Bytes: 100, StartAt: base.Add(time.Duration(seq-1) * 2 * time.Second),
		}
		ids := []string{rec.ID}
		if i == 1 {
			ids = append(ids, r2.Recording.ID)
		}
		if err := n.store.AddSegment(t.Context(), seg, ids); err != nil {
			t.Fatal(err)
		}
	}

	n.ok(t, http.MethodGet, api.Expand(api.PathRecording, rec.ID), "", &r)
	got := r.Recording
	if got.ID != rec.ID || got.SourceName != "cam" || got.Segments != 3 || got.DurationSeconds != 6 || got.Bytes != 300 {
		t.Errorf("recording stats %+v", got)
	}
	if !got.FirstSegmentAt.Equal(base) || !got.LastSegmentEnd.Equal(base.Add(8*time.Second)) {
		t.Errorf("first %v last end %v, want %v and %v", got.FirstSegmentAt, got.LastSegmentEnd, base, base.Add(8*time.Second))
	}
	if len(got.Gaps) != 1 || !got.Gaps[0].From.Equal(base.Add(4*time.Second)) || got.Gaps[0].Seconds != 2 {
		t.Errorf("gaps %+v, want one of 2 s after the second segment", got.Gaps)
	}

	var list api.RecordingsReply
	n.ok(t, http.MethodGet, api.PathRecordings, "", &list)
	if ids := recordingIDs(list); !slices.Equal(ids, []string{r3.Recording.ID, r2.Recording.ID, rec.ID}) {
		t.Errorf("list %v, want newest first", ids)
	}
	if list.Recordings[2].Gaps != nil || list.Recordings[2].SourceName != "cam" || list.Recordings[2].Segments != 3 {
		t.Errorf("listed %+v: want stats and name, gaps only on GET", list.Recordings[2])
	}
	n.ok(t, http.MethodGet, api.Expand(api.PathSourceRecordings, "cam"), "", &list)
	if len(list.Recordings) != 3 {
		t.Errorf("source's list has %d", len(list.Recordings))
	}
	n.fail(t, http.MethodGet, api.PathRecordings+"?active=sometimes", "", http.StatusBadRequest, `active "sometimes"`)

	// Stop one; it leaves the active list.
	n.events.Take()
	n.ok(t, http.MethodPost, api.Expand(api.PathRecordingStop, r3.Recording.ID), "", &r)
	if r.Recording.IsActive() || r.Recording.EndTS.IsZero() {
		t.Errorf("stopped %+v", r.Recording)
	}
	if p := n.edges.take(); !slices.Equal(p, []string{"edge-1"}) {
		t.Errorf("desired state published for %v, want edge-1", p)
	}
	n.wantEvents(t, broker.EventRecordingStopped)
	n.fail(t, http.MethodPost, api.Expand(api.PathRecordingStop, r3.Recording.ID), "", http.StatusConflict, "already stopped")
	n.ok(t, http.MethodGet, api.PathRecordings+"?active=true", "", &list)
	if ids := recordingIDs(list); !slices.Equal(ids, []string{r2.Recording.ID, rec.ID}) {
		t.Errorf("active list %v", ids)
	}

	// Deleting an active one needs force; then its own objects go.
	n.fail(t, http.MethodDelete, api.Expand(api.PathRecording, rec.ID), "", http.StatusConflict, "still recording")
	if len(n.objects.removed) != 0 {
		t.Fatalf("objects removed without force: %v", n.objects.removed)
	}
	var del api.DeletedReply
	n.ok(t, http.MethodDelete, api.Expand(api.PathRecording, rec.ID)+"?force=true", "", &del)
	wantKeys := []string{cam.ID + "/edge-1-b-1.ts", cam.ID + "/edge-1-b-4.ts"} // 2 is still r2's
	if len(n.objects.removed) != 1 || !slices.Equal(n.objects.removed[0], wantKeys) {
		t.Errorf("RemoveObjects calls %v, want [%v]", n.objects.removed, wantKeys)
	}
	if del.DeletedObjects != 2 {
		t.Errorf("deleted_objects %d, want what RemoveObjects said (2)", del.DeletedObjects)
	}
	if ev := n.wantEvents(t, broker.EventRecordingRemoved); len(ev) == 1 && (ev[0].Event.Recording != rec.ID || !strings.Contains(ev[0].Event.Detail, "2 objects")) {
		t.Errorf("recording.removed event %+v", ev[0].Event)
	}
	if p := n.edges.take(); !slices.Equal(p, []string{"edge-1"}) {
		t.Errorf("desired state published for %v, want edge-1", p)
	}
	n.fail(t, http.MethodGet, api.Expand(api.PathRecording, rec.ID), "", http.StatusNotFound)
	n.fail(t, http.MethodDelete, api.Expand(api.PathRecording, rec.ID), "", http.StatusNotFound)
	n.fail(t, http.MethodPost, api.Expand(api.PathRecordingStop, "nope"), "", http.StatusNotFound)

	// A stopped one goes without force.
	n.ok(t, http.MethodDelete, api.Expand(api.PathRecording, r3.Recording.ID), "", &del)
	if del.DeletedObjects != 0 {
		t.Errorf("deleted_objects %d of an empty recording", del.DeletedObjects)
	}
}

func recordingIDs(l api.RecordingsReply) []string {
	var ids []string
	for _, r := range l.Recordings {
		ids = append(ids, r.ID)
	}
	return ids
}

func TestEdges(t *testing.T) {
	n := start(t)
	for _, name := range []string{"edge-1", "edge-2"} {
		if _, _, err := n.store.UpsertEdge(t.Context(), sqlstore.Edge{Name: name, Version: "v1", Online: name == "edge-1"}); err != nil {
			t.Fatal(err)
		}
	}
	var got api.EdgesReply
	n.ok(t, http.MethodGet, api.PathEdges, "", &got)
	if len(got.Edges) != 2 {
		t.Fatalf("edges %+v", got.Edges)
	}
	e1, e2 := got.Edges[0], got.Edges[1]
	if e1.Name != "edge-1" || !e1.Online || e1.Version != "v1" || len(e1.Sources) != 2 || e1.Sources[0] != (api.EdgeSource{Name: "cam", Streaming: true, BitrateBPS: 1234, BufferedSeconds: 30, Uploaded: 7}) {
		t.Errorf("edge-1 %+v", e1)
	}
	if e2.Name != "edge-2" || e2.Online || e2.Sources == nil || len(e2.Sources) != 0 {
		t.Errorf("edge-2 %#v, want offline with an empty source list", e2)
	}
}

func TestReady(t *testing.T) {
	n := start(t)
	n.fail(t, http.MethodGet, api.PathReady, "", http.StatusServiceUnavailable, "starting")
	close(n.ready)
	var st api.StatusReply
	n.ok(t, http.MethodGet, api.PathReady, "", &st)
	if st.Status != "ready" {
		t.Errorf("status %q", st.Status)
	}
	n.store.Close()
	n.fail(t, http.MethodGet, api.PathReady, "", http.StatusServiceUnavailable, "state store")
}

func TestRoutes(t *testing.T) {
	n := start(t)
	env := n.fail(t, http.MethodGet, "/v1/nope", "", http.StatusNotFound, "no such endpoint: GET /v1/nope")
	if env.Error.Detail == "" {
		t.Error("404 without a detail")
	}
	// A known path with a method it does not take: 405, saying which it takes.
	n.fail(t, http.MethodPatch, api.PathSources, "", http.StatusMethodNotAllowed, "PATCH is not allowed on "+api.PathSources)
	n.fail(t, http.MethodPost, api.Expand(api.PathRecording, "r1"), "", http.StatusMethodNotAllowed, "POST is not allowed")
	for path, want := range map[string]string{api.PathEvents: "the stream", api.PathMetrics: "the metrics", api.PathHealth: `"status":"ok"`} {
		code, b := n.call(t, http.MethodGet, path, "")
		if code != http.StatusOK || !strings.Contains(string(b), want) {
			t.Errorf("GET %s: %d %q, want %q", path, code, b, want)
		}
	}
}
