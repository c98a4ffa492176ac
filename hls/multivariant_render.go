package hls

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Versions a rendered multivariant playlist declares. Nothing in
// EXT-X-STREAM-INF needs more than version 1, but 3 is what ffmpeg writes
// for the same playlist and what lmx's media playlists declare, so old
// players see one version throughout. Only INSTREAM-ID="SERVICEn" needs
// more (RFC 8216 7).
const (
	mvRenderVersion        = renderVersion
	mvRenderVersionService = 7
)

// RenderMultivariant writes a multivariant playlist listing the variants
// in the order given, with EXT-X-INDEPENDENT-SEGMENTS when independent is
// true (every segment of every variant starts with a key frame, as
// ffmpeg's segments do). See RenderMultivariantPlaylist for what each
// variant must hold; a variant naming an AUDIO, VIDEO, SUBTITLES or
// CLOSED-CAPTIONS group is refused here, since no EXT-X-MEDIA is written.
// Errors wrap ErrBadVariant and name the variant.
func RenderMultivariant(v []Variant, independent bool) ([]byte, error) {
	return RenderMultivariantPlaylist(&MultivariantPlaylist{IndependentSegments: independent, Variants: v})
}

// RenderMultivariantPlaylist writes p as a multivariant playlist:
// EXT-X-VERSION (computed, p.Version is not used), EXT-X-INDEPENDENT-SEGMENTS
// when set, the EXT-X-MEDIA renditions, then each variant's
// EXT-X-STREAM-INF and URI line. A variant writes BANDWIDTH (required,
// positive), and AVERAGE-BANDWIDTH, CODECS, RESOLUTION, FRAME-RATE (three
// decimals) and its group IDs when known. Quoted values are checked to be
// writable as RFC 8216 quoted-strings (no '"', CR, LF or other control
// character) rather than escaped, because the format has no escapes.
//
// Whatever it writes parses back with ParseMultivariantPlaylist to p
// (FRAME-RATE rounded to three decimals, Line and Version aside). Errors
// wrap ErrBadVariant and name the variant or rendition.
func RenderMultivariantPlaylist(p *MultivariantPlaylist) ([]byte, error) {
	if len(p.Variants) > MaxVariants {
		return nil, fmt.Errorf("%w: %d variants, more than %d", ErrBadVariant, len(p.Variants), MaxVariants)
	}
	if len(p.Renditions) > MaxRenditions {
		return nil, fmt.Errorf("%w: %d renditions, more than %d", ErrBadVariant, len(p.Renditions), MaxRenditions)
	}
	version := mvRenderVersion
	for i, m := range p.Renditions {
		if err := checkRenderRendition(m, p.Renditions[:i]); err != nil {
			return nil, fmt.Errorf("%w: rendition %d (%s %s): %v", ErrBadVariant, i, m.Type, quote(m.Name), err)
		}
		if strings.HasPrefix(m.InstreamID, "SERVICE") {
			version = mvRenderVersionService
		}
	}
	for i, v := range p.Variants {
		if err := checkRenderVariant(v, p.Renditions); err != nil {
			return nil, fmt.Errorf("%w: variant %d (URI %s): %v", ErrBadVariant, i, quote(v.URI), err)
		}
	}
	if i, ok := mixedNoCaptions(p.Variants); !ok {
		return nil, fmt.Errorf("%w: variant %d (URI %s): %v", ErrBadVariant, i, quote(p.Variants[i].URI), errMixedNoCaptions)
	}

	var b bytes.Buffer
	b.Grow(64 + 160*len(p.Variants) + 120*len(p.Renditions))
	b.WriteString("#EXTM3U\n#EXT-X-VERSION:")
	b.WriteString(strconv.Itoa(version))
	b.WriteByte('\n')
	if p.IndependentSegments {
		b.WriteString("#EXT-X-INDEPENDENT-SEGMENTS\n")
	}
	for _, m := range p.Renditions {
		writeRendition(&b, m)
	}
	for _, v := range p.Variants {
		writeVariant(&b, v)
	}
	return b.Bytes(), nil
}

// attrWriter appends NAME=VALUE pairs, commas between them.
type attrWriter struct {
	b     *bytes.Buffer
	first bool
}

