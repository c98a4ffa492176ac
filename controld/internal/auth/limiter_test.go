package auth

import (
	"encoding/binary"
	"net/netip"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func TestLimiterConfigDefaults(t *testing.T) {
	for _, c := range []struct {
		in, want LimiterConfig
	}{
		{LimiterConfig{}, LimiterConfig{Burst: 10, Refill: 6 * time.Second, MaxAddrs: 16384}},
		{LimiterConfig{Burst: -1, Refill: -time.Second, MaxAddrs: -5}, LimiterConfig{Burst: 10, Refill: 6 * time.Second, MaxAddrs: 16384}},
		{LimiterConfig{Burst: 3, Refill: time.Minute, MaxAddrs: 7}, LimiterConfig{Burst: 3, Refill: time.Minute, MaxAddrs: 7}},
	} {
		got := c.in
		got.withDefaults()
		if got != c.want {
			t.Errorf("%+v.withDefaults() = %+v, want %+v", c.in, got, c.want)
		}
	}
}

func TestLimiterBurst(t *testing.T) {
	l := NewLimiter(LimiterConfig{})
	a := netip.MustParseAddr("192.0.2.1")
	for i := range defaultBurst {
		if d, blocked := l.Blocked(a, t0); blocked {
			t.Fatalf("blocked (for %v) after %d failures, want %d allowed", d, i, defaultBurst)
		}
		l.Fail(a, t0)
	}
	d, blocked := l.Blocked(a, t0)
	if !blocked || d != defaultRefill {
		t.Errorf("after %d failures: Blocked = %v, %v; want blocked for %v", defaultBurst, d, blocked, defaultRefill)
	}
	if _, blocked := l.Blocked(netip.MustParseAddr("192.0.2.2"), t0); blocked {
		t.Error("another address is blocked too")
	}
}

func TestLimiterBurstOfOne(t *testing.T) {
	l := NewLimiter(LimiterConfig{Burst: 1, Refill: time.Second})
	a := netip.MustParseAddr("192.0.2.1")
	if _, blocked := l.Blocked(a, t0); blocked {
		t.Fatal("blocked before any failure")
	}
	l.Fail(a, t0)
	if d, blocked := l.Blocked(a, t0); !blocked || d != time.Second {
		t.Errorf("Blocked = %v, %v; want blocked for 1s", d, blocked)
	}
	if _, blocked := l.Blocked(a, t0.Add(time.Second)); blocked {
		t.Error("still blocked after Refill")
	}
}

func TestLimiterRefill(t *testing.T) {
	l := NewLimiter(LimiterConfig{Burst: 3, Refill: time.Second})
	a := netip.MustParseAddr("2001:db8::1")
	for range 3 {
		l.Fail(a, t0)
	}
	for _, c := range []struct {
		at      time.Duration
		blocked bool
		retry   time.Duration
	}{
		{0, true, time.Second},
		{999 * time.Millisecond, true, time.Millisecond},
		{time.Second, false, 0},
	} {
		if d, blocked := l.Blocked(a, t0.Add(c.at)); blocked != c.blocked || d != c.retry {
			t.Errorf("at +%v: Blocked = %v, %v; want %v, %v", c.at, d, blocked, c.retry, c.blocked)
		}
	}
	// One failure was forgiven: one more is allowed, and blocks again.
	l.Fail(a, t0.Add(time.Second))
	if d, blocked := l.Blocked(a, t0.Add(time.Second)); !blocked || d != time.Second {
		t.Errorf("after the forgiven failure was used: Blocked = %v, %v; want blocked for 1s", d, blocked)
	}
	// Failures while blocked drain no further than a full burst.
	for range 100 {
		l.Fail(a, t0.Add(time.Second))
	}
	if d, blocked := l.Blocked(a, t0.Add(time.Second)); !blocked || d != time.Second {
		t.Errorf("after failing while blocked: Blocked = %v, %v; want blocked for 1s", d, blocked)
	}
	// After a full burst's worth of time everything is forgiven, and the
	// address is forgotten at the next failure anywhere.
	later := t0.Add(4 * time.Second)
	if _, blocked := l.Blocked(a, later); blocked {
		t.Error("still blocked after Burst*Refill")
	}
	l.Fail(netip.MustParseAddr("192.0.2.9"), later)
	if n := l.Len(); n != 1 {
		t.Errorf("Len = %d after the first address was forgiven, want 1", n)
	}
	for i := range 3 {
		if _, blocked := l.Blocked(a, later); blocked {
			t.Fatalf("blocked after %d failures of a new burst", i)
		}
		l.Fail(a, later)
	}
	if _, blocked := l.Blocked(a, later); !blocked {
		t.Error("a new burst is not blocked after Burst failures")
	}
}

func TestLimiterSteadyRateNeverBlocks(t *testing.T) {
	l := NewLimiter(LimiterConfig{Burst: 2, Refill: time.Second})
	a := netip.MustParseAddr("192.0.2.1")
	for i := range 50 {
		now := t0.Add(time.Duration(i) * time.Second)
		if _, blocked := l.Blocked(a, now); blocked {
			t.Fatalf("one failure per Refill blocked at failure %d", i)
		}
		l.Fail(a, now)
	}
}

func TestLimiterSucceedForgets(t *testing.T) {
	l := NewLimiter(LimiterConfig{Burst: 2, Refill: time.Hour})
	a := netip.MustParseAddr("192.0.2.1")
	l.Fail(a, t0)
	l.Fail(a, t0)
	if _, blocked := l.Blocked(a, t0); !blocked {
		t.Fatal("not blocked")
	}
	l.Succeed(a)
	if _, blocked := l.Blocked(a, t0); blocked || l.Len() != 0 {
		t.Errorf("after Succeed: blocked = %v, Len = %d", blocked, l.Len())
	}
	l.Succeed(netip.MustParseAddr("192.0.2.2")) // unknown: nothing happens
}

func TestLimiterGroupsIPv6By64(t *testing.T) {
	l := NewLimiter(LimiterConfig{Burst: 2, Refill: time.Hour})
	l.Fail(netip.MustParseAddr("2001:db8:1:2::1"), t0)
	l.Fail(netip.MustParseAddr("2001:db8:1:2:ffff:ffff:ffff:ffff"), t0)
	for _, c := range []struct {
		addr    string
		blocked bool
	}{
		{"2001:db8:1:2::1", true},
		{"2001:db8:1:2:abcd::9", true},
		{"2001:db8:1:2::1%eth0", true},
		{"2001:db8:1:3::1", false},
		{"2001:db8:1::1", false},
	} {
		if _, blocked := l.Blocked(netip.MustParseAddr(c.addr), t0); blocked != c.blocked {
			t.Errorf("%s: blocked = %v, want %v", c.addr, blocked, c.blocked)
		}
	}
	if n := l.Len(); n != 1 {
		t.Errorf("Len = %d, want one /64", n)
	}

	// IPv4 addresses stand alone, mapped or not.
	l.Fail(netip.MustParseAddr("192.0.2.1"), t0)
	l.Fail(netip.MustParseAddr("::ffff:192.0.2.1"), t0)
	if _, blocked := l.Blocked(netip.MustParseAddr("192.0.2.1"), t0); !blocked {
		t.Error("192.0.2.1 and ::ffff:192.0.2.1 are counted apart")
	}
	if _, blocked := l.Blocked(netip.MustParseAddr("192.0.2.2"), t0); blocked {
		t.Error("192.0.2.2 is counted with 192.0.2.1")
	}

	// The zero Addr is a key of its own.
	l.Fail(netip.Addr{}, t0)
	l.Fail(netip.Addr{}, t0)
	if _, blocked := l.Blocked(netip.Addr{}, t0); !blocked {
		t.Error("the zero Addr is not counted")
	}
	if n := l.Len(); n != 3 {
		t.Errorf("Len = %d, want 3", n)
	}
}

// nthAddr is the n-th of many distinct addresses: IPv4 for even n, IPv6 in
// distinct /64s for odd n.
func nthAddr(n int) netip.Addr {
	if n%2 == 0 {
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], 0x0a000000+uint32(n))
		return netip.AddrFrom4(b)
	}
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], 0x2001_0db8_0000_0000|uint64(n))
	b[15] = 1
	return netip.AddrFrom16(b)
}

