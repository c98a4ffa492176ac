package recording

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lmx-video/lmx/objstore"
)

// Gauges are the series the spool keeps current.
type Gauges struct {
	// Spooled is how many segments wait for the store.
	Spooled prometheus.Gauge
	// Persist is the time from arrival to the object being written.
	Persist prometheus.Observer
}

// spool makes recorded segments durable without waiting on the object
// store: a segment is first written to the spool in the data dir (that is
// what the edge's ack means), then copied to the store in the background,
// retried with backoff while the store is down or slow, and only then
// removed from the spool. The spool itself is the queue, so a restart picks
// up where it left off.
type spool struct {
	store  objstore.Store
	dir    *objstore.Dir
	logger *slog.Logger
	gauges Gauges

	mu      sync.Mutex
	queue   []string
	queued  map[string]time.Time // key -> when it was spooled
	notify  chan struct{}
	workers int
	// failing is shared by the workers, so an outage is logged once.
	failing atomic.Bool
}

func newSpool(store objstore.Store, spoolDir string, logger *slog.Logger, g Gauges) (*spool, error) {
	dir, err := objstore.NewDir(spoolDir)
	if err != nil {
		return nil, err
	}
	return &spool{store: store, dir: dir, logger: logger, gauges: g, queued: map[string]time.Time{}, notify: make(chan struct{}, 1), workers: 4}, nil
}

// put stores a segment durably in the spool and queues it for the
// store; arrived is when its upload reached the control node, where the
// persist latency is measured from.
func (r *spool) put(ctx context.Context, key string, data []byte, arrived time.Time) error {
	if err := r.dir.Put(ctx, key, data); err != nil {
		return err
	}
	r.enqueue(key, arrived)
	return nil
}

func (r *spool) enqueue(key string, at time.Time) {
	r.mu.Lock()
	if _, ok := r.queued[key]; !ok {
		r.queued[key] = at
		r.queue = append(r.queue, key)
	}
	n := len(r.queued)
	r.mu.Unlock()
	r.gauges.Spooled.Set(float64(n))
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

func (r *spool) next() (string, time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.queue) == 0 {
		return "", time.Time{}, false
	}
	key := r.queue[0]
	r.queue = r.queue[1:]
	return key, r.queued[key], true
}

func (r *spool) done(key string) {
	r.mu.Lock()
	delete(r.queued, key)
	n := len(r.queued)
	r.mu.Unlock()
	r.gauges.Spooled.Set(float64(n))
}

// run copies spooled segments to the store until ctx ends.
func (r *spool) run(ctx context.Context) {
	keys, err := r.dir.List(ctx, "")
	if err != nil {
		r.logger.Error("reading the recording spool", "err", err)
	}
	for _, k := range keys {
		r.enqueue(k, time.Now())
	}
	if len(keys) > 0 {
		r.logger.Info("resuming spooled recording segments", "segments", len(keys), "store", r.store.String())
	}
	var wg sync.WaitGroup
	for range r.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.work(ctx)
		}()
	}
	wg.Wait()
}

func (r *spool) work(ctx context.Context) {
	backoff := 250 * time.Millisecond
	for ctx.Err() == nil {
		key, at, ok := r.next()
		if !ok {
			select {
			case <-ctx.Done():
				return
			case <-r.notify:
			case <-time.After(time.Second):
			}
			continue
		}
		err := r.persist(ctx, key)
		switch {
		case err == nil:
			r.done(key)
			r.gauges.Persist.Observe(time.Since(at).Seconds())
			if r.failing.CompareAndSwap(true, false) {
				r.logger.Info("recording store reachable again", "store", r.store.String())
			}
			backoff = 250 * time.Millisecond
		case errors.Is(err, objstore.ErrNotExist):
			// Removed from the spool meanwhile (the recording was deleted).
			r.done(key)
		default:
			if ctx.Err() == nil && r.failing.CompareAndSwap(false, true) {
				r.logger.Warn("recording store not taking segments; they stay spooled and are retried", "store", r.store.String(), "err", err)
			}
			r.mu.Lock()
			r.queue = append(r.queue, key)
			r.mu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 10*time.Second)
		}
	}
}

func (r *spool) persist(ctx context.Context, key string) error {
	data, err := r.dir.Get(ctx, key)
	if err != nil {
		return err
	}
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := r.store.Put(pctx, key, data); err != nil {
		return err
	}
	return r.dir.Delete(ctx, key)
}

// get reads a recorded segment from the spool or, once moved, the store.
func (r *spool) get(ctx context.Context, key string) ([]byte, error) {
	if b, err := r.dir.Get(ctx, key); err == nil {
		return b, nil
	}
	return r.store.Get(ctx, key)
}

// remove deletes a segment from the spool and the store.
func (r *spool) remove(ctx context.Context, key string) error {
	_ = r.dir.Delete(ctx, key)
	return r.store.Delete(ctx, key)
}

// pending is how many segments wait for the store.
func (r *spool) pending() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.queued)
}
