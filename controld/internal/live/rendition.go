package live

import (
	"math"
	"slices"
	"time"

	"github.com/lmx-video/lmx/hls"
)

// Adaptive bitrate: a source pushed as several renditions has one window
// per rendition, keyed by the source and the rendition's name; the
// control node serves a multivariant playlist naming them. The windows'
// media sequence numbers are lined up by time: a rendition's window opens
// at the number its sibling gave the segment of the same moment, so a
// player switching level finds the same numbers (and the same
// EXT-X-PROGRAM-DATE-TIME) in each.

// Variant is what a multivariant playlist says of one rendition.
type Variant struct {
	// Bandwidth and AverageBandwidth are bits per second (0: unknown).
	Bandwidth, AverageBandwidth int64
	// Resolution is WIDTHxHEIGHT ("" unknown).
	Resolution string
	// Codecs is the RFC 6381 list ("" unknown).
	Codecs string
	// FrameRate is frames per second (0 unknown).
	FrameRate float64
}

// IsZero reports whether v says nothing.
func (v Variant) IsZero() bool { return v == Variant{} }

// recentKept is how many segments a window remembers the times of.
const recentKept = 16

// recentSegment is one listed segment's number, time and size.
type recentSegment struct {
	seq      uint64
	start    time.Time
	duration float64
	bytes    int64
}

// noteRecentLocked remembers a listed segment; ls.mu is held.
func (ls *Stream) noteRecentLocked(seq uint64, a Arrival, n int64) {
	ls.recent = append(ls.recent, recentSegment{seq: seq, start: a.Start, duration: a.Duration, bytes: n})
	if len(ls.recent) > recentKept {
		ls.recent = slices.Delete(ls.recent, 0, len(ls.recent)-recentKept)
	}
	if !a.Variant.IsZero() {
		v := a.Variant
		if cur := ls.variant.Load(); cur == nil || *cur != v {
			ls.variant.Store(&v)
		}
	}
}

// probeTries bounds how many segments of a window are probed for what
// ffmpeg did not say (a segment may lack an SPS or an audio frame).
const probeTries = 3

// probeLocked reads the resolution and codecs of a rendition's MPEG-TS
// segment when ffmpeg's master did not say them; ls.mu is held.
func (ls *Stream) probeLocked(a Arrival, data []byte) {
	if ls.Rendition == "" || ls.probed.Load() != nil || ls.probes >= probeTries || a.Init != "" {
		return
	}
	if a.Variant.Resolution != "" && a.Variant.Codecs != "" {
		return
	}
	ls.probes++
	res, codecs, err := hls.TSProber{}.Probe(data)
	if err != nil || res == "" && codecs == "" {
		if ls.probes == probeTries {
			ls.reg.logger.Info("rendition not probed: its multivariant entry has no RESOLUTION or CODECS", "source", ls.Name, "rendition", ls.Rendition, "err", err)
		}
		return
	}
	ls.probed.Store(&Variant{Resolution: res, Codecs: codecs})
}

// seqAt is the number the window gave a segment starting within half its
// length of start, if it remembers one.
func (ls *Stream) seqAt(start time.Time, duration float64) (uint64, bool) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	half := time.Duration(duration * float64(time.Second) / 2)
	for i := len(ls.recent) - 1; i >= 0; i-- {
		if d := ls.recent[i].start.Sub(start); d > -half && d < half {
			return ls.recent[i].seq, true
		}
	}
	return 0, false
}

// Variant is what is known of the window's rendition: what ffmpeg said,
// with Bandwidth, when it said none, the peak over the recent segments
// and AverageBandwidth their mean.
func (ls *Stream) Variant() Variant {
	var v Variant
	if p := ls.variant.Load(); p != nil {
		v = *p
	}
	if p := ls.probed.Load(); p != nil {
		if v.Resolution == "" {
			v.Resolution = p.Resolution
		}
		if v.Codecs == "" {
			v.Codecs = p.Codecs
		}
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	var peak, bytes, secs float64
	for _, r := range ls.recent {
		if r.duration <= 0 {
			continue
		}
		peak = max(peak, float64(r.bytes*8)/r.duration)
		bytes += float64(r.bytes * 8)
		secs += r.duration
	}
	if v.Bandwidth == 0 {
		v.Bandwidth = int64(math.Ceil(peak))
	}
	if v.AverageBandwidth == 0 && secs > 0 {
		v.AverageBandwidth = int64(math.Ceil(bytes / secs))
	}
	return v
}

// streamKey is the registry's key of a source's (or its name's) window of
// a rendition: the source's own for "".
func streamKey(idOrName, rendition string) string {
	if rendition == "" {
		return idOrName
	}
	return idOrName + "\x00" + rendition
}

// GetRendition returns a source's window of a named rendition.
func (r *Registry) GetRendition(idOrName, rendition string) (*Stream, bool) {
	if rendition == "" {
		return r.Get(idOrName)
	}
	return r.Get(streamKey(idOrName, rendition))
}

// Renditions are a source's windows of named renditions, by name.
func (r *Registry) Renditions(idOrName string) []*Stream {
	r.mu.RLock()
	id := idOrName
	if sid, ok := r.renditionSource[idOrName]; ok {
		id = sid
	}
	var out []*Stream
	for _, ls := range r.renditionsOf[id] {
		out = append(out, ls)
	}
	r.mu.RUnlock()
	slices.SortFunc(out, func(a, b *Stream) int {
		if a.Rendition < b.Rendition {
			return -1
		}
		if a.Rendition > b.Rendition {
			return 1
		}
		return 0
	})
	return out
}

// firstSeqOf is the first media sequence number of a new rendition
// window whose first segment starts at start, given its sibling
// renditions' windows: the number a sibling gave the same moment, else the
// siblings' next; false without siblings (the clock's number then, see
// open).
func firstSeqOf(sibs []*Stream, start time.Time, duration float64) (uint64, bool) {
	var next uint64
	for _, sib := range sibs {
		if seq, ok := sib.seqAt(start, duration); ok {
			return seq, true
		}
		sib.mu.Lock()
		next = max(next, sib.nextSeq)
		sib.mu.Unlock()
	}
	return next, len(sibs) > 0
}
