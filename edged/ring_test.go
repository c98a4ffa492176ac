package edged

import (
	"testing"
	"time"
)

func TestRingBounds(t *testing.T) {
	r := newRing(10*time.Second, 1000)
	t0 := time.Now()
	for i := 1; i <= 10; i++ {
		r.add("a", &segment{Seq: uint64(i), Duration: 2, Start: t0.Add(time.Duration(i) * 2 * time.Second), Data: make([]byte, 50)})
	}
	n, b, secs, rate := r.stats("a")
	if n != 5 || b != 250 || secs != 10 {
		t.Fatalf("duration bound: %d segments, %d bytes, %.0f s; want 5, 250, 10", n, b, secs)
	}
	if rate != 50*8/2 {
		t.Fatalf("bitrate %d; want 200", rate)
	}
	if s := r.after("a", 7); s == nil || s.Seq != 8 {
		t.Fatalf("after(7) = %+v", s)
	}
	if s := r.after("a", 1); s == nil || s.Seq != 6 {
		t.Fatalf("after(1) = %+v; want the oldest kept (6)", s)
	}
	if s := r.after("a", 10); s != nil {
		t.Fatalf("after(newest) = %+v", s)
	}
	// Byte bound across sources: the oldest segments anywhere go first, never the newest of the adding source.
	for i := 1; i <= 3; i++ {
		r.add("b", &segment{Seq: uint64(i), Duration: 2, Start: t0.Add(time.Hour + time.Duration(i)*time.Second), Data: make([]byte, 300)})
	}
	if r.totalBytes() > 1000 {
		t.Fatalf("total %d over the byte bound", r.totalBytes())
	}
	if nb, _, _, _ := r.stats("b"); nb != 3 {
		t.Fatalf("source b lost its own new segments: %d left", nb)
	}
	// 250 (a) + 900 (b) = 1150: the three oldest of a go, and no more.
	if na, _, _, _ := r.stats("a"); na != 2 {
		t.Fatalf("source a should lose its 3 oldest segments first, %d left", na)
	}
	big := &segment{Seq: 1, Duration: 2, Start: t0, Data: make([]byte, 5000)}
	r.add("c", big)
	if r.newest("c") != big {
		t.Fatal("a segment larger than the whole bound must still be kept as the newest")
	}
}
