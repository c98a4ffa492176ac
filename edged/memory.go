package edged

import (
	"os"
	"runtime/debug"
	"sync/atomic"
)

// memoryTuner keeps the edge's memory close to what its ring buffer holds.
// Almost all of the heap is buffered segments, so the collector's default
// pacing (collect when the heap doubles) lets evicted segments pile up as
// garbage up to another ring's worth; on a small board that is the
// difference between fitting and not. A soft memory limit a little above
// the ring makes the collector run when that garbage appears. Marking the
// ring is cheap: segments are byte slices, with no pointers to follow.
type memoryTuner struct {
	enabled bool
	last    atomic.Int64
}

// memoryHeadroom is what the edge needs beyond its ring: HTTP and MQTT
// buffers, the runtime, one segment being read while another is uploaded.
// Beyond it the limit leaves an eighth of the ring: an edge with many
// sources has as many segments in flight, and with the limit right at the
// ring the collector ran back to back (2,496 cycles in 94 s, a third of the
// edge's CPU, with 25 sources filling a 256 MiB ring).
const memoryHeadroom = 8 << 20

func newMemoryTuner(ownProcess bool) *memoryTuner {
	// An operator's GOMEMLIMIT wins.
	return &memoryTuner{enabled: ownProcess && os.Getenv("GOMEMLIMIT") == ""}
}

// adjust sets the limit for a ring holding ringBytes, the newest segment
// being segBytes long.
func (m *memoryTuner) adjust(ringBytes, segBytes int64) {
	if !m.enabled {
		return
	}
	limit := ringBytes + ringBytes/8 + memoryHeadroom + 2*segBytes
	// Only move it for a change worth a syscall-free store: 1 MiB.
	if d := limit - m.last.Load(); d > -1<<20 && d < 1<<20 {
		return
	}
	m.last.Store(limit)
	debug.SetMemoryLimit(limit)
}
