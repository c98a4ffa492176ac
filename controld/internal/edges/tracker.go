// Package edges tracks the control node's edges: their presence and health
// from the retained status topic, which edge each source is bound to, and
// the desired state each edge converges on.
package edges

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/sqlstore"
)

// Store is the state the tracker reads and writes.
type Store interface {
	UpsertEdge(ctx context.Context, e sqlstore.Edge) (sqlstore.Edge, bool, error)
	SetEdgeOnline(ctx context.Context, name string, online bool, at time.Time) (bool, error)
	MarkAllEdgesOffline(ctx context.Context) (int, error)
	ListEdges(ctx context.Context) ([]sqlstore.Edge, error)
	GetSource(ctx context.Context, idOrName string) (sqlstore.Source, error)
	EnsureSource(ctx context.Context, name, edge string, segmentLen int) (sqlstore.Source, bool, error)
	SetSourceEdge(ctx context.Context, id, edge string) (sqlstore.Source, error)
	SourcesByEdge(ctx context.Context, edge string) ([]sqlstore.Source, error)
	ListRecordings(ctx context.Context, f sqlstore.RecordingFilter) ([]sqlstore.Recording, error)
	GetRemovedSource(ctx context.Context, name string) (sqlstore.RemovedSource, error)
}

// Publisher sends a control-plane message.
type Publisher interface {
	Publish(topic string, payload []byte, retain bool, qos byte) error
}

// Emitter records what happened.
type Emitter interface {
	Emit(kind string, ev broker.Event)
}

// Frames takes edge statuses for the event stream's followers.
type Frames interface {
	Publish(kind string, payload []byte)
}

// Config is what the tracker decides by.
type Config struct {
	// NoAutoRegister refuses names that were not created first.
	NoAutoRegister bool
	// LiveSegments is how many segments a live playlist lists: a woken
	// on-demand source's edge first sends that much buffered media.
	LiveSegments int
}

// Awake says whether an on-demand source is awake (someone watches).
type Awake interface {
	Awake(sourceID string) bool
}

// StoppedRecordingGrace is how long a stopped recording stays in an edge's
// desired state, so segments the edge buffered before the stop still arrive.
const StoppedRecordingGrace = 5 * time.Minute

// Tracker is the control node's view of its edges.
type Tracker struct {
	cfg     Config
	store   Store
	bus     Publisher
	events  Emitter
	frames  Frames
	online  prometheus.Gauge
	logger  *slog.Logger
	nowFunc func() time.Time

	// awake is set once, before Run (SetAwake); nil: every on-demand
	// source sleeps.
	awake Awake

	mu    sync.Mutex
	views map[string]*view // latest status per edge
	// pushes is when each source name was last registered or uploaded by
	// a push (BindSource), which an edge's status says only a heartbeat
	// later.
	pushes map[string]time.Time
}

// SetAwake tells the tracker which on-demand sources are awake. It is set
// after New because the on-demand component publishes through the tracker;
// call it before Run.
func (t *Tracker) SetAwake(a Awake) { t.awake = a }

// view is the newest status an edge reported.
type view struct {
	status   broker.EdgeStatus
	lastSeen time.Time
}

// New returns a tracker; online is the gauge of connected edges.
func New(cfg Config, store Store, bus Publisher, events Emitter, frames Frames, online prometheus.Gauge, logger *slog.Logger) *Tracker {
	return &Tracker{cfg: cfg, store: store, bus: bus, events: events, frames: frames, online: online, logger: logger, nowFunc: time.Now, views: map[string]*view{}, pushes: map[string]time.Time{}}
}

// Start marks every edge offline until it reports again: a restarted
// control node knows nothing of who is connected.
func (t *Tracker) Start(ctx context.Context) error {
	_, err := t.store.MarkAllEdgesOffline(ctx)
	return err
}

