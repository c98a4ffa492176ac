package hls

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// DefaultMaxMultivariantBytes is the body limit ParseMultivariantPlaylist
// applies when given a non-positive maxBytes. A multivariant playlist of
// MaxVariants variants with long codec strings stays under 16 KiB.
const DefaultMaxMultivariantBytes = 64 << 10

// mediaOnlyTags are the tags that make a playlist a media playlist. RFC
// 8216 4.1: a playlist with both media segment tags and multivariant tags
// MUST fail to parse; most often it is a media playlist sent where the
// multivariant one belongs.
var mediaOnlyTags = map[string]bool{
	tagInf: true, tagTargetDuration: true, tagMediaSequence: true, tagDiscSequence: true,
	tagEndList: true, tagPlaylistType: true, tagDiscontinuity: true, tagProgramDateTime: true,
	tagMap: true, "#EXT-X-BYTERANGE": true, "#EXT-X-KEY": true, "#EXT-X-I-FRAMES-ONLY": true,
	"#EXT-X-DATERANGE": true, "#EXT-X-GAP": true, "#EXT-X-PART": true, "#EXT-X-PART-INF": true,
	"#EXT-X-SERVER-CONTROL": true, "#EXT-X-PRELOAD-HINT": true, "#EXT-X-SKIP": true,
}

// ParseMultivariantPlaylist parses a multivariant ("master") playlist as
// ffmpeg's hls muxer writes it with -master_pl_name: EXT-X-VERSION,
// EXT-X-INDEPENDENT-SEGMENTS, EXT-X-MEDIA and EXT-X-STREAM-INF each
// followed by its URI line. It reads at most maxBytes
// (DefaultMaxMultivariantBytes when maxBytes <= 0) and fails with an error
// wrapping ErrTooLarge beyond that. Malformed input yields a *SyntaxError
// (wrapping ErrSyntax) naming the line.
//
// A playlist with no variant at all is valid: ffmpeg writes one when it
// knows no bitrate. Beyond RFC 8216's syntax it checks what players rely
// on: BANDWIDTH present and positive, a URI after every EXT-X-STREAM-INF,
// every AUDIO/VIDEO/SUBTITLES/CLOSED-CAPTIONS group defined by an
// EXT-X-MEDIA of that type, names unique within a group, and no media
// playlist tag. Unknown tags and attributes are ignored (RFC 8216 6.3.1),
// and so are EXT-X-I-FRAME-STREAM-INF, EXT-X-SESSION-DATA and
// EXT-X-SESSION-KEY, which lmx does not model.
func ParseMultivariantPlaylist(r io.Reader, maxBytes int64) (*MultivariantPlaylist, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxMultivariantBytes
	}
	p := mvParser{pl: &MultivariantPlaylist{}}
	if err := readLines(r, maxBytes, "multivariant playlist", &p.lineState, &p); err != nil {
		return nil, err
	}
	if err := p.finish(); err != nil {
		return nil, err
	}
	return p.pl, nil
}

// mvParser is the state of one ParseMultivariantPlaylist call.
type mvParser struct {
	lineState
	pl          *MultivariantPlaylist
	versionLine int // line of EXT-X-VERSION, 0 until seen
	// pending is the EXT-X-STREAM-INF waiting for its URI line.
	pending    Variant
	hasPending bool
}

func (p *mvParser) errorf(line int, format string, args ...any) error {
	return &SyntaxError{Line: line, Msg: fmt.Sprintf(format, args...)}
}

// tag handles a line starting with #EXT.
func (p *mvParser) tag(n int, s string) error {
	name, value, hasValue := strings.Cut(s, ":")
	switch {
	case name == tagM3U:
		return p.errorf(n, "duplicate #EXTM3U (first on line %d)", p.m3uLine)
	case mediaOnlyTags[name]:
		return p.errorf(n, "%s is a media playlist tag, not allowed in a multivariant playlist (a media playlist sent as the multivariant one?)", name[1:])
	case p.hasPending && (name == tagStreamInf || name == tagMedia || name == tagIFrameStream):
		return p.errorf(n, "%s while the EXT-X-STREAM-INF on line %d still has no URI line", name[1:], p.pending.Line)
	}
	switch name {
	case tagVersion:
		if p.versionLine != 0 {
			return p.errorf(n, "duplicate EXT-X-VERSION (first on line %d)", p.versionLine)
		}
		v := strings.Trim(value, " \t")
		ver, err := strconv.Atoi(v)
		if !hasValue || !isDigits(v) || err != nil || ver < 1 {
			return p.errorf(n, "EXT-X-VERSION %s is not a positive integer", quote(v))
		}
		p.pl.Version, p.versionLine = ver, n
	case tagIndependent:
		if hasValue {
			return p.errorf(n, "EXT-X-INDEPENDENT-SEGMENTS takes no value: %s", quote(s))
		}
		p.pl.IndependentSegments = true
	case tagStreamInf:
		if len(p.pl.Variants) == MaxVariants {
			return p.errorf(n, "more than %d variants", MaxVariants)
		}
		v, err := parseStreamInf(value)
		if err != nil {
			return p.errorf(n, "EXT-X-STREAM-INF: %v", err)
		}
		v.Line = n
		p.pending, p.hasPending = v, true
	case tagMedia:
		if len(p.pl.Renditions) == MaxRenditions {
			return p.errorf(n, "more than %d EXT-X-MEDIA renditions", MaxRenditions)
		}
		m, err := parseMedia(value)
		if err != nil {
			return p.errorf(n, "EXT-X-MEDIA: %v", err)
		}
		for _, o := range p.pl.Renditions {
			if o.Type == m.Type && o.GroupID == m.GroupID && o.Name == m.Name {
				return p.errorf(n, "EXT-X-MEDIA: NAME %s appears twice in %s group %s (first on line %d)", quote(m.Name), m.Type, quote(m.GroupID), o.Line)
			}
		}
		m.Line = n
		p.pl.Renditions = append(p.pl.Renditions, m)
	}
	// EXT-X-I-FRAME-STREAM-INF, EXT-X-SESSION-DATA, EXT-X-SESSION-KEY and
	// unknown tags: not modelled, ignored.
	return nil
}