func TestLimiterBound(t *testing.T) {
	l := NewLimiter(LimiterConfig{})
	const addrs = 100_000
	for i := range addrs {
		l.Fail(nthAddr(i), t0)
		if n := l.Len(); n > defaultMaxAddrs {
			t.Fatalf("Len = %d after %d addresses, over the bound %d", n, i+1, defaultMaxAddrs)
		}
	}
	if n := l.Len(); n != defaultMaxAddrs {
		t.Errorf("Len = %d, want %d", n, defaultMaxAddrs)
	}
	if len(l.addrs) != len(l.queue) {
		t.Errorf("map holds %d entries, queue %d", len(l.addrs), len(l.queue))
	}
	// With time moving on, forgiven addresses are dropped on the way.
	later := t0.Add(defaultBurst * defaultRefill)
	l.Fail(nthAddr(addrs), later)
	if n := l.Len(); n != 1 {
		t.Errorf("Len = %d once every earlier failure is forgiven, want 1", n)
	}
}

func TestLimiterEvictsSoonestForgiven(t *testing.T) {
	l := NewLimiter(LimiterConfig{Burst: 2, Refill: time.Second, MaxAddrs: 3})
	blockedAddr := netip.MustParseAddr("192.0.2.1")
	// The oldest entry, and the one blocked: it must outlive the others.
	l.Fail(blockedAddr, t0)
	l.Fail(blockedAddr, t0)
	b := netip.MustParseAddr("192.0.2.2")
	c := netip.MustParseAddr("192.0.2.3")
	l.Fail(b, t0.Add(time.Millisecond))
	l.Fail(c, t0.Add(2*time.Millisecond))
	// Full: the next new address pushes out b, forgiven first.
	d := netip.MustParseAddr("192.0.2.4")
	l.Fail(d, t0.Add(3*time.Millisecond))
	if n := l.Len(); n != 3 {
		t.Fatalf("Len = %d, want 3", n)
	}
	if _, blocked := l.Blocked(blockedAddr, t0.Add(3*time.Millisecond)); !blocked {
		t.Error("the blocked address was evicted")
	}
	if _, ok := l.addrs[limitKey(b)]; ok {
		t.Error("b, forgiven first, was kept")
	}
	for _, a := range []netip.Addr{c, d} {
		if _, ok := l.addrs[limitKey(a)]; !ok {
			t.Errorf("%s was evicted before b", a)
		}
	}
	// Once c and d are forgiven, a new failure drops them rather than
	// evicting anything.
	e := netip.MustParseAddr("192.0.2.5")
	l.Fail(e, t0.Add(1500*time.Millisecond))
	if n := l.Len(); n != 2 {
		t.Errorf("Len = %d, want 2 (the blocked address and e)", n)
	}
	// It is no longer blocked (one failure is forgiven) but still counted.
	if _, ok := l.addrs[limitKey(blockedAddr)]; !ok {
		t.Error("the address with a failure left was dropped")
	}
}

func TestLimiterConcurrent(t *testing.T) {
	const maxAddrs = 64
	l := NewLimiter(LimiterConfig{Burst: 3, Refill: time.Millisecond, MaxAddrs: maxAddrs})
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 2000 {
				a := nthAddr((g*7919 + i) % 200)
				now := t0.Add(time.Duration(i) * time.Microsecond)
				switch i % 4 {
				case 0, 1:
					l.Fail(a, now)
				case 2:
					l.Blocked(a, now)
				default:
					if i%40 == 3 {
						l.Succeed(a)
					} else if n := l.Len(); n > maxAddrs {
						t.Errorf("Len = %d, over the bound %d", n, maxAddrs)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if n := l.Len(); n > maxAddrs {
		t.Errorf("Len = %d, over the bound %d", n, maxAddrs)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.addrs) != len(l.queue) {
		t.Errorf("map holds %d entries, queue %d", len(l.addrs), len(l.queue))
	}
	for i, e := range l.queue {
		if e.index != i || l.addrs[e.key] != e {
			t.Fatalf("queue entry %d is inconsistent: %+v", i, e)
		}
	}
}
