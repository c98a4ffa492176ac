package recording

import (
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/lmx-video/lmx/sqlstore"
)

// GapAfter reports whether media is missing between a segment and the next
// of a recording, and where the missing stretch begins. Segments from the
// same edge run are consecutive exactly when the edge's sequence numbers
// (kept in the object key) are; that catches one lost segment however short,
// and never mistakes the jitter of a segment's wall-clock stamp for a gap.
// Consecutive segments still have a gap when the edge flagged a break (the
// source went offline, ffmpeg restarted, a file was unreadable) and the
// stamps show media missing. Keys of another form fall back to time alone.
// prev and next are of one rendition's track (see Tracks): a rendition's
// keys number its own segments.
func GapAfter(prev, next sqlstore.RecordedSegment) (time.Time, bool) {
	end := prev.StartAt.Add(time.Duration(prev.Duration * float64(time.Second)))
	missing := next.StartAt.Sub(end)
	prun, pseq, ok1 := keyRun(prev.ObjectKey)
	nrun, nseq, ok2 := keyRun(next.ObjectKey)
	switch {
	case prev.Rendition != next.Rendition:
		// The source began or stopped pushing renditions: the keys count
		// apart, and only the stamps can tell whether media is missing.
		return end, missing > time.Duration(prev.Duration*float64(time.Second)/2)
	case ok1 && ok2 && runEdge(prun) != runEdge(nrun):
		// Another feed of the source took over (a failover): two encoders,
		// two cuts; its first segment starts within half a segment of
		// where the other's media ended unless media is missing.
		return end, missing > time.Duration(prev.Duration*float64(time.Second)/2)
	case ok1 && ok2 && (prun != nrun || nseq != pseq+1):
		return end, true
	case ok1 && ok2 && next.Discontinuity:
		return end, missing > time.Duration(prev.Duration*float64(time.Second)/2)
	case ok1 && ok2:
		return end, false
	}
	return end, missing > 1500*time.Millisecond
}

// keyRun splits an object key {source}/{edge}-{boot}-{seq}.ts (or .m4s,
// for fMP4; {source}/{rendition}/… for a rendition's segment) into the edge run ({edge}-{boot}) and the edge's sequence
// number.
func keyRun(key string) (string, uint64, bool) {
	name, ok := strings.CutSuffix(path.Base(key), ".ts")
	if !ok {
		name, ok = strings.CutSuffix(path.Base(key), ".m4s")
	}
	i := strings.LastIndexByte(name, '-')
	if !ok || i < 0 {
		return "", 0, false
	}
	seq, err := strconv.ParseUint(name[i+1:], 10, 64)
	return name[:i], seq, err == nil
}

// runEdge is the edge of an edge run ({edge}-{boot}). An edge name may
// hold '-', a boot never does (safeBoot), so the edge is all before the
// last one.
func runEdge(run string) string {
	if i := strings.LastIndexByte(run, '-'); i >= 0 {
		return run[:i]
	}
	return run
}
