package edged

import (
	"bytes"
	"fmt"
	"path"
	"strings"

	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/hls"
)

// Adaptive bitrate: ffmpeg's -var_stream_map with the output URL
// http://EDGE/v1/playlist/%v pushes each rendition's media playlist to
// /v1/playlist/{rendition} and, with -master_pl_name, its multivariant
// playlist to /v1/playlist/{master name}, all with the same LiveMix
// headers. The edge keeps one source with several renditions: each has its
// own playlist tracker and numbering, its segments share the source's ring
// buffer and uploads, and carry their rendition to the control node.

// renditionState is one named rendition of a source.
type renditionState struct {
	track tracker
	// nextSeq numbers the rendition's segments in this run (RSeq).
	nextSeq uint64
	// lastInit is the id of its newest segment's fMP4 init ("" for TS).
	lastInit string
	// variant is what ffmpeg's multivariant playlist said of it (its
	// EXT-X-STREAM-INF attributes), "" until one with attributes came.
	variant string
}

// rendition returns the named rendition of src, made on its first push;
// a source has at most broker.MaxRenditions. The caller holds src.pushMu.
func (s *sourceState) rendition(name string) (*renditionState, error) {
	if r, ok := s.renditions[name]; ok {
		return r, nil
	}
	if len(s.renditions) >= broker.MaxRenditions {
		return nil, fmt.Errorf("source %q already has %d renditions, the most one source may have", s.name, broker.MaxRenditions)
	}
	if s.renditions == nil {
		s.renditions = map[string]*renditionState{}
	}
	r := &renditionState{variant: s.variants[name]}
	s.renditions[name] = r
	return r, nil
}

// renditionCount is how many renditions src is pushed as (1 for a plain
// LiveMix push). The caller holds src.pushMu.
func (s *sourceState) renditionCount() int { return max(len(s.renditions), 1) }

// isMultivariant tells a multivariant playlist from a media playlist: it
// lists variants, or (ffmpeg's master without known bitrates) holds neither
// a segment nor a target duration.
func isMultivariant(body []byte) bool {
	return bytes.Contains(body, []byte("#EXT-X-STREAM-INF")) ||
		!bytes.Contains(body, []byte("#EXTINF")) && !bytes.Contains(body, []byte("#EXT-X-TARGETDURATION"))
}

// parseVariants reads ffmpeg's multivariant playlist: each variant's
// EXT-X-STREAM-INF attributes, rendered again from what was parsed, by the
// rendition its URI names (the URI's base name without .m3u8: ffmpeg's
// %v). ffmpeg's master without bitrates lists no variant: nothing to say.
func parseVariants(body []byte) (map[string]string, error) {
	p, err := hls.ParseMultivariantPlaylist(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, v := range p.Variants {
		name := strings.TrimSuffix(path.Base(v.URI), ".m3u8")
		if !broker.ValidRendition(name) {
			return nil, fmt.Errorf("line %d: variant URI %q does not name a rendition (1 to 32 letters, digits, '_' or '-')", v.Line, v.URI)
		}
		if len(out) >= broker.MaxRenditions {
			return nil, fmt.Errorf("line %d: more than %d variants", v.Line, broker.MaxRenditions)
		}
		attrs, err := hls.StreamInfAttributes(hls.Variant{Bandwidth: v.Bandwidth, AverageBandwidth: v.AverageBandwidth,
			Codecs: v.Codecs, Width: v.Width, Height: v.Height, FrameRate: v.FrameRate})
		if err != nil {
			return nil, fmt.Errorf("line %d: %v", v.Line, err)
		}
		out[name] = attrs
	}
	return out, nil
}

// takeVariants keeps what a multivariant playlist says of src's
// renditions, for their next uploads. The caller holds src.pushMu.
func (e *Edge) takeVariants(src *sourceState, vs map[string]string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	src.variants = vs
	for name, r := range src.renditions {
		r.variant = vs[name]
	}
}
