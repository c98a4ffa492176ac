// Package retention deletes recordings the control node no longer keeps:
// by age (a source's --retain, else the node's) and by size (the node's
// --retain-size cap on every stored segment object), oldest first, never
// an active or a pinned recording, and never an object another recording
// still links (the store hands back only the keys no recording links any
// more, as DELETE /v1/recording does).
package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/internal/days"
	"github.com/lmx-video/lmx/sqlstore"
)

// Store is the state retention reads and deletes.
type Store interface {
	ListSources(ctx context.Context, nameFilter string) ([]sqlstore.Source, error)
	RetentionCandidates(ctx context.Context, f sqlstore.CandidateFilter) ([]sqlstore.RetentionCandidate, error)
	ExpireRecording(ctx context.Context, id string) ([]string, int64, error)
	StorageTotals(ctx context.Context) (sqlstore.StorageTotals, error)
}

// Objects deletes recorded objects from the spool and the recordings
// store; it returns how many went.
type Objects interface {
	RemoveObjects(ctx context.Context, keys []string) int
}

// Desired republishes an edge's desired state (a stopped recording is
// listed there for a while; a deleted one must leave it).
type Desired interface {
	PublishDesired(ctx context.Context, edges ...string)
}

// Emitter records what happened.
type Emitter interface {
	Emit(kind string, ev broker.Event)
}

// Reasons a recording is deleted, the reason label of the metrics.
const (
	// ReasonAge: it ended longer ago than its source's retention.
	ReasonAge = "age"
	// ReasonSize: the store was over --retain-size.
	ReasonSize = "size"
)

// Series are the metrics retention keeps.
type Series struct {
	// Deleted and DeletedBytes count deleted recordings and the bytes
	// their deletion freed, by reason.
	Deleted, DeletedBytes *prometheus.CounterVec
	// Stored, Pinned and Protected are the bytes of every stored segment,
	// of those a pinned recording links, and of those a pinned or active
	// one links.
	Stored, Pinned, Protected prometheus.Gauge
	// OverCap is 1 while pinned and active recordings alone exceed the cap.
	OverCap prometheus.Gauge
}

