package edged

import (
	"context"
	"errors"
	"time"
)

// Live streaming keeps the control node's playlist close to the edge: after
// an outage it skips to the newest segments instead of replaying a backlog.
const (
	// liveStartSegments is how many buffered segments are sent when streaming
	// starts, so a player has a playlist at once.
	liveStartSegments = 3
	// liveMaxLag is how far behind the newest segment the streamer may fall
	// before it skips ahead. The control node marks the jump in its live
	// playlist with a discontinuity, seeing the edge's sequence numbers jump;
	// the edge does not flag it (see uploader.upload).
	liveMaxLag = 4
)

// streamer uploads one source's new segments while it streams.
type streamer struct {
	cancel context.CancelFunc
	notify chan struct{}
	done   chan struct{}
}

func (st *streamer) wake() {
	select {
	case st.notify <- struct{}{}:
	default:
	}
}

// startStream starts uploading src's segments, unless the edge is not
// running. The caller holds e.mu.
func (e *Edge) startStream(src *sourceState) {
	if src.stream != nil || e.runCtx == nil || e.stopping {
		return
	}
	ctx, cancel := context.WithCancel(e.runCtx)
	st := &streamer{cancel: cancel, notify: make(chan struct{}, 1), done: make(chan struct{})}
	src.stream = st
	backfill := time.Duration(e.desired.Sources[src.name].Backfill)
	e.logger.Info("streaming to the control node", "source", src.name, "backfill", backfill)
	e.goLocked(func() {
		defer close(st.done)
		e.streamLoop(ctx, src, st, backfill)
	})
}

// stopStream stops uploading src's segments. The caller holds e.mu; the
// streamer, if any, is waited for outside it (its done channel).
func (e *Edge) stopStream(src *sourceState) *streamer {
	st := src.stream
	if st == nil {
		return nil
	}
	src.stream = nil
	st.cancel()
	e.logger.Info("streaming stopped", "source", src.name)
	return st
}

// streamLoop uploads src's segments from a few buffered ones on, or from
// those of the last backfill (a woken on-demand source: the control node
// asks for a playable window of buffered media at once), then each new one.
//
// The segments of an adaptive-bitrate source's renditions are numbered
// together, so the counts are per rendition: three segments of each.
func (e *Edge) streamLoop(ctx context.Context, src *sourceState, st *streamer, backfill time.Duration) {
	var last, caughtUp uint64
	src.pushMu.Lock()
	per := uint64(src.renditionCount())
	src.pushMu.Unlock()
	if n := e.ring.newest(src.name); n != nil {
		caughtUp = n.Seq
		if n.Seq > liveStartSegments*per {
			last = n.Seq - liveStartSegments*per
		}
		if backfill > 0 {
			last = min(last, e.ring.seqBefore(src.name, time.Now().Add(-backfill)))
		}
	}
	backoff := 250 * time.Millisecond
	failing := false
	for ctx.Err() == nil {
		newest := e.ring.newest(src.name)
		if newest == nil || newest.Seq <= last {
			select {
			case <-ctx.Done():
				return
			case <-st.notify:
			}
			continue
		}
		// The buffered segments sent at the start are no backlog to skip:
		// the lag counts from the newest segment there was then.
		if newest.Seq > max(last, caughtUp)+liveMaxLag*per {
			e.logger.Info("live upload fell behind; skipping to the newest segments", "source", src.name, "skipped", newest.Seq-last-2*per)
			last = newest.Seq - 2*per
		}
		// If the ring buffer let the next one go, the oldest after it goes.
		seg := e.ring.after(src.name, last)
		if seg == nil {
			continue
		}
		// Recordings that want this segment get it from the same upload.
		recs := e.ring.pendingFor(seg)
		reply, err := e.up.upload(ctx, src.name, seg, true, recs)
		switch {
		case err == nil:
			e.ring.ack(seg, append(reply.Acked, reply.Rejected...))
			last, backoff = seg.Seq, 250*time.Millisecond
			if failing {
				e.logger.Info("uploads to the control node resumed", "source", src.name)
				failing = false
			}
			e.mu.Lock()
			src.uploaded++
			e.mu.Unlock()
		case ctx.Err() != nil:
			return
		case errors.Is(err, errAuth):
			// The uploader says so once for the edge; the segment is kept
			// and retried, and live skips ahead as after any outage.
			if !sleepCtx(ctx, backoff) {
				return
			}
			backoff = min(backoff*2, 5*time.Second)
		case errors.Is(err, errRejected):
			e.logger.Warn("segment rejected by the control node", "source", src.name, "seq", seg.Seq, "err", err)
			last = seg.Seq
			e.ring.ack(seg, recs)
			e.mu.Lock()
			src.dropped++
			e.mu.Unlock()
			if !sleepCtx(ctx, backoff) {
				return
			}
		default:
			if !failing {
				e.logger.Warn("upload to the control node failed; retrying with backoff", "source", src.name, "err", err)
				failing = true
			}
			if !sleepCtx(ctx, backoff) {
				return
			}
			backoff = min(backoff*2, 5*time.Second)
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