// uri handles a URI line, which completes the pending variant.
func (p *mvParser) uri(n int, s string) error {
	if !p.hasPending {
		return p.errorf(n, "URI %s without a preceding EXT-X-STREAM-INF", quote(s))
	}
	if len(s) > maxAttrValueBytes {
		return p.errorf(n, "variant URI is %d bytes, longer than %d", len(s), maxAttrValueBytes)
	}
	p.pending.URI = s
	p.pl.Variants = append(p.pl.Variants, p.pending)
	p.pending, p.hasPending = Variant{}, false
	return nil
}

// finish checks what can only be checked at the end of the body.
func (p *mvParser) finish() error {
	if p.m3uLine == 0 {
		return p.errorf(max(p.lastLine, 1), "empty playlist, expected #EXTM3U")
	}
	if p.hasPending {
		return p.errorf(p.pending.Line, "EXT-X-STREAM-INF is not followed by a URI line")
	}
	for _, v := range p.pl.Variants {
		if err := checkGroups(v, p.pl.Renditions); err != nil {
			return p.errorf(v.Line, "EXT-X-STREAM-INF: %v", err)
		}
	}
	if i, ok := mixedNoCaptions(p.pl.Variants); !ok {
		return p.errorf(p.pl.Variants[i].Line, "EXT-X-STREAM-INF: %v", errMixedNoCaptions)
	}
	return nil
}

// errMixedNoCaptions is the message for variants that disagree on
// CLOSED-CAPTIONS=NONE.
var errMixedNoCaptions = errors.New("CLOSED-CAPTIONS=NONE must be on every variant or none (RFC 8216 4.3.4.2)")

// mixedNoCaptions returns the first variant that disagrees with the first
// one about CLOSED-CAPTIONS=NONE, and false, or true when they all agree.
func mixedNoCaptions(vs []Variant) (int, bool) {
	for i, v := range vs {
		if v.NoClosedCaptions != vs[0].NoClosedCaptions {
			return i, false
		}
	}
	return 0, true
}

// checkGroups reports a group v refers to that no rendition of the right
// type defines (RFC 8216 4.3.4.2: each MUST match such an EXT-X-MEDIA).
func checkGroups(v Variant, rs []Rendition) error {
	for _, ref := range []struct{ attr, typ, group string }{
		{"AUDIO", RenditionAudio, v.Audio},
		{"VIDEO", RenditionVideo, v.Video},
		{"SUBTITLES", RenditionSubtitles, v.Subtitles},
		{"CLOSED-CAPTIONS", RenditionClosedCaptions, v.ClosedCaptions},
	} {
		if ref.group == "" {
			continue
		}
		found := false
		for _, r := range rs {
			if r.Type == ref.typ && r.GroupID == ref.group {
				found = true
				break
			}
		}
		if !found {
			return fmt.Errorf("%s=%s names no EXT-X-MEDIA group of TYPE=%s", ref.attr, quote(ref.group), ref.typ)
		}
	}
	return nil
}

