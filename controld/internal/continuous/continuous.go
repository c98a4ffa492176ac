// Package continuous keeps continuous recording going: for every source
// set to record always, exactly one active recording (a chunk) at a time,
// cut at boundaries aligned to the clock, each chunk starting exactly where
// the previous one stopped.
//
// The boundary rule is exact: a segment belongs to the chunk that contains
// its start time (recording.Record applies it, asking ChunkEnd where an
// active chunk will end), so a segment straddling a boundary lands in
// exactly one chunk and consecutive chunks' media abut.
package continuous

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/internal/days"
	"github.com/lmx-video/lmx/sqlstore"
)

// Store is the state continuous recording reads and writes.
type Store interface {
	RecordModeSources(ctx context.Context, mode string) ([]sqlstore.Source, error)
	GetSource(ctx context.Context, idOrName string) (sqlstore.Source, error)
	ListRecordings(ctx context.Context, f sqlstore.RecordingFilter) ([]sqlstore.Recording, error)
	CreateRecording(ctx context.Context, rec sqlstore.Recording) (sqlstore.Recording, error)
	StopRecording(ctx context.Context, id string, at time.Time) (sqlstore.Recording, error)
}

// Desired republishes an edge's desired state (the edge tracker).
type Desired interface {
	PublishDesired(ctx context.Context, edges ...string)
}

// Emitter records what happened.
type Emitter interface {
	Emit(kind string, ev broker.Event)
}

