// Package ondemand knows which on-demand sources are awake: an on-demand
// source's edge keeps buffering but uploads nothing live until someone asks
// for its live playlist. The first playlist request wakes the source (its
// edge's desired state then says stream, with a backfill of buffered
// media), every later one keeps it awake, and Run puts it to sleep after
// its idle time with no playlist request.
//
// Awake state is held in memory only: a restarted control node starts with
// every on-demand source asleep, which is the safe side (the next playlist
// request wakes it again within the wake budget).
package ondemand

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/sqlstore"
)

// Errors Wake returns: nothing will arrive in time. With ErrEdgeOffline
// the source is woken anyway (its edge gets the desired state when it
// comes back); with ErrNoEdge there is no edge to tell.
var (
	// ErrNoEdge means no edge has pushed the source yet.
	ErrNoEdge = errors.New("no edge has pushed the source yet")
	// ErrEdgeOffline means the source's edge is not connected.
	ErrEdgeOffline = errors.New("the source's edge is offline")
)

// LiveWindows opens and closes sources' live windows: a sleeping source's
// window is closed (its memory released, stray uploads not listed), and a
// woken one opens fresh, with media sequence numbers above any it served.
type LiveWindows interface {
	Allow(id string)
	Close(id string)
}

// Edges publishes desired states and says whether an edge is connected
// (the edge tracker).
type Edges interface {
	PublishDesired(ctx context.Context, edges ...string)
	Status(edge string) (broker.EdgeStatus, time.Time, bool)
}

// Emitter records what happened.
type Emitter interface {
	Emit(kind string, ev broker.Event)
}

// Config is the component's behaviour.
type Config struct {
	// Idle is how long a source stays awake after the last playlist
	// request when it sets no idle time of its own.
	Idle time.Duration
	// Tick is how often idle sources are looked for (1 s when 0): a source
	// sleeps at most one tick after its idle time.
	Tick time.Duration
}

// Series are the metrics the component keeps (nil ones are skipped).
type Series struct {
	// Wakeups counts sources woken by a playlist request.
	Wakeups prometheus.Counter
	// Awake is how many on-demand sources are awake now.
	Awake prometheus.Gauge
}

// Demand is the set of awake on-demand sources.
type Demand struct {
	cfg    Config
	live   LiveWindows
	edges  Edges
	events Emitter
	series Series
	logger *slog.Logger
	now    func() time.Time

	// turn serialises waking and sleeping, each of which changes the awake
	// set, the live window and the edge's desired state: interleaved, a
	// sleep could close the window of a source a wake had just opened.
	turn sync.Mutex
	// awake holds the awake sources by id. It is replaced whole, under
	// turn, on every wake and sleep (rare), so that Touch, called for
	// every live playlist served, reads it without a lock.
	awake atomic.Pointer[map[string]*entry]
}

// entry is one awake source.
type entry struct {
	name, edge string
	// feeds are the edges told when it wakes and sleeps.
	feeds []string
	idle  time.Duration
	since time.Time
	// until is when it sleeps unless a playlist request comes (Unix
	// nanoseconds), moved by Touch without a lock.
	until atomic.Int64
}

// New returns the component; Run puts idle sources to sleep.
func New(cfg Config, lw LiveWindows, edges Edges, events Emitter, series Series, logger *slog.Logger) *Demand {
	if cfg.Tick <= 0 {
		cfg.Tick = time.Second
	}
	if cfg.Idle <= 0 {
		cfg.Idle = 60 * time.Second
	}
	d := &Demand{cfg: cfg, live: lw, edges: edges, events: events, series: series, logger: logger, now: time.Now}
	d.awake.Store(&map[string]*entry{})
	return d
}

// lookup returns the awake source with this id, if any.
func (d *Demand) lookup(id string) (*entry, bool) {
	e, ok := (*d.awake.Load())[id]
	return e, ok
}

