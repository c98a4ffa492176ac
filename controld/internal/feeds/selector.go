package feeds

import (
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lmx-video/lmx/broker"
)

// Lister takes a new active feed's held segments: it lists them live and
// records them as ingest would have done had they been the active feed's.
// It is called with the source's selection locked, so no upload of the new
// feed is listed before them; it must not call back into the Selector.
type Lister interface {
	ListSwitched(src Source, segs []Segment)
}

// ListerFunc is a function as a Lister.
type ListerFunc func(src Source, segs []Segment)

// ListSwitched calls f.
func (f ListerFunc) ListSwitched(src Source, segs []Segment) { f(src, segs) }

// Emitter records what happened.
type Emitter interface {
	Emit(kind string, ev broker.Event)
}

// Config is how the selector behaves.
type Config struct {
	// Held is how many segments of each standby feed are held (at least
	// 2; 8 by default: four of each of two adaptive-bitrate renditions).
	Held int
	// Grace is the part of a segment's length the active feed's next one
	// may be late before a standby is listed in its place: the jitter of
	// the push, the read and the upload. At most 0.5: the switch must land
	// within one target duration of the due time.
	Grace float64
	// History is how many switches a source remembers.
	History int
}

// Defaults fills what c leaves zero.
func (c Config) withDefaults() Config {
	if c.Held < 2 {
		c.Held = 8
	}
	if c.Grace <= 0 || c.Grace > 0.5 {
		c.Grace = 0.25
	}
	if c.History <= 0 {
		c.History = 10
	}
	return c
}

// Series are the metrics the selector keeps.
type Series struct {
	// Switches counts changes of the active feed, by reason.
	Switches *prometheus.CounterVec
	// FailoverSeconds is how late after the due time failovers listed the
	// new feed's first segment.
	FailoverSeconds prometheus.Observer
	// HeldBytes is the memory of held standby segments.
	HeldBytes prometheus.Gauge
}

// Selector keeps every multi-feed source's choice of active feed.
type Selector struct {
	cfg    Config
	lister Lister
	events Emitter
	series Series
	logger *slog.Logger
	// now and afterFunc are the clock, replaced in tests.
	now       func() time.Time
	afterFunc func(time.Duration, func()) func() bool

	mu      sync.Mutex
	sources map[string]*sourceState // by source id
}

// sourceState is one source's feeds and choice.
type sourceState struct {
	mu       sync.Mutex
	src      Source
	active   string
	prefer   string // the --prefer last acted on
	feeds    map[string]*feedState
	switches []Switch
	// stopTimer cancels the pending re-check at timerAt.
	stopTimer func() bool
	timerAt   time.Time
}

// New returns a selector that hands switched-to segments to lister.
func New(cfg Config, lister Lister, events Emitter, series Series, logger *slog.Logger) *Selector {
	return &Selector{
		cfg: cfg.withDefaults(), lister: lister, events: events, series: series, logger: logger,
		now: time.Now,
		afterFunc: func(d time.Duration, f func()) func() bool {
			return time.AfterFunc(d, f).Stop
		},
		sources: map[string]*sourceState{},
	}
}

// state returns the source's state, made on first use.
func (s *Selector) state(id string) *sourceState {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.sources[id]
	if !ok {
		st = &sourceState{feeds: map[string]*feedState{}}
		s.sources[id] = st
	}
	return st
}

// lookup returns the source's state, if it has one.
func (s *Selector) lookup(id string) *sourceState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sources[id]
}

// Forget drops a source's state (removed, or back to one feed).
func (s *Selector) Forget(id string) {
	s.mu.Lock()
	st := s.sources[id]
	delete(s.sources, id)
	s.mu.Unlock()
	if st != nil {
		st.mu.Lock()
		if st.stopTimer != nil {
			st.stopTimer()
		}
		st.feeds = map[string]*feedState{}
		st.mu.Unlock()
		s.updateHeld()
	}
}

// Admit says what ingest does with an upload of seg for src: Active, go on
// as for a source with one feed (then list it through WhileActive); Held,
// the selector took it (a standby's, or the first of a feed it switched to
// on this very upload).
func (s *Selector) Admit(src Source, seg Segment) Role {
	if len(src.Feeds) <= 1 {
		if s.lookup(src.ID) != nil {
			s.Forget(src.ID)
		}
		return Active
	}
	st := s.state(src.ID)
	role := s.admitLocked(st, src, seg)
	if role == Held {
		s.updateHeld()
	}
	return role
}