// OnStatus records an edge's retained status or Last Will.
func (t *Tracker) OnStatus(topic string, payload []byte) {
	name, _, err := broker.ParseEdgeTopic(topic)
	if err != nil || len(payload) == 0 {
		return
	}
	var st broker.EdgeStatus
	if err := broker.Decode(payload, &st); err != nil || st.Edge != name {
		t.logger.Warn("ignoring edge status", "edge", name, "err", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	now := t.nowFunc()
	if t.maskPulls(ctx, &st) {
		payload = broker.Encode(st)
	}
	t.mu.Lock()
	var prev broker.EdgeStatus
	if v, ok := t.views[name]; ok {
		prev = v.status
	}
	t.views[name] = &view{status: st, lastSeen: now}
	t.mu.Unlock()
	t.frames.Publish("edge.status", payload)
	t.pullChanges(prev, st)
	_, flipped, err := t.store.UpsertEdge(ctx, sqlstore.Edge{
		Name: name, Version: st.Version, IngestAddr: st.IngestAddr, Online: st.Online, StartedAt: st.StartedAt, LastSeen: now,
	})
	if err != nil {
		t.logger.Warn("store edge status", "edge", name, "err", err)
		return
	}
	if flipped {
		t.flipped(name, st.Online)
	}
	if !st.Online {
		return
	}
	for _, src := range st.Sources {
		// A status lists every source the edge has seen since it started;
		// only one pushed lately is registered from it, so a source removed
		// after its push stopped does not come back with the next heartbeat.
		_, err := t.bind(ctx, name, src.Name, pushedLately(st, src))
		switch {
		case err == nil, errors.Is(err, sqlstore.ErrNotFound):
		case errors.Is(err, sqlstore.ErrConflict):
			// Reported by an edge that does not own it: uploads say so.
			t.logger.Debug("bind source", "edge", name, "source", src.Name, "err", err)
		default:
			t.logger.Warn("bind source", "edge", name, "source", src.Name, "err", err)
		}
	}
}

func (t *Tracker) flipped(name string, online bool) {
	kind, word := broker.EventEdgeOffline, "edge offline"
	if online {
		kind, word = broker.EventEdgeOnline, "edge online"
	}
	t.logger.Info(word, "edge", name)
	t.events.Emit(kind, broker.Event{Edge: name})
	t.mu.Lock()
	n := 0
	for _, v := range t.views {
		if v.status.Online {
			n++
		}
	}
	t.mu.Unlock()
	t.online.Set(float64(n))
}

// Status returns the newest status of edge and when it came, if any.
func (t *Tracker) Status(edge string) (broker.EdgeStatus, time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	v, ok := t.views[edge]
	if !ok {
		return broker.EdgeStatus{}, time.Time{}, false
	}
	return v.status, v.lastSeen, true
}

// BindSource makes sure source name is known and fed by edge: the edges
// that feed a source are the ones told to stream it. Unknown names are
// registered to edge unless NoAutoRegister (then sqlstore.ErrNotFound). A
// source's feeds are its edge and the standby feeds an operator lists
// (PATCH /v1/source/{id} with edge or feeds): a source with no edge yet
// (created by the API, as in LiveMix's walkthrough) goes to the first edge
// that pushes it, and an edge that is no feed of it pushing the same name
// gets sqlstore.ErrConflict.
//
// A name an operator removed while it was pushed (lmx source rm --force) is
// not registered again: the error wraps sqlstore.ErrRemoved and
// sqlstore.ErrNotFound and says when, by whom, and how to bring it back.
func (t *Tracker) BindSource(ctx context.Context, edge, name string) (sqlstore.Source, error) {
	src, err := t.bind(ctx, edge, name, true)
	if err == nil {
		t.mu.Lock()
		t.pushes[name] = t.nowFunc()
		t.mu.Unlock()
	}
	return src, err
}

// LastPush is when a push last registered or uploaded source name (zero if
// none since the node started, or not lately).
func (t *Tracker) LastPush(name string) time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.pushes[name]
}

// bind is BindSource; create says whether an unknown name may be registered.
func (t *Tracker) bind(ctx context.Context, edge, name string, create bool) (sqlstore.Source, error) {
	src, err := t.store.GetSource(ctx, name)
	switch {
	case errors.Is(err, sqlstore.ErrNotFound):
		if rm, rerr := t.store.GetRemovedSource(ctx, name); rerr == nil {
			return sqlstore.Source{}, removedError(rm, t.nowFunc())
		}
		if t.cfg.NoAutoRegister || !create {
			return sqlstore.Source{}, err
		}
		var created bool
		if src, created, err = t.store.EnsureSource(ctx, name, edge, 0); err != nil {
			return src, err
		}
		if created {
			t.logger.Info("source registered on first push", "source", name, "edge", edge)
			t.events.Emit(broker.EventSourceAdded, broker.Event{Edge: edge, Source: name})
			// The edge learns the name is known from its desired state.
			t.PublishDesired(ctx, edge)
		}
	case err != nil:
		return src, err
	}
	if src.Edge != "" && !src.FedBy(edge) {
		return src, fmt.Errorf("%w: source %q is fed by %s, not %q", sqlstore.ErrConflict, name, strings.Join(quoted(src.Feeds()), ", "), edge)
	}
	if src.Edge != "" {
		return src, nil
	}
	if src.Edge != edge {
		old := src.Edge
		if src, err = t.store.SetSourceEdge(ctx, src.ID, edge); err != nil {
			return src, err
		}
		t.events.Emit(broker.EventSourceEdgeAssigned, broker.Event{Edge: edge, Source: name, Detail: "was " + old})
		t.PublishDesired(ctx, edge)
		if old != "" {
			t.PublishDesired(ctx, old)
		}
	}
	return src, nil
}

// PublishDesired writes each edge's retained desired state from the store
// (a source's feeds: every edge that feeds it is told). A failure is
// logged: the state is republished on the next change and at every start.
func (t *Tracker) PublishDesired(ctx context.Context, edges ...string) {
	for _, edge := range edges {
		t.publishDesired(ctx, edge)
	}
}

func (t *Tracker) publishDesired(ctx context.Context, edge string) {
	if edge == "" {
		return
	}
	d, err := t.desired(ctx, edge)
	if err != nil {
		t.logger.Warn("desired state", "edge", edge, "err", err)
		return
	}
	topic := broker.EdgeDesiredTopic(edge)
	if err := t.bus.Publish(topic, broker.Encode(d), true, broker.DesiredQoS); err != nil {
		t.logger.Warn("mqtt publish failed", "topic", topic, "err", err)
	}
}

func (t *Tracker) desired(ctx context.Context, edge string) (broker.Desired, error) {
	srcs, err := t.store.SourcesByEdge(ctx, edge)
	if err != nil {
		return broker.Desired{}, err
	}
	now := t.nowFunc()
	d := broker.Desired{V: broker.Version, Edge: edge, Generation: now.UnixNano(), Sources: map[string]broker.DesiredSource{}}
	for _, src := range srcs {
		ds := broker.DesiredSource{Stream: src.Streaming, PullURL: src.PullURL, SegmentLen: src.SegmentLen}
		if src.OnDemand {
			// Live upload only while someone watches; a woken source sends
			// a playable window of buffered media first.
			ds.Stream = src.Streaming && t.awake != nil && t.awake.Awake(src.ID)
			if ds.Stream {
				ds.Backfill = broker.Duration(t.backfill(src))
			}
		}
		recs, err := t.store.ListRecordings(ctx, sqlstore.RecordingFilter{SourceID: src.ID})
		if err != nil {
			return d, err
		}
		for _, r := range recs {
			// Stopped recordings stay listed for a while with their end, so
			// the edge still sends what it buffered before the stop.
			if r.Active || now.Sub(r.EndAt) < StoppedRecordingGrace {
				ds.Recordings = append(ds.Recordings, broker.DesiredRecording{ID: r.ID, Since: r.StartAt, Until: r.EndAt})
			}
		}
		d.Sources[src.Name] = ds
	}
	return d, nil
}

// defaultSegmentLen is what a source that names no segment length is
// taken to cut (ffmpeg's -hls_time default).
const defaultSegmentLen = 2 * time.Second

// backfill is how much buffered media a woken on-demand source's edge
// sends first: a full live playlist (at least three target durations, what
// players start from), plus one segment for the one ffmpeg is still
// writing.
func (t *Tracker) backfill(src sqlstore.Source) time.Duration {
	seg := time.Duration(src.SegmentLen) * time.Second
	if seg <= 0 {
		seg = defaultSegmentLen
	}
	return time.Duration(max(t.cfg.LiveSegments, 3)+1) * seg
}

// RepublishDesired writes every known edge's desired state again: retained
// messages of the embedded broker did not survive its restart, and an
// external broker may have lost them.
func (t *Tracker) RepublishDesired(ctx context.Context) error {
	edges, err := t.store.ListEdges(ctx)
	if err != nil {
		return err
	}
	for _, e := range edges {
		t.PublishDesired(ctx, e.Name)
	}
	return nil
}

// Run marks an edge offline when its heartbeats stop even though no Last
// Will arrived (a broker restart can lose the session), until ctx ends.
func (t *Tracker) Run(ctx context.Context) error {
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		t.markStale(ctx, t.nowFunc())
	}
}

// markStale flips edges whose heartbeats stopped three periods ago.
func (t *Tracker) markStale(ctx context.Context, now time.Time) {
	var stale []string
	t.mu.Lock()
	for name, at := range t.pushes {
		if now.Sub(at) > time.Minute {
			delete(t.pushes, name)
		}
	}
	for name, v := range t.views {
		every := time.Duration(v.status.HeartbeatEvery)
		if every <= 0 {
			every = 5 * time.Second
		}
		if v.status.Online && now.Sub(v.lastSeen) > 3*every+5*time.Second {
			v.status.Online = false
			stale = append(stale, name)
		}
	}
	t.mu.Unlock()
	for _, name := range stale {
		if changed, err := t.store.SetEdgeOnline(ctx, name, false, now); err == nil && changed {
			t.flipped(name, false)
		}
	}
}

func quoted(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = strconv.Quote(n)
	}
	return out
}