// replace makes the awake set a copy of the current one changed by f and
// returns its size. The caller holds d.turn.
func (d *Demand) replace(f func(m map[string]*entry)) int {
	old := *d.awake.Load()
	m := make(map[string]*entry, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	f(m)
	d.awake.Store(&m)
	return len(m)
}

// Awake reports whether the source with this id is awake.
func (d *Demand) Awake(sourceID string) bool {
	_, ok := d.lookup(sourceID)
	return ok
}

// Touch keeps an awake source awake for its idle time from now: a live
// playlist request was served. It does nothing for a source that is not
// awake (not on demand, or asleep), so the playback path may call it for
// every playlist it serves.
func (d *Demand) Touch(sourceID string) {
	if e, ok := d.lookup(sourceID); ok {
		e.until.Store(d.now().Add(e.idle).UnixNano())
	}
}

// Wake wakes an on-demand source for a live playlist request that was
// authorized (never before: an unauthorized request must not make an edge
// upload), or keeps an awake one awake. It reports whether this call woke
// it, and ErrNoEdge or ErrEdgeOffline (wrapped, naming the edge) when its
// edge cannot deliver now.
func (d *Demand) Wake(ctx context.Context, src sqlstore.Source) (bool, error) {
	if d.extend(src.ID) {
		return false, d.edgeError(src)
	}
	if src.Edge == "" {
		return false, fmt.Errorf("source %q: %w", src.Name, ErrNoEdge)
	}
	d.turn.Lock()
	defer d.turn.Unlock()
	if d.extend(src.ID) { // woken by another request meanwhile
		return false, d.edgeError(src)
	}
	idle := src.Idle
	if idle <= 0 {
		idle = d.cfg.Idle
	}
	now := d.now()
	e := &entry{name: src.Name, edge: src.Edge, feeds: src.Feeds(), idle: idle, since: now}
	e.until.Store(now.Add(idle).UnixNano())
	d.setGauge(d.replace(func(m map[string]*entry) { m[src.ID] = e }))
	if d.series.Wakeups != nil {
		d.series.Wakeups.Inc()
	}
	// The window opens before the edge is told, so its first upload is
	// listed.
	d.live.Allow(src.ID)
	d.edges.PublishDesired(ctx, src.Feeds()...)
	d.logger.Info("on-demand source woken", "source", src.Name, "edge", src.Edge, "idle", idle)
	d.events.Emit(broker.EventSourceWoken, broker.Event{Source: src.Name, Edge: src.Edge, Detail: "live playlist requested"})
	return true, d.edgeError(src)
}

// extend moves an awake source's sleep time and reports whether it was awake.
func (d *Demand) extend(id string) bool {
	e, ok := d.lookup(id)
	if ok {
		e.until.Store(d.now().Add(e.idle).UnixNano())
	}
	return ok
}

// edgeError says why src's edge cannot deliver now, or nil.
func (d *Demand) edgeError(src sqlstore.Source) error {
	if st, _, ok := d.edges.Status(src.Edge); !ok || !st.Online {
		return fmt.Errorf("source %q: edge %q: %w", src.Name, src.Edge, ErrEdgeOffline)
	}
	return nil
}

// Forget drops a source from the awake set without touching its live
// window or its edge's desired state: the caller (the management API)
// changes both itself, for a source removed, turned off or no longer on
// demand.
func (d *Demand) Forget(sourceID string) {
	d.turn.Lock()
	defer d.turn.Unlock()
	if _, ok := d.lookup(sourceID); ok {
		d.setGauge(d.replace(func(m map[string]*entry) { delete(m, sourceID) }))
	}
}

// Run puts sources to sleep once their idle time has passed with no
// playlist request, every Tick, until ctx ends.
func (d *Demand) Run(ctx context.Context) error {
	t := time.NewTicker(d.cfg.Tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		d.sleepIdle(ctx, d.now())
	}
}

// sleepIdle puts every source idle at now to sleep and returns their names.
func (d *Demand) sleepIdle(ctx context.Context, now time.Time) []string {
	d.turn.Lock()
	defer d.turn.Unlock()
	type idle struct {
		id string
		e  *entry
	}
	var due []idle
	for id, e := range *d.awake.Load() {
		if now.UnixNano() >= e.until.Load() {
			due = append(due, idle{id, e})
		}
	}
	if len(due) == 0 {
		return nil
	}
	d.setGauge(d.replace(func(m map[string]*entry) {
		for _, s := range due {
			delete(m, s.id)
		}
	}))
	names := make([]string, 0, len(due))
	for _, s := range due {
		// The edge is told first, then the window closes: an upload on its
		// way meanwhile is not listed (and not an error).
		d.edges.PublishDesired(ctx, s.e.feeds...)
		d.live.Close(s.id)
		awake := now.Sub(s.e.since).Round(time.Second)
		d.logger.Info("on-demand source idle: live upload stops", "source", s.e.name, "edge", s.e.edge, "awake", awake)
		d.events.Emit(broker.EventSourceIdle, broker.Event{Source: s.e.name, Edge: s.e.edge,
			Detail: fmt.Sprintf("no playlist request for %s (awake %s)", s.e.idle, awake)})
		names = append(names, s.e.name)
	}
	return names
}

func (d *Demand) setGauge(n int) {
	if d.series.Awake != nil {
		d.series.Awake.Set(float64(n))
	}
}
