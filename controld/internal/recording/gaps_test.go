package recording

import (
	"testing"
	"time"

	"github.com/lmx-video/lmx/sqlstore"
)

func TestGapAfter(t *testing.T) {
	t0 := time.Now()
	seg := func(key string, startOff float64) sqlstore.RecordedSegment {
		return sqlstore.RecordedSegment{ObjectKey: key, StartAt: t0.Add(time.Duration(startOff * float64(time.Second))), Duration: 1}
	}
	disc := func(s sqlstore.RecordedSegment) sqlstore.RecordedSegment { s.Discontinuity = true; return s }
	cases := []struct {
		prev, next sqlstore.RecordedSegment
		gap        bool
	}{
		{seg("src/e1-ab-4.ts", 0), seg("src/e1-ab-5.ts", 1.7), false}, // late stamp, consecutive: no gap
		{seg("src/e1-ab-4.ts", 0), seg("src/e1-ab-6.ts", 2), true},    // one lost segment
		{seg("src/e1-ab-4.ts", 0), seg("src/e1-cd-1.ts", 1), true},    // the edge restarted
		{seg("src/e-1-ab-9.ts", 0), seg("src/e-1-ab-10.ts", 1), false},
		{seg("src/e1-ab-4.ts", 0), disc(seg("src/e1-ab-5.ts", 6)), true},    // source offline 5 s, ffmpeg restarted
		{seg("src/e1-ab-4.ts", 0), disc(seg("src/e1-ab-5.ts", 1.1)), false}, // a break without missing time
		{seg("src/e1-ab-4.ts", 0), seg("src/e2-cd-9.ts", 1.4), false},       // failover to another feed, media continues
		{seg("src/e1-ab-4.ts", 0), seg("src/e2-cd-9.ts", 0.6), false},       // another feed's cut half a segment earlier
		{seg("src/e1-ab-4.ts", 0), seg("src/e2-cd-9.ts", 2.5), true},        // failover with media missing
		{seg("odd", 0), seg("odd2", 1.2), false},                            // other keys: by time
		{seg("odd", 0), seg("odd2", 3), true},
	}
	for i, c := range cases {
		if _, gap := GapAfter(c.prev, c.next); gap != c.gap {
			t.Errorf("case %d: gap = %v, want %v", i, gap, c.gap)
		}
	}
}
