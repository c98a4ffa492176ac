package edges

import (
	"context"
	"fmt"
	"time"

	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/internal/redact"
	"github.com/lmx-video/lmx/sqlstore"
)

// RecentPush is how old a source's newest segment may be, in an edge's
// status, for the status alone to register the source: a source pushed
// within it is being pushed now. The management API refuses to remove a
// source pushed within the same bound (or three target durations), so a
// source it removes is never registered again from a heartbeat.
const RecentPush = 10 * time.Second

// pushedLately reports whether src, in edge status st, had a segment within
// RecentPush of the status, by the edge's own clock.
func pushedLately(st broker.EdgeStatus, src broker.SourceStatus) bool {
	if src.LastSegmentAt.IsZero() {
		return false
	}
	at := st.Time
	if at.IsZero() {
		return true // an edge that does not say its time: trust the push
	}
	return at.Sub(src.LastSegmentAt) <= RecentPush
}

// removedError says that name was removed while pushed, and how to bring
// it back.
func removedError(rm sqlstore.RemovedSource, now time.Time) error {
	by := ""
	if rm.RemovedBy != "" {
		by = " by " + rm.RemovedBy
	}
	return fmt.Errorf("%w (%w): source %q was removed %s ago%s (at %s) and is not registered again by a push: `lmx source add %s` brings it back",
		sqlstore.ErrNotFound, sqlstore.ErrRemoved, rm.Name, now.Sub(rm.RemovedAt).Round(time.Second), by,
		rm.RemovedAt.UTC().Format(time.RFC3339), rm.Name)
}

// maskPulls masks camera credentials in what st reports of its pulls (ffmpeg's
// last error line, warnings): the edge masks them already, and the control
// node does it again before anything is stored, relayed or shown, with the
// source's own URL when it knows it and with any URL written in the line.
// It reports whether it changed st.
func (t *Tracker) maskPulls(ctx context.Context, st *broker.EdgeStatus) bool {
	changed := false
	for i := range st.Sources {
		p := st.Sources[i].Pull
		if p == nil || (p.LastError == "" && len(p.Warnings) == 0) {
			continue
		}
		raw := ""
		if src, err := t.store.GetSource(ctx, st.Sources[i].Name); err == nil {
			raw = src.PullURL
		}
		mask := func(s string) string { return redact.Text(redact.Line(s, raw)) }
		masked := *p
		masked.LastError = mask(p.LastError)
		masked.Warnings = nil
		same := masked.LastError == p.LastError
		for _, w := range p.Warnings {
			m := mask(w)
			same = same && m == w
			masked.Warnings = append(masked.Warnings, m)
		}
		if !same {
			st.Sources[i].Pull = &masked
			changed = true
		}
	}
	return changed
}

// pullChanges emits broker.EventPullChanged for every source of next whose
// pull state or last error differs from prev's (a source first seen counts
// as changed from nothing).
func (t *Tracker) pullChanges(prev, next broker.EdgeStatus) {
	if !next.Online {
		return
	}
	before := map[string]*broker.PullStatus{}
	for _, s := range prev.Sources {
		before[s.Name] = s.Pull
	}
	for _, s := range next.Sources {
		p := s.Pull
		if p == nil {
			continue
		}
		if old := before[s.Name]; old != nil && prev.Online && old.State == p.State && old.LastError == p.LastError {
			continue
		}
		detail := PullDetail(p)
		t.logger.Info("pull changed", "edge", next.Edge, "source", s.Name, "state", detail)
		t.events.Emit(broker.EventPullChanged, broker.Event{Edge: next.Edge, Source: s.Name, Detail: detail})
	}
}

// PullDetail says a pull state in one line: "running", "backoff ×3: <last
// error>", "refused: <why>". Its parts are the edge's report, already masked.
func PullDetail(p *broker.PullStatus) string {
	d := p.State
	if d == "" {
		d = "unknown"
	}
	if p.State == "backoff" && p.Restarts > 0 {
		d += fmt.Sprintf(" ×%d", p.Restarts)
	}
	if p.LastError != "" {
		if p.State == "running" {
			d += " (last error: " + p.LastError + ")"
		} else {
			d += ": " + p.LastError
		}
	}
	return d
}