// Config is what retention decides by.
type Config struct {
	// Retain is how long recordings of a source that sets no retention
	// are kept after they stop; 0 keeps them.
	Retain time.Duration
	// MaxBytes caps the bytes of every stored segment object; 0 is no cap.
	MaxBytes int64
	// Every is the time between passes (default 1 min).
	Every time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Deletion is one recording a pass deleted.
type Deletion struct {
	// Recording and Source name what went.
	Recording, Source string
	// Reason is ReasonAge or ReasonSize.
	Reason string
	// Bytes and Objects are what its deletion freed.
	Bytes   int64
	Objects int
	// Detail says why, in the words of the event.
	Detail string
}

// Enforcer applies retention.
type Enforcer struct {
	cfg     Config
	store   Store
	objects Objects
	desired Desired
	events  Emitter
	series  Series
	logger  *slog.Logger
	poke    chan struct{}

	// warned is the situation last warned about (pinned and active over
	// the cap, with so many pins), so a warning is said once per change.
	warned warnKey
}

type warnKey struct {
	over   bool
	pinned int
}

// New returns an enforcer; Run drives it.
func New(cfg Config, store Store, objects Objects, desired Desired, events Emitter, series Series, logger *slog.Logger) *Enforcer {
	if cfg.Every <= 0 {
		cfg.Every = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Enforcer{cfg: cfg, store: store, objects: objects, desired: desired, events: events, series: series, logger: logger, poke: make(chan struct{}, 1)}
}

// Poke asks for a pass now.
func (e *Enforcer) Poke() {
	select {
	case e.poke <- struct{}{}:
	default:
	}
}

// Run makes a pass now and every Config.Every (and on Poke) until ctx ends.
func (e *Enforcer) Run(ctx context.Context) error {
	t := time.NewTicker(e.cfg.Every)
	defer t.Stop()
	for {
		if _, err := e.Pass(ctx); err != nil && ctx.Err() == nil {
			e.logger.Warn("retention pass", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-e.poke:
		}
	}
}

// Pass deletes what is expired by age, then what the size cap needs,
// and returns what it deleted.
func (e *Enforcer) Pass(ctx context.Context) ([]Deletion, error) {
	now := e.cfg.Now()
	srcs, err := e.store.ListSources(ctx, "")
	if err != nil {
		return nil, err
	}
	byID := make(map[string]sqlstore.Source, len(srcs))
	for _, s := range srcs {
		byID[s.ID] = s
	}
	var out []Deletion
	var errs []error
	touched := map[string]bool{} // edges whose desired state lists a deleted recording
	for _, src := range srcs {
		keep, detail := e.retainOf(src)
		if keep <= 0 {
			continue
		}
		for {
			cands, err := e.store.RetentionCandidates(ctx, sqlstore.CandidateFilter{SourceID: src.ID, EndedBefore: now.Add(-keep), Limit: 100})
			if err != nil {
				errs = append(errs, err)
				break
			}
			n := 0
			for _, c := range cands {
				if d, ok := e.expire(ctx, c, src, ReasonAge, detail, &errs); ok {
					out, n = append(out, d), n+1
					for _, f := range src.Feeds() {
						touched[f] = true
					}
				}
			}
			if n == 0 || len(cands) < 100 {
				break
			}
		}
	}
	totals, err := e.store.StorageTotals(ctx)
	if err != nil {
		return out, errors.Join(append(errs, err)...)
	}
	if e.cfg.MaxBytes > 0 && totals.Bytes > e.cfg.MaxBytes {
		dels, err := e.shrink(ctx, &totals, byID)
		errs = append(errs, err)
		for _, d := range dels {
			for _, f := range byID[d.srcID].Feeds() {
				touched[f] = true
			}
			out = append(out, d.Deletion)
		}
		if len(dels) > 0 {
			if t, err := e.store.StorageTotals(ctx); err == nil {
				totals = t
			}
		}
	}
	for edge := range touched {
		e.desired.PublishDesired(ctx, edge)
	}
	e.gauges(totals)
	e.warn(totals)
	return out, errors.Join(errs...)
}

// sizeDeletion is a Deletion with its source's id.
type sizeDeletion struct {
	Deletion
	srcID string
}

// shrink deletes the oldest unpinned stopped recordings until the store
// is within the cap. A recording whose every segment another recording
// also links frees nothing: it is passed over until it would (once the
// other goes), so no recording is deleted for nothing.
func (e *Enforcer) shrink(ctx context.Context, totals *sqlstore.StorageTotals, byID map[string]sqlstore.Source) ([]sizeDeletion, error) {
	var out []sizeDeletion
	var errs []error
	limit := 32
	for totals.Bytes > e.cfg.MaxBytes {
		cands, err := e.store.RetentionCandidates(ctx, sqlstore.CandidateFilter{Limit: limit})
		if err != nil {
			return out, err
		}
		progress := false
		for _, c := range cands {
			if totals.Bytes <= e.cfg.MaxBytes {
				break
			}
			if c.FreeBytes == 0 {
				continue
			}
			detail := fmt.Sprintf("store %s over --retain-size %s", human(totals.Bytes), human(e.cfg.MaxBytes))
			d, ok := e.expire(ctx, c, byID[c.SourceID], ReasonSize, detail, &errs)
			if !ok {
				continue
			}
			totals.Bytes -= d.Bytes
			out = append(out, sizeDeletion{d, c.SourceID})
			progress = true
		}
		if !progress {
			if len(cands) < limit {
				break // nothing left that frees anything
			}
			limit *= 2
		}
	}
	return out, errors.Join(errs...)
}

// expire deletes one candidate and its orphaned objects, and says so.
func (e *Enforcer) expire(ctx context.Context, c sqlstore.RetentionCandidate, src sqlstore.Source, reason, detail string, errs *[]error) (Deletion, bool) {
	keys, freed, err := e.store.ExpireRecording(ctx, c.ID)
	switch {
	case errors.Is(err, sqlstore.ErrConflict), errors.Is(err, sqlstore.ErrNotFound):
		return Deletion{}, false // pinned, or deleted, since it was chosen
	case err != nil:
		*errs = append(*errs, err)
		return Deletion{}, false
	}
	removed := e.objects.RemoveObjects(ctx, keys)
	if removed < len(keys) {
		e.logger.Warn("retention: some recorded objects could not be deleted (their rows are gone; the store keeps the bytes)",
			"recording", c.ID, "objects", len(keys), "deleted", removed)
	}
	d := Deletion{Recording: c.ID, Source: src.Name, Reason: reason, Bytes: freed, Objects: len(keys), Detail: detail}
	e.series.Deleted.WithLabelValues(reason).Inc()
	e.series.DeletedBytes.WithLabelValues(reason).Add(float64(freed))
	e.logger.Info("recording expired", "recording", c.ID, "source", src.Name, "reason", detail, "bytes", freed, "objects", len(keys))
	e.events.Emit(broker.EventRecordingExpired, broker.Event{Source: src.Name, Edge: src.Edge, Recording: c.ID,
		Detail: fmt.Sprintf("%s; %d objects, %s deleted", detail, len(keys), human(freed))})
	return d, true
}

// retainOf is how long src's recordings are kept (0: for good) and why,
// in the words of an event.
func (e *Enforcer) retainOf(src sqlstore.Source) (time.Duration, string) {
	switch {
	case src.Retain == sqlstore.RetainForever:
		return 0, ""
	case src.Retain > 0:
		return src.Retain, "older than retain " + days.Format(src.Retain)
	case e.cfg.Retain > 0:
		return e.cfg.Retain, "older than --retain " + days.Format(e.cfg.Retain)
	}
	return 0, ""
}

// ExpiresAt is when retention by age deletes rec of src (zero: never, or
// not known while it is active or pinned).
func ExpiresAt(rec sqlstore.Recording, src sqlstore.Source, nodeRetain time.Duration) time.Time {
	return rec.ExpiresAt(src, nodeRetain)
}

func (e *Enforcer) gauges(t sqlstore.StorageTotals) {
	e.series.Stored.Set(float64(t.Bytes))
	e.series.Pinned.Set(float64(t.PinnedBytes))
	e.series.Protected.Set(float64(t.ProtectedBytes))
}

// warn says, once per change, when pinned and active recordings alone
// hold more than the cap: retention can delete nothing more.
func (e *Enforcer) warn(t sqlstore.StorageTotals) {
	key := warnKey{over: e.cfg.MaxBytes > 0 && t.ProtectedBytes > e.cfg.MaxBytes, pinned: t.Pinned}
	if !key.over {
		if e.warned.over {
			e.logger.Info("retention: pinned and active recordings are within --retain-size again", "protected", human(t.ProtectedBytes), "cap", human(e.cfg.MaxBytes))
		}
		e.warned = key
		e.series.OverCap.Set(0)
		return
	}
	e.series.OverCap.Set(1)
	if key == e.warned {
		return
	}
	e.warned = key
	msg := fmt.Sprintf("pinned and active recordings alone hold %s, over --retain-size %s (%d pinned): they are never deleted; unpin some (lmx rec unpin ID) or raise --retain-size",
		human(t.ProtectedBytes), human(e.cfg.MaxBytes), t.Pinned)
	e.logger.Warn("retention: " + msg)
	e.events.Emit(broker.EventRetentionWarning, broker.Event{Detail: msg})
}

// human prints a byte count as "201.3 GiB".
func human(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n), -1
	for v >= unit && i < 4 {
		v /= unit
		i++
	}
	s := fmt.Sprintf("%.1f", v)
	if len(s) > 2 && s[len(s)-2:] == ".0" {
		s = s[:len(s)-2]
	}
	return s + " " + []string{"KiB", "MiB", "GiB", "TiB", "PiB"}[i]
}