// Config is what continuous recording decides by.
type Config struct {
	// Chunk is the node's chunk length, for sources that set none (1 h
	// when 0).
	Chunk time.Duration
	// Lookback bounds how far back a new chunk starts when the node was
	// down across boundaries: chunks for what the edges may still buffer,
	// none for the hours nothing could arrive (default 5 min, as long as
	// an edge keeps sending a stopped recording's segments).
	Lookback time.Duration
	// Every is the longest wait between passes (default 1 min), so a
	// change missed by Poke is picked up anyway.
	Every time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Manager keeps the chunks of every source that records always.
type Manager struct {
	cfg     Config
	store   Store
	desired Desired
	events  Emitter
	logger  *slog.Logger
	poke    chan struct{}

	mu sync.Mutex
	// seen is when a pass last found each active chunk inside its chunk,
	// so a chunk made shorter ends at the first boundary after that pass,
	// never before media it already took.
	seen map[string]time.Time
	// ends is where each active chunk will stop, for ChunkEnd.
	ends map[string]time.Time
}

// New returns a manager; Run drives it.
func New(cfg Config, store Store, desired Desired, events Emitter, logger *slog.Logger) *Manager {
	if cfg.Chunk <= 0 {
		cfg.Chunk = time.Hour
	}
	if cfg.Lookback <= 0 {
		cfg.Lookback = 5 * time.Minute
	}
	if cfg.Every <= 0 {
		cfg.Every = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Manager{cfg: cfg, store: store, desired: desired, events: events, logger: logger,
		poke: make(chan struct{}, 1), seen: map[string]time.Time{}, ends: map[string]time.Time{}}
}

// Next is the first chunk boundary strictly after t: multiples of chunk
// since the Unix epoch, so an hour's chunks start on the hour (UTC, and in
// every zone a whole number of hours from it) and a day's at 00:00 UTC.
func Next(t time.Time, chunk time.Duration) time.Time {
	return Floor(t, chunk).Add(chunk)
}

// Floor is the last chunk boundary at or before t.
func Floor(t time.Time, chunk time.Duration) time.Time {
	n := t.UnixNano()
	c := int64(chunk)
	f := n - n%c
	if n%c < 0 {
		f -= c
	}
	return time.Unix(0, f).UTC()
}

// Poke asks for a pass now: a source's record settings changed.
func (m *Manager) Poke() {
	select {
	case m.poke <- struct{}{}:
	default:
	}
}

// ChunkEnd says where an active chunk of continuous recording will stop,
// once a pass has seen it; recording.Record refuses it segments that start
// at or after that, even in the moment before the pass stops it.
func (m *Manager) ChunkEnd(rec sqlstore.Recording) (time.Time, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.ends[rec.ID]
	return t, ok
}

// Run makes a pass now, then at every boundary, every Poke and at least
// every Config.Every, until ctx ends. State is the store's: a restarted
// node's first pass finds the active chunks and carries on.
func (m *Manager) Run(ctx context.Context) error {
	for {
		next, err := m.Pass(ctx)
		if err != nil && ctx.Err() == nil {
			m.logger.Warn("continuous recording pass", "err", err)
		}
		wait := m.cfg.Every
		if !next.IsZero() {
			if d := next.Sub(m.cfg.Now()); d < wait {
				wait = max(d, 0)
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-m.poke:
		case <-t.C:
		}
		t.Stop()
	}
}

// Pass brings every source to its one active chunk as of the clock's now
// and returns the earliest boundary to come (zero when none records).
func (m *Manager) Pass(ctx context.Context) (next time.Time, err error) {
	now := m.cfg.Now().UTC()
	srcs, err := m.store.RecordModeSources(ctx, sqlstore.RecordAlways)
	if err != nil {
		return time.Time{}, err
	}
	recs, err := m.store.ListRecordings(ctx, sqlstore.RecordingFilter{ActiveOnly: true})
	if err != nil {
		return time.Time{}, err
	}
	active := map[string][]sqlstore.Recording{} // source id -> active chunks, newest first
	for _, r := range recs {
		if r.Continuous {
			active[r.SourceID] = append(active[r.SourceID], r)
		}
	}
	always := map[string]bool{}
	var errs []error
	for _, src := range srcs {
		always[src.ID] = true
		end, err := m.keep(ctx, src, active[src.ID], now)
		errs = append(errs, err)
		if !end.IsZero() && (next.IsZero() || end.Before(next)) {
			next = end
		}
	}
	// Sources no longer recording always: their chunk stops now.
	for id, chunks := range active {
		if always[id] {
			continue
		}
		src, err := m.store.GetSource(ctx, id)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, c := range chunks {
			errs = append(errs, m.stop(ctx, src, c, now, "record off"))
		}
		m.desired.PublishDesired(ctx, src.Feeds()...)
	}
	return next, errors.Join(errs...)
}

// keep brings src to one active chunk containing now and returns where it
// ends.
func (m *Manager) keep(ctx context.Context, src sqlstore.Source, chunks []sqlstore.Recording, now time.Time) (time.Time, error) {
	chunk := src.RecordChunk
	if chunk <= 0 {
		chunk = m.cfg.Chunk
	}
	changed := false
	defer func() {
		if changed {
			m.desired.PublishDesired(ctx, src.Feeds()...)
		}
	}()
	var cur sqlstore.Recording
	if len(chunks) > 0 {
		// One active chunk per source; more (two nodes on one store, a
		// bug) are stopped so the newest goes on alone.
		cur = chunks[0]
		for _, extra := range chunks[1:] {
			changed = true
			if err := m.stop(ctx, src, extra, now, "a newer chunk is active"); err != nil {
				return time.Time{}, err
			}
		}
	} else {
		// The first chunk starts now and ends at the next boundary.
		rec, err := m.start(ctx, src, now, chunk)
		if err != nil {
			return time.Time{}, err
		}
		changed, cur = true, rec
	}
	for {
		m.mu.Lock()
		from := cur.StartAt
		if s, ok := m.seen[cur.ID]; ok && s.After(from) {
			from = s
		}
		end := Next(from, chunk)
		if now.Before(end) {
			m.seen[cur.ID], m.ends[cur.ID] = now, end
			m.mu.Unlock()
			return end, nil
		}
		m.mu.Unlock()
		// The boundary passed: this chunk stops exactly there and the next
		// starts exactly there, so no segment falls between them.
		changed = true
		if err := m.stop(ctx, src, cur, end, ""); err != nil {
			return time.Time{}, err
		}
		start := end
		if floor := Floor(now.Add(-m.cfg.Lookback), chunk); floor.After(start) {
			m.logger.Warn("continuous recording: the control node missed chunks; nothing could be recorded between",
				"source", src.Name, "from", start, "to", floor)
			start = floor
		}
		rec, err := m.start(ctx, src, start, chunk)
		if err != nil {
			return time.Time{}, err
		}
		cur = rec
	}
}

// start creates a chunk of src from at.
func (m *Manager) start(ctx context.Context, src sqlstore.Source, at time.Time, chunk time.Duration) (sqlstore.Recording, error) {
	layout := "2006-01-02 15:04"
	if chunk%time.Minute != 0 || at.Second() != 0 || at.Nanosecond() != 0 {
		layout = "2006-01-02 15:04:05"
	}
	rec, err := m.store.CreateRecording(ctx, sqlstore.Recording{
		SourceID: src.ID, StartAt: at, Continuous: true,
		Alias:       src.Name + " " + at.UTC().Format(layout),
		Description: "continuous recording, chunks of " + days.Format(chunk) + " (UTC)",
	})
	if err != nil {
		return rec, fmt.Errorf("continuous recording of %s: %w", src.Name, err)
	}
	m.logger.Info("continuous recording chunk started", "source", src.Name, "recording", rec.ID, "since", at.Format(time.RFC3339Nano))
	m.events.Emit(broker.EventRecordingStarted, broker.Event{Source: src.Name, Edge: src.Edge, Recording: rec.ID, Detail: "continuous chunk"})
	return rec, nil
}

// stop ends chunk rec of src at at.
func (m *Manager) stop(ctx context.Context, src sqlstore.Source, rec sqlstore.Recording, at time.Time, why string) error {
	m.mu.Lock()
	delete(m.seen, rec.ID)
	delete(m.ends, rec.ID)
	m.mu.Unlock()
	if _, err := m.store.StopRecording(ctx, rec.ID, at); err != nil && !errors.Is(err, sqlstore.ErrConflict) {
		return fmt.Errorf("continuous recording of %s: stop %s: %w", src.Name, rec.ID, err)
	}
	detail := "continuous chunk"
	if why != "" {
		detail += ": " + why
	}
	m.logger.Info("continuous recording chunk stopped", "source", src.Name, "recording", rec.ID, "at", at.Format(time.RFC3339Nano), "why", why)
	m.events.Emit(broker.EventRecordingStopped, broker.Event{Source: src.Name, Edge: src.Edge, Recording: rec.ID, Detail: detail})
	return nil
}