func (w *attrWriter) sep(name string) {
	if !w.first {
		w.b.WriteByte(',')
	}
	w.first = false
	w.b.WriteString(name)
	w.b.WriteByte('=')
}

func (w *attrWriter) int(name string, v int) {
	w.sep(name)
	w.b.WriteString(strconv.Itoa(v))
}

func (w *attrWriter) enum(name, v string) {
	w.sep(name)
	w.b.WriteString(v)
}

func (w *attrWriter) quoted(name, v string) {
	w.sep(name)
	w.b.WriteByte('"')
	w.b.WriteString(v)
	w.b.WriteByte('"')
}

// writeVariant writes one checked variant.
func writeVariant(b *bytes.Buffer, v Variant) {
	b.WriteString("#EXT-X-STREAM-INF:")
	w := attrWriter{b: b, first: true}
	w.int("BANDWIDTH", v.Bandwidth)
	if v.AverageBandwidth > 0 {
		w.int("AVERAGE-BANDWIDTH", v.AverageBandwidth)
	}
	if v.Codecs != "" {
		w.quoted("CODECS", v.Codecs)
	}
	if v.Width > 0 {
		w.enum("RESOLUTION", strconv.Itoa(v.Width)+"x"+strconv.Itoa(v.Height))
	}
	if v.FrameRate > 0 {
		w.enum("FRAME-RATE", strconv.FormatFloat(v.FrameRate, 'f', 3, 64))
	}
	for _, g := range []struct{ name, id string }{
		{"AUDIO", v.Audio}, {"VIDEO", v.Video}, {"SUBTITLES", v.Subtitles}, {"CLOSED-CAPTIONS", v.ClosedCaptions},
	} {
		if g.id != "" {
			w.quoted(g.name, g.id)
		}
	}
	if v.NoClosedCaptions {
		w.enum("CLOSED-CAPTIONS", "NONE")
	}
	b.WriteByte('\n')
	b.WriteString(v.URI)
	b.WriteByte('\n')
}

// writeRendition writes one checked rendition. DEFAULT, AUTOSELECT and
// FORCED are written only when YES: absent means NO, and writing
// AUTOSELECT=NO beside DEFAULT=YES would break RFC 8216 4.3.4.1.
func writeRendition(b *bytes.Buffer, m Rendition) {
	b.WriteString("#EXT-X-MEDIA:")
	w := attrWriter{b: b, first: true}
	w.enum("TYPE", m.Type)
	w.quoted("GROUP-ID", m.GroupID)
	w.quoted("NAME", m.Name)
	if m.Language != "" {
		w.quoted("LANGUAGE", m.Language)
	}
	if m.Default {
		w.enum("DEFAULT", "YES")
	}
	if m.Autoselect {
		w.enum("AUTOSELECT", "YES")
	}
	if m.Forced {
		w.enum("FORCED", "YES")
	}
	if m.InstreamID != "" {
		w.quoted("INSTREAM-ID", m.InstreamID)
	}
	if m.Channels != "" {
		w.quoted("CHANNELS", m.Channels)
	}
	if m.URI != "" {
		w.quoted("URI", m.URI)
	}
	b.WriteByte('\n')
}

// checkRenderVariant reports why v cannot be written, or nil.
func checkRenderVariant(v Variant, rs []Rendition) error {
	switch {
	case v.Bandwidth <= 0:
		return fmt.Errorf("BANDWIDTH %d: RFC 8216 requires a positive peak bit rate", v.Bandwidth)
	case v.Bandwidth > maxBandwidth:
		return fmt.Errorf("BANDWIDTH %d is above %d", v.Bandwidth, maxBandwidth)
	case v.AverageBandwidth < 0 || v.AverageBandwidth > maxBandwidth:
		return fmt.Errorf("AVERAGE-BANDWIDTH %d is outside [0, %d]", v.AverageBandwidth, maxBandwidth)
	case (v.Width == 0) != (v.Height == 0):
		return fmt.Errorf("RESOLUTION %dx%d: give both dimensions or neither", v.Width, v.Height)
	case v.Width < 0 || v.Height < 0 || v.Width > maxResolution || v.Height > maxResolution:
		return fmt.Errorf("RESOLUTION %dx%d: each dimension must be in [1, %d]", v.Width, v.Height, maxResolution)
	case v.FrameRate != 0 && !(v.FrameRate >= minFrameRate && v.FrameRate <= maxFrameRate):
		return fmt.Errorf("FRAME-RATE %g is outside [%g, %g]", v.FrameRate, minFrameRate, maxFrameRate)
	case v.NoClosedCaptions && v.ClosedCaptions != "":
		return fmt.Errorf("CLOSED-CAPTIONS is both NONE and group %s", quote(v.ClosedCaptions))
	}
	if err := checkURILine(v.URI); err != nil {
		return err
	}
	for _, q := range []struct{ name, v string }{
		{"CODECS", v.Codecs}, {"AUDIO", v.Audio}, {"VIDEO", v.Video}, {"SUBTITLES", v.Subtitles}, {"CLOSED-CAPTIONS", v.ClosedCaptions},
	} {
		if err := checkQuotable(q.name, q.v); err != nil {
			return err
		}
	}
	return checkGroups(v, rs)
}

