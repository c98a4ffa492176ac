package recording

import (
	"context"
	"fmt"
	"io"
	"sync"
)

// Prober tells the resolution (WIDTHxHEIGHT) and RFC 6381 codecs of the
// media in a segment's bytes (for fMP4, its init segment's followed by
// the segment's), for a multivariant playlist's RESOLUTION and CODECS.
// Either may be "" when not known.
type Prober interface {
	Probe(data []byte) (resolution, codecs string, err error)
}

// maxProbes bounds the probe results kept; past it they are forgotten
// and probed again when asked for.
const maxProbes = 1024

// probeResult is what a Prober said of a rendition's first segment.
type probeResult struct {
	resolution, codecs string
}

// probes keeps probe results by object key: a recorded object never
// changes, so neither does what it holds.
type probes struct {
	mu    sync.Mutex
	byKey map[string]probeResult
}

func (p *probes) get(key string) (probeResult, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	res, ok := p.byKey[key]
	return res, ok
}

func (p *probes) put(key string, res probeResult) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.byKey == nil || len(p.byKey) >= maxProbes {
		p.byKey = map[string]probeResult{}
	}
	p.byKey[key] = res
}

// probeTrack probes the first segment of a track's own rendition through
// the replay cache ("", "" without a Prober, or when the store does not
// answer: the variant is listed without them, and probed again next time).
func (r *Recordings) probeTrack(ctx context.Context, t Track) (resolution, codecs string) {
	if r.prober == nil || len(t.Segments) == 0 {
		return "", ""
	}
	first := t.Segments[0]
	for _, s := range t.Segments {
		if s.Rendition == t.Rendition {
			first = s
			break
		}
	}
	if res, ok := r.probed.get(first.ObjectKey); ok {
		return res.resolution, res.codecs
	}
	var data []byte
	if first.InitKey != "" {
		init, err := r.objectBytes(ctx, first.InitKey)
		if err != nil {
			return "", ""
		}
		data = init
	}
	seg, err := r.objectBytes(ctx, first.ObjectKey)
	if err != nil {
		return "", ""
	}
	data = append(data, seg...)
	res, err := r.probe(data)
	if err != nil {
		// The bytes will not change: the variant goes without them.
		r.logger.Debug("could not probe a rendition's media", "rendition", t.Rendition, "key", first.ObjectKey, "err", err)
		res = probeResult{}
	}
	r.probed.put(first.ObjectKey, res)
	return res.resolution, res.codecs
}

// probe runs the Prober, which reads media an edge uploaded: a panic in
// it is its error, not the control node's end.
func (r *Recordings) probe(data []byte) (res probeResult, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("prober panicked: %v", p)
		}
	}()
	res.resolution, res.codecs, err = r.prober.Probe(data)
	return res, err
}

// objectBytes is a copy of a recorded object's bytes.
func (r *Recordings) objectBytes(ctx context.Context, key string) ([]byte, error) {
	b, err := r.object(ctx, key)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	return io.ReadAll(b)
}
