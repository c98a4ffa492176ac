package auth

import (
	"container/heap"
	"math"
	"net/netip"
	"sync"
	"time"
)

// LimiterConfig tunes a Limiter. Zero fields take their defaults.
type LimiterConfig struct {
	// Burst is how many failures in a row an address may have before it is
	// blocked (default 10).
	Burst int
	// Refill is how long it takes for one failure to be forgiven (default
	// 6s): a blocked address may try again once per Refill.
	Refill time.Duration
	// MaxAddrs bounds how many addresses the limiter remembers (default
	// 16384).
	MaxAddrs int
}

// Limiter defaults.
const (
	defaultBurst    = 10
	defaultRefill   = 6 * time.Second
	defaultMaxAddrs = 16384
)

// withDefaults fills in the zero (or negative) fields of c.
func (c *LimiterConfig) withDefaults() {
	if c.Burst <= 0 {
		c.Burst = defaultBurst
	}
	if c.Refill <= 0 {
		c.Refill = defaultRefill
	}
	if c.MaxAddrs <= 0 {
		c.MaxAddrs = defaultMaxAddrs
	}
}

// Limiter slows down repeated failed authentication from one address. Each
// address has a bucket of Burst failures, refilled by one every Refill; an
// address whose bucket is empty is blocked until it refills by one. IPv6
// addresses are grouped by /64, as one host usually has a whole /64 to pick
// from; IPv4 addresses (IPv4-mapped IPv6 ones included) stand alone.
//
// The limiter remembers at most MaxAddrs addresses. An address whose
// failures are all forgiven is as good as unknown, so such entries are
// dropped as soon as a failure is recorded. When the limiter is full all the
// same, it forgets the address whose failures would all be forgiven first:
// the one least likely to be blocked now or soon, rather than the one that
// failed longest ago (which may still be blocked after many failures). So a
// flood of new addresses pushes out the ones that failed least, and a
// blocked address is forgotten only once every remembered address is
// blocked. Each call costs O(log MaxAddrs), amortised.
//
// A Limiter is safe for concurrent use.
type Limiter struct {
	refill time.Duration
	// window is how far ahead of now an address's bucket may be drained
	// before it is blocked: Burst-1 failures' worth.
	window time.Duration
	// full is how far ahead of now a bucket can be drained at most: Burst
	// failures' worth.
	full time.Duration
	max  int

	mu    sync.Mutex
	addrs map[netip.Addr]*limitEntry
	queue limitQueue // the entries, soonest forgiven first
}

// limitEntry is the state of one address (or IPv6 /64).
type limitEntry struct {
	key netip.Addr
	// forgiven is when every failure of the address is forgiven: a failure
	// pushes it one Refill further, from now at the earliest.
	forgiven time.Time
	index    int // in Limiter.queue
}

// NewLimiter returns a Limiter configured by cfg.
func NewLimiter(cfg LimiterConfig) *Limiter {
	cfg.withDefaults()
	return &Limiter{
		refill: cfg.Refill,
		window: mulDuration(cfg.Refill, cfg.Burst-1),
		full:   mulDuration(cfg.Refill, cfg.Burst),
		max:    cfg.MaxAddrs,
		addrs:  make(map[netip.Addr]*limitEntry),
	}
}

// mulDuration is d*n, saturating at the longest time.Duration.
func mulDuration(d time.Duration, n int) time.Duration {
	if n > 0 && d > math.MaxInt64/time.Duration(n) {
		return math.MaxInt64
	}
	return d * time.Duration(n)
}

// limitKey is the key addr is counted under: its /64 for IPv6, itself for
// IPv4, without a zone. The zero Addr (an address that could not be
// parsed) is a key of its own, shared by every such request.
func limitKey(addr netip.Addr) netip.Addr {
	addr = addr.Unmap().WithZone("")
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.Addr()
	}
	return addr
}

// Blocked reports whether addr has used up its failures as of now and, if
// so, how long until it may try again.
func (l *Limiter) Blocked(addr netip.Addr, now time.Time) (retryAfter time.Duration, blocked bool) {
	key := limitKey(addr)
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.addrs[key]
	if e == nil {
		return 0, false
	}
	ahead := e.forgiven.Sub(now)
	if ahead <= l.window {
		return 0, false
	}
	return ahead - l.window, true
}

// Fail records a failed authentication from addr at now. Failures recorded
// while the address is blocked do not block it for longer than Burst
// failures' worth.
func (l *Limiter) Fail(addr netip.Addr, now time.Time) {
	key := limitKey(addr)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.dropForgiven(now)
	e := l.addrs[key]
	if e == nil {
		if len(l.addrs) >= l.max {
			l.remove(l.queue[0])
		}
		e = &limitEntry{key: key, forgiven: now}
		l.addrs[key] = e
		heap.Push(&l.queue, e)
	}
	from := e.forgiven
	if from.Before(now) {
		from = now
	}
	forgiven := from.Add(l.refill)
	if limit := now.Add(l.full); forgiven.After(limit) {
		forgiven = limit
	}
	e.forgiven = forgiven
	heap.Fix(&l.queue, e.index)
}

// Succeed records a successful authentication from addr: the address is
// forgotten, so that a user who mistyped a few times is not held back later.
// The limiter thus slows down guessing by clients that hold no valid secret.
func (l *Limiter) Succeed(addr netip.Addr) {
	key := limitKey(addr)
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.addrs[key]; e != nil {
		l.remove(e)
	}
}

// Len returns how many addresses (IPv6 /64s) the limiter remembers.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.addrs)
}

// dropForgiven forgets the addresses whose failures are all forgiven at now.
// Each entry is dropped once, so the cost is amortised over the Fail calls
// that made them.
func (l *Limiter) dropForgiven(now time.Time) {
	for len(l.queue) > 0 && !l.queue[0].forgiven.After(now) {
		l.remove(l.queue[0])
	}
}

// remove forgets e. l.mu must be held.
func (l *Limiter) remove(e *limitEntry) {
	heap.Remove(&l.queue, e.index)
	delete(l.addrs, e.key)
}

// limitQueue is a min-heap of entries by forgiven (container/heap).
type limitQueue []*limitEntry

func (q limitQueue) Len() int           { return len(q) }
func (q limitQueue) Less(i, j int) bool { return q[i].forgiven.Before(q[j].forgiven) }

func (q limitQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index = i
	q[j].index = j
}

func (q *limitQueue) Push(x any) {
	e := x.(*limitEntry)
	e.index = len(*q)
	*q = append(*q, e)
}

func (q *limitQueue) Pop() any {
	old := *q
	n := len(old)
	e := old[n-1]
	old[n-1] = nil
	*q = old[:n-1]
	e.index = -1
	return e
}
