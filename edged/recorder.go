package edged

import (
	"context"
	"errors"
	"time"

	"github.com/lmx-video/lmx/broker"
)

// recorderLoop uploads the segments recordings of one source wait for, oldest
// first, whether or not the source streams live. A segment stays in the ring
// buffer until the control node acknowledges it for every recording that
// wants it; after an outage the backlog is sent in order.
type recorderLoop struct {
	cancel context.CancelFunc
	notify chan struct{}
	done   chan struct{}
}

func (rl *recorderLoop) wake() {
	select {
	case rl.notify <- struct{}{}:
	default:
	}
}

// recWindows turns a desired source's recordings into the ring's terms.
func recWindows(ds broker.DesiredSource) []recWindow {
	var out []recWindow
	for _, r := range ds.Recordings {
		out = append(out, recWindow{ID: r.ID, Since: r.Since, Until: r.Until})
	}
	return out
}

// startRecorder starts feeding src's recordings, or wakes the loop that
// does, unless the edge is not running. The loop runs until Run winds down,
// which waits for it. The caller holds e.mu.
func (e *Edge) startRecorder(src *sourceState) {
	if src.recorder != nil {
		src.recorder.wake()
		return
	}
	if e.runCtx == nil || e.stopping {
		return
	}
	ctx, cancel := context.WithCancel(e.runCtx)
	rl := &recorderLoop{cancel: cancel, notify: make(chan struct{}, 1), done: make(chan struct{})}
	src.recorder = rl
	e.goLocked(func() {
		defer close(rl.done)
		e.recordLoop(ctx, src, rl)
	})
}

func (e *Edge) recordLoop(ctx context.Context, src *sourceState, rl *recorderLoop) {
	backoff := 250 * time.Millisecond
	failing := false
	for ctx.Err() == nil {
		seg, recs := e.ring.nextPending(src.name)
		if seg == nil {
			select {
			case <-ctx.Done():
				return
			case <-rl.notify:
			case <-time.After(5 * time.Second):
			}
			continue
		}
		reply, err := e.up.upload(ctx, src.name, seg, false, recs)
		switch {
		case err == nil:
			e.ring.ack(seg, append(reply.Acked, reply.Rejected...))
			if len(reply.Rejected) > 0 {
				e.logger.Debug("recording declined a segment", "source", src.name, "seq", seg.Seq, "recordings", reply.Rejected)
			}
			backoff = 250 * time.Millisecond
			if failing {
				e.logger.Info("recording uploads resumed", "source", src.name)
				failing = false
			}
		case ctx.Err() != nil:
			return
		case errors.Is(err, errAuth):
			// The uploader says so once for the edge; the segment stays
			// pending until the control node takes it.
			if !sleepCtx(ctx, backoff) {
				return
			}
			backoff = min(backoff*2, 5*time.Second)
		case errors.Is(err, errRejected):
			e.logger.Warn("recorded segment rejected by the control node", "source", src.name, "seq", seg.Seq, "err", err)
			e.ring.ack(seg, recs)
			e.mu.Lock()
			src.dropped++
			e.mu.Unlock()
		default:
			if !failing {
				e.logger.Warn("recording upload failed; segments stay buffered and are retried", "source", src.name, "err", err)
				failing = true
			}
			if !sleepCtx(ctx, backoff) {
				return
			}
			backoff = min(backoff*2, 5*time.Second)
		}
	}
}