// parseStreamInf reads the attributes of EXT-X-STREAM-INF.
func parseStreamInf(value string) (Variant, error) {
	var v Variant
	l, err := parseAttributeList(value)
	if err != nil {
		return v, err
	}
	bw, ok := l.get("BANDWIDTH")
	if !ok {
		return v, fmt.Errorf("BANDWIDTH is missing (RFC 8216 requires it)")
	}
	n, err := bw.decimalInteger(maxBandwidth)
	if err != nil {
		return v, err
	}
	if n == 0 {
		return v, fmt.Errorf("BANDWIDTH=0: a variant's peak bit rate must be positive")
	}
	v.Bandwidth = int(n)
	for _, a := range l {
		switch a.name {
		case "AVERAGE-BANDWIDTH":
			var n uint64
			n, err = a.decimalInteger(maxBandwidth)
			v.AverageBandwidth = int(n)
		case "CODECS":
			v.Codecs, err = a.quotedString()
		case "RESOLUTION":
			v.Width, v.Height, err = a.resolution()
		case "FRAME-RATE":
			v.FrameRate, err = a.decimalFloat()
			if err == nil && (v.FrameRate < minFrameRate || v.FrameRate > maxFrameRate) {
				err = fmt.Errorf("FRAME-RATE=%s is outside [%g, %g]", a.value, minFrameRate, maxFrameRate)
			}
		case "AUDIO":
			v.Audio, err = a.nonEmptyQuoted()
		case "VIDEO":
			v.Video, err = a.nonEmptyQuoted()
		case "SUBTITLES":
			v.Subtitles, err = a.nonEmptyQuoted()
		case "CLOSED-CAPTIONS":
			if !a.quoted {
				// The only enumerated value is NONE.
				_, err = a.oneOf("NONE")
				v.NoClosedCaptions = err == nil
			} else {
				v.ClosedCaptions, err = a.nonEmptyQuoted()
			}
		}
		if err != nil {
			return v, err
		}
	}
	return v, nil
}

// Bounds on FRAME-RATE. The lower one is the smallest value three decimals
// can write, so whatever parses renders and parses back.
const (
	minFrameRate = 0.001
	maxFrameRate = 1000.0
)

// parseMedia reads the attributes of EXT-X-MEDIA.
func parseMedia(value string) (Rendition, error) {
	var m Rendition
	l, err := parseAttributeList(value)
	if err != nil {
		return m, err
	}
	for _, req := range []string{"TYPE", "GROUP-ID", "NAME"} {
		if _, ok := l.get(req); !ok {
			return m, fmt.Errorf("%s is missing (RFC 8216 requires it)", req)
		}
	}
	autoselectSet := false
	for _, a := range l {
		switch a.name {
		case "TYPE":
			m.Type, err = a.oneOf(RenditionAudio, RenditionVideo, RenditionSubtitles, RenditionClosedCaptions)
		case "GROUP-ID":
			m.GroupID, err = a.nonEmptyQuoted()
		case "NAME":
			m.Name, err = a.nonEmptyQuoted()
		case "LANGUAGE":
			m.Language, err = a.nonEmptyQuoted()
		case "DEFAULT":
			m.Default, err = a.yesNo()
		case "AUTOSELECT":
			m.Autoselect, err = a.yesNo()
			autoselectSet = true
		case "FORCED":
			m.Forced, err = a.yesNo()
		case "INSTREAM-ID":
			m.InstreamID, err = a.nonEmptyQuoted()
		case "CHANNELS":
			m.Channels, err = a.nonEmptyQuoted()
		case "URI":
			m.URI, err = a.nonEmptyQuoted()
		}
		if err != nil {
			return m, err
		}
	}
	return m, checkRendition(m, autoselectSet)
}

// checkRendition checks the RFC 8216 4.3.4.1 rules between attributes.
// autoselectSet says whether AUTOSELECT was written (a rendered rendition
// always writes it).
func checkRendition(m Rendition, autoselectSet bool) error {
	switch {
	case m.Default && autoselectSet && !m.Autoselect:
		return fmt.Errorf("DEFAULT=YES needs AUTOSELECT=YES")
	case m.Forced && m.Type != RenditionSubtitles:
		return fmt.Errorf("FORCED is only for TYPE=SUBTITLES")
	case m.Type == RenditionClosedCaptions && m.URI != "":
		return fmt.Errorf("TYPE=CLOSED-CAPTIONS must not have a URI")
	case m.Type == RenditionClosedCaptions && m.InstreamID == "":
		return fmt.Errorf("TYPE=CLOSED-CAPTIONS needs INSTREAM-ID")
	case m.Type != RenditionClosedCaptions && m.InstreamID != "":
		return fmt.Errorf("INSTREAM-ID is only for TYPE=CLOSED-CAPTIONS")
	case m.Type == RenditionSubtitles && m.URI == "":
		return fmt.Errorf("TYPE=SUBTITLES needs a URI")
	}
	return nil
}

// ParseStreamInf reads an EXT-X-STREAM-INF attribute list alone (what
// follows "#EXT-X-STREAM-INF:"), checked as ParseMultivariantPlaylist
// checks it; the Variant has no URI.
func ParseStreamInf(attrs string) (Variant, error) {
	if len(attrs) > maxAttrValueBytes {
		return Variant{}, fmt.Errorf("EXT-X-STREAM-INF attributes over %d bytes", maxAttrValueBytes)
	}
	return parseStreamInf(attrs)
}

// StreamInfAttributes renders v's EXT-X-STREAM-INF attribute list as
// RenderMultivariant writes it, without the tag.
func StreamInfAttributes(v Variant) (string, error) {
	v.URI = "x"
	b, err := RenderMultivariant([]Variant{v}, false)
	if err != nil {
		return "", err
	}
	_, rest, _ := strings.Cut(string(b), tagStreamInf+":")
	line, _, _ := strings.Cut(rest, "\n")
	return line, nil
}
