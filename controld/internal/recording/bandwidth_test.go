package recording

import (
	"slices"
	"testing"
	"time"

	"github.com/lmx-video/lmx/sqlstore"
)

func TestRenditionOrder(t *testing.T) {
	got := Renditions([]sqlstore.RecordedSegment{{Rendition: "b"}, {Rendition: "10"}, {}, {Rendition: "2"}, {Rendition: "a"}, {Rendition: "2"}})
	if want := []string{"2", "10", "a", "b"}; !slices.Equal(got, want) {
		t.Errorf("Renditions = %v, want %v", got, want)
	}
}

func TestBandwidth(t *testing.T) {
	peak, avg := Bandwidth([]sqlstore.RecordedSegment{
		{Bytes: 1000, Duration: 2},   // 4000 bit/s
		{Bytes: 1001, Duration: 1},   // 8008 bit/s, the peak
		{Bytes: 500, Duration: 0},    // no duration: counted in neither
		{Bytes: 100, Duration: 0.75}, // 1066.67 bit/s
	})
	// Average: 2101 bytes over 3.75 s = 4482.13 bit/s, rounded up.
	if peak != 8008 || avg != 4483 {
		t.Errorf("Bandwidth = %d, %d; want 8008, 4483", peak, avg)
	}
	if p, a := Bandwidth(nil); p != 0 || a != 0 {
		t.Errorf("Bandwidth(nil) = %d, %d", p, a)
	}
}

func TestGapAfterRenditionChange(t *testing.T) {
	t0 := time.Now()
	plain := sqlstore.RecordedSegment{ObjectKey: "src/e1-ab-7.ts", StartAt: t0, Duration: 2}
	rend := func(off float64) sqlstore.RecordedSegment {
		return sqlstore.RecordedSegment{ObjectKey: "src/0/e1-ab-1.ts", Rendition: "0", StartAt: t0.Add(time.Duration(off * float64(time.Second))), Duration: 2}
	}
	if _, gap := GapAfter(plain, rend(2.2)); gap {
		t.Error("the source began pushing renditions, media continues: a gap")
	}
	if _, gap := GapAfter(plain, rend(5)); !gap {
		t.Error("the source began pushing renditions 3 s later: no gap")
	}
}
