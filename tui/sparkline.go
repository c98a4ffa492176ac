package tui

import (
	"strings"
	"time"
)

// Bitrate history per source, fed by the edges' status heartbeats
// (edge.status events), drawn as a one-line block sparkline.

const (
	// sparkSpan is how much history a sparkline shows, whatever its width.
	sparkSpan = 3 * time.Minute
	// sparkKeep is how much history is kept (a little more than shown, so a
	// wider terminal after a resize has something to draw).
	sparkKeep = 5 * time.Minute
	// sparkMaxSamples bounds one source's history whatever the heartbeat.
	sparkMaxSamples = 600
	// sparkHold is how long a report stands for the cells after it. On a
	// wide screen a cell is shorter than a heartbeat (180 s over 40 cells
	// is 4.5 s; edges report every 5 s by default), so a cell without a
	// report of its own is not yet a gap: only 15 s of silence is, three
	// default heartbeats, which is when the control node too calls an
	// edge gone.
	sparkHold = 15 * time.Second
)

// sparkBlocks are the levels: the lowest for a zero bitrate, the others
// scaled to the largest value drawn.
var sparkBlocks = []rune("▁▂▃▄▅▆▇█")

// sparkEmpty marks a stretch with no report at all (edge silent, or the
// dashboard was not running yet), which is not the same as zero.
const sparkEmpty = '·'

type sample struct {
	at  time.Time
	bps int64
}

// sparklines is the bitrate history of every source, by source name.
type sparklines struct {
	m map[string][]sample
}

func newSparklines() sparklines { return sparklines{m: map[string][]sample{}} }

// add records a bitrate reported at at, dropping what is older than sparkKeep.
func (s sparklines) add(name string, at time.Time, bps int64) {
	h := append(s.m[name], sample{at: at, bps: bps})
	cut := 0
	for cut < len(h) && (at.Sub(h[cut].at) > sparkKeep || len(h)-cut > sparkMaxSamples) {
		cut++
	}
	if cut > 0 {
		h = append(h[:0:0], h[cut:]...)
	}
	s.m[name] = h
}

// render draws the last sparkSpan of name's history in width cells ending
// at now. Each cell is the mean of the reports that fell in its stretch of
// time; cells are aligned to absolute time, so the line moves in steps
// rather than shimmering on every redraw.
func (s sparklines) render(name string, width int, now time.Time) string {
	if width <= 0 {
		return ""
	}
	bucket := sparkSpan / time.Duration(width)
	if bucket <= 0 {
		bucket = time.Second
	}
	last := now.UnixNano() / int64(bucket)
	first := last - int64(width) + 1
	sums := make([]int64, width)
	counts := make([]int, width)
	lastAt := make([]time.Time, width)
	var before sample // the newest report older than the first cell
	for _, smp := range s.m[name] {
		i := smp.at.UnixNano()/int64(bucket) - first
		if i < 0 {
			before = smp
			continue
		}
		if i >= int64(width) {
			continue
		}
		sums[i] += smp.bps
		counts[i]++
		lastAt[i] = smp.at
	}
	for i := range sums {
		sums[i] /= int64(max(counts[i], 1))
	}
	// An empty cell carries the last report forward while it holds. The
	// newest cell is still filling: it repeats the one before until a
	// report lands in it, rather than flashing "no report".
	prevVal, prevAt := before.bps, before.at
	for i := range sums {
		if counts[i] > 0 {
			prevVal, prevAt = sums[i], lastAt[i]
			continue
		}
		start := time.Unix(0, (first+int64(i))*int64(bucket))
		newest := i == width-1 && i > 0 && counts[i-1] > 0
		if !prevAt.IsZero() && (start.Sub(prevAt) <= sparkHold || newest) {
			sums[i], counts[i] = prevVal, 1
		}
	}
	var peak int64
	for i := range sums {
		if counts[i] > 0 {
			peak = max(peak, sums[i])
		}
	}
	var b strings.Builder
	for i := range sums {
		switch {
		case counts[i] == 0:
			b.WriteRune(sparkEmpty)
		case sums[i] <= 0 || peak <= 0:
			b.WriteRune(sparkBlocks[0])
		default:
			lvl := 1 + int(float64(sums[i])/float64(peak)*float64(len(sparkBlocks)-2)+0.5)
			lvl = min(max(lvl, 1), len(sparkBlocks)-1)
			b.WriteRune(sparkBlocks[lvl])
		}
	}
	return b.String()
}
