package edged

import (
	"bufio"
	"bytes"
	"fmt"
	"path"
	"strings"

	"github.com/lmx-video/lmx/broker"
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

// maxVariantAttrs bounds one rendition's EXT-X-STREAM-INF attributes.
const maxVariantAttrs = 512

// isMultivariant tells a multivariant playlist from a media playlist: it
// lists variants, or (ffmpeg's master without known bitrates) holds neither
// a segment nor a target duration.
func isMultivariant(body []byte) bool {
	return bytes.Contains(body, []byte("#EXT-X-STREAM-INF")) ||
		!bytes.Contains(body, []byte("#EXTINF")) && !bytes.Contains(body, []byte("#EXT-X-TARGETDURATION"))
}

// parseVariants reads a multivariant playlist as ffmpeg writes it: each
// EXT-X-STREAM-INF's attributes, by the rendition its URI names (the URI's
// base name without .m3u8: ffmpeg's %v).
func parseVariants(body []byte) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	line, pending, attrs := 0, false, ""
	first := true
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		switch {
		case first:
			first = false
			if text != "#EXTM3U" {
				return nil, fmt.Errorf("line 1: want #EXTM3U, got %q", clip(text))
			}
		case text == "":
		case strings.HasPrefix(text, "#EXT-X-STREAM-INF:"):
			attrs = strings.TrimPrefix(text, "#EXT-X-STREAM-INF:")
			if len(attrs) > maxVariantAttrs || strings.ContainsFunc(attrs, func(r rune) bool { return r < ' ' || r == 0x7f }) {
				return nil, fmt.Errorf("line %d: EXT-X-STREAM-INF attributes over %d bytes or with control characters", line, maxVariantAttrs)
			}
			pending = true
		case strings.HasPrefix(text, "#"):
		case pending:
			name := strings.TrimSuffix(path.Base(text), ".m3u8")
			if !broker.ValidRendition(name) {
				return nil, fmt.Errorf("line %d: variant URI %q does not name a rendition (1 to 32 letters, digits, '_' or '-')", line, clip(text))
			}
			if len(out) >= broker.MaxRenditions {
				return nil, fmt.Errorf("line %d: more than %d variants", line, broker.MaxRenditions)
			}
			out[name], pending = attrs, false
		default:
			return nil, fmt.Errorf("line %d: URI %q without EXT-X-STREAM-INF", line, clip(text))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if first {
		return nil, fmt.Errorf("empty playlist")
	}
	if pending {
		return nil, fmt.Errorf("EXT-X-STREAM-INF at the end without its URI")
	}
	return out, nil
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
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