// admitLocked is Admit with the source's selection locked.
func (s *Selector) admitLocked(st *sourceState, src Source, seg Segment) Role {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.src = src
	now := s.now()
	f := st.feed(seg.Edge)
	f.observe(seg)
	if st.active != "" && !slices.Contains(src.Feeds, st.active) {
		s.switchLocked(st, "", -1, ReasonRemoved, fmt.Sprintf("%s is no longer a feed of the source", st.active), time.Time{})
	}
	if st.active == "" {
		s.switchLocked(st, seg.Edge, -1, ReasonFirst, "first feed to deliver", time.Time{})
		return Active
	}
	if seg.Edge == st.active {
		return Active
	}
	f.hold(seg, s.cfg.Held)
	s.evaluateLocked(st, now)
	return Held
}

// WhileActive runs list (the live append of an Active upload) unless edge
// stopped being the source's active feed since Admit, so that no segment
// of a feed switched away from is listed after the new feed's.
func (s *Selector) WhileActive(sourceID, edge string, list func()) bool {
	st := s.lookup(sourceID)
	if st == nil {
		list()
		return true
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.active != "" && st.active != edge {
		return false
	}
	list()
	return true
}

func (st *sourceState) feed(edge string) *feedState {
	f, ok := st.feeds[edge]
	if !ok {
		f = &feedState{edge: edge}
		st.feeds[edge] = f
	}
	return f
}

// evaluateLocked switches when the operator's preferred feed can take
// over, or when the active feed's next segment is overdue and a standby
// holds media past its end; otherwise it arms a re-check for the moment
// the active feed's segment becomes overdue.
func (s *Selector) evaluateLocked(st *sourceState, now time.Time) {
	a := st.feeds[st.active]
	if a == nil || a.newestEnd.IsZero() {
		return
	}
	end := a.end()
	due := end.Add(seconds(a.lastDur))
	if st.src.Prefer != st.prefer {
		switch p := st.feeds[st.src.Prefer]; {
		case st.src.Prefer == "" || st.src.Prefer == st.active:
			st.prefer = st.src.Prefer
		case p != nil && p.healthy(now):
			// Ahead of the active feed, its held media from where the
			// active's ends is listed; level with it (holding the media of
			// the active's newest segment), it takes over from its next.
			i := p.firstAfter(end)
			if i >= 0 || p.firstAfter(end.Add(-seconds(a.lastDur))) >= 0 {
				st.prefer = st.src.Prefer
				s.switchLocked(st, p.edge, i, ReasonPrefer, "preferred by the operator", time.Time{})
				return
			}
		}
	}
	overdue := due.Add(seconds(a.lastDur * s.cfg.Grace))
	if now.Before(overdue) {
		s.armLocked(st, overdue)
		return
	}
	var pick *feedState
	pickAt := -1
	for _, edge := range st.candidates() {
		f := st.feeds[edge]
		if f == nil || edge == st.active {
			continue
		}
		if i := f.firstAfter(end); i >= 0 {
			pick, pickAt = f, i
			break
		}
	}
	if pick == nil {
		return // the standbys' next uploads look again
	}
	detail := fmt.Sprintf("no segment from %s for %.1f s after one was due", st.active, now.Sub(due).Seconds())
	s.switchLocked(st, pick.edge, pickAt, ReasonMissed, detail, due)
}

// candidates is the order failover tries the feeds in: the preferred one,
// then the operator's order.
func (st *sourceState) candidates() []string {
	out := make([]string, 0, len(st.src.Feeds))
	if st.src.Prefer != "" {
		out = append(out, st.src.Prefer)
	}
	for _, f := range st.src.Feeds {
		if f != st.src.Prefer {
			out = append(out, f)
		}
	}
	return out
}

// armLocked makes sure the source is looked at again at t.
func (s *Selector) armLocked(st *sourceState, t time.Time) {
	if st.stopTimer != nil && !st.timerAt.After(t) && st.timerAt.After(s.now()) {
		return
	}
	if st.stopTimer != nil {
		st.stopTimer()
	}
	st.timerAt = t
	id := st.src.ID
	st.stopTimer = s.afterFunc(t.Sub(s.now()), func() { s.recheck(id) })
}

// recheck is the armed timer firing.
func (s *Selector) recheck(id string) {
	st := s.lookup(id)
	if st == nil {
		return
	}
	st.mu.Lock()
	st.stopTimer = nil
	s.evaluateLocked(st, s.now())
	st.mu.Unlock()
	s.updateHeld()
}

// switchLocked makes to the active feed, listing its held segments from
// index from on (none for -1); due is when the old feed's segment was due
// (zero when the switch is no failover).
func (s *Selector) switchLocked(st *sourceState, to string, from int, reason, detail string, due time.Time) {
	now := s.now()
	old := st.active
	if f := st.feeds[old]; f != nil && to != "" {
		f.fenced = true
	}
	var listed []Segment
	if f := st.feeds[to]; f != nil {
		f.fenced = false
		if from >= 0 {
			listed = f.held[from:]
		}
		f.held = nil
	}
	st.active = to
	sw := Switch{At: now, From: old, To: to, Reason: reason, Detail: detail, Listed: len(listed)}
	if !due.IsZero() {
		sw.LateBy = now.Sub(due)
	}
	st.switches = append(st.switches, sw)
	if len(st.switches) > s.cfg.History {
		st.switches = slices.Delete(st.switches, 0, len(st.switches)-s.cfg.History)
	}
	if to == "" {
		return
	}
	if s.series.Switches != nil {
		s.series.Switches.WithLabelValues(reason).Inc()
	}
	if reason == ReasonFirst {
		s.logger.Info("feed active", "source", st.src.Name, "edge", to, "reason", detail)
		return
	}
	if reason == ReasonMissed && s.series.FailoverSeconds != nil {
		s.series.FailoverSeconds.Observe(sw.LateBy.Seconds())
	}
	attrs := []any{"source", st.src.Name, "from", old, "to", to, "reason", detail, "late_by", sw.LateBy.Round(time.Millisecond), "listed", len(listed)}
	if len(listed) > 0 {
		attrs = append(attrs, "first_start", listed[0].Start.UTC().Format("15:04:05.000"), "first_edge_seq", listed[0].EdgeSeq)
	}
	s.logger.Warn("failover: another feed is active", attrs...)
	s.events.Emit(broker.EventFeedSwitched, broker.Event{Edge: to, Source: st.src.Name,
		Detail: fmt.Sprintf("%s → %s: %s", old, to, detail)})
	if len(listed) > 0 {
		s.lister.ListSwitched(st.src, listed)
	}
}

// updateHeld refreshes the held-bytes gauge.
func (s *Selector) updateHeld() {
	if s.series.HeldBytes == nil {
		return
	}
	s.mu.Lock()
	states := make([]*sourceState, 0, len(s.sources))
	for _, st := range s.sources {
		states = append(states, st)
	}
	s.mu.Unlock()
	var n int64
	for _, st := range states {
		if !st.mu.TryLock() {
			continue // counted on its own next change
		}
		for _, f := range st.feeds {
			n += f.heldBytes()
		}
		st.mu.Unlock()
	}
	s.series.HeldBytes.Set(float64(n))
}

// View is a source's feeds in the operator's order and its last switches,
// newest last. A source with one feed has no view (nil, nil).
func (s *Selector) View(src Source) ([]Feed, []Switch) {
	if len(src.Feeds) <= 1 {
		return nil, nil
	}
	now := s.now()
	st := s.lookup(src.ID)
	out := make([]Feed, 0, len(src.Feeds))
	if st == nil {
		for _, e := range src.Feeds {
			out = append(out, Feed{Edge: e})
		}
		return out, nil
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, e := range src.Feeds {
		fv := Feed{Edge: e, Active: e == st.active}
		if f := st.feeds[e]; f != nil {
			fv.Fenced, fv.Healthy, fv.LastSegmentAt, fv.Segments, fv.Held = f.fenced, f.healthy(now), f.lastAt, f.segments, len(f.held)
		}
		out = append(out, fv)
	}
	return out, slices.Clone(st.switches)
}

// ActiveFeed is the source's active feed ("" for a source with one feed,
// or before any delivered).
func (s *Selector) ActiveFeed(sourceID string) string {
	st := s.lookup(sourceID)
	if st == nil {
		return ""
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.active
}