// checkRenderRendition reports why m cannot be written after earlier, or
// nil.
func checkRenderRendition(m Rendition, earlier []Rendition) error {
	switch m.Type {
	case RenditionAudio, RenditionVideo, RenditionSubtitles, RenditionClosedCaptions:
	default:
		return fmt.Errorf("TYPE %s is not AUDIO, VIDEO, SUBTITLES or CLOSED-CAPTIONS", quote(m.Type))
	}
	if m.GroupID == "" || m.Name == "" {
		return fmt.Errorf("GROUP-ID and NAME are required")
	}
	for _, q := range []struct{ name, v string }{
		{"GROUP-ID", m.GroupID}, {"NAME", m.Name}, {"LANGUAGE", m.Language}, {"INSTREAM-ID", m.InstreamID},
		{"CHANNELS", m.Channels}, {"URI", m.URI},
	} {
		if err := checkQuotable(q.name, q.v); err != nil {
			return err
		}
	}
	for _, o := range earlier {
		if o.Type == m.Type && o.GroupID == m.GroupID && o.Name == m.Name {
			return fmt.Errorf("NAME %s appears twice in group %s", quote(m.Name), quote(m.GroupID))
		}
	}
	// Absent AUTOSELECT means NO, and it is written only when YES.
	return checkRendition(m, m.Autoselect)
}

// checkQuotable reports whether v can be written as an RFC 8216
// quoted-string that parses back to v: bounded, valid UTF-8, and free of
// '"' and control characters (the format has no escapes, and the line
// parser refuses control characters).
func checkQuotable(name, v string) error {
	if len(v) > maxAttrValueBytes {
		return fmt.Errorf("%s is %d bytes, longer than %d", name, len(v), maxAttrValueBytes)
	}
	if !utf8.ValidString(v) {
		return fmt.Errorf("%s %s is not valid UTF-8", name, quote(v))
	}
	for _, c := range []byte(v) {
		if c == '"' || (c < 0x20 && c != '\t') || c == 0x7f {
			return fmt.Errorf("%s %s contains %q, which a quoted string cannot hold", name, quote(v), c)
		}
	}
	return nil
}

// checkURILine reports whether uri can be written as a URI line that
// parses back to it: not empty, bounded, not starting with '#' (that would
// be a comment or tag), no blanks around it (they are trimmed), valid
// UTF-8, no control characters.
func checkURILine(uri string) error {
	switch {
	case uri == "":
		return fmt.Errorf("empty URI")
	case len(uri) > maxAttrValueBytes:
		return fmt.Errorf("URI is %d bytes, longer than %d", len(uri), maxAttrValueBytes)
	case uri[0] == '#':
		return fmt.Errorf("URI %s starts with '#', which would make it a comment", quote(uri))
	case strings.Trim(uri, " \t") != uri:
		return fmt.Errorf("URI %s has blanks around it", quote(uri))
	case !utf8.ValidString(uri):
		return fmt.Errorf("URI %s is not valid UTF-8", quote(uri))
	}
	for _, c := range []byte(uri) {
		if (c < 0x20 && c != '\t') || c == 0x7f {
			return fmt.Errorf("URI %s contains control character %#02x", quote(uri), c)
		}
	}
	return nil
}
