package hls

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// DefaultMaxPlaylistBytes is the body limit ParseMediaPlaylist applies when
// given a non-positive maxBytes. A five-segment ffmpeg playlist is well
// under 1 KiB; 1 MiB leaves room for long windows without letting a client
// make us buffer an unbounded body.
const DefaultMaxPlaylistBytes = 1 << 20

// Tags ParseMediaPlaylist understands. Every other #EXT line is ignored, as
// RFC 8216 6.3.1 asks of clients.
const (
	tagM3U             = "#EXTM3U"
	tagVersion         = "#EXT-X-VERSION"
	tagTargetDuration  = "#EXT-X-TARGETDURATION"
	tagMediaSequence   = "#EXT-X-MEDIA-SEQUENCE"
	tagDiscSequence    = "#EXT-X-DISCONTINUITY-SEQUENCE"
	tagIndependent     = "#EXT-X-INDEPENDENT-SEGMENTS"
	tagPlaylistType    = "#EXT-X-PLAYLIST-TYPE"
	tagEndList         = "#EXT-X-ENDLIST"
	tagInf             = "#EXTINF"
	tagDiscontinuity   = "#EXT-X-DISCONTINUITY"
	tagProgramDateTime = "#EXT-X-PROGRAM-DATE-TIME"
	tagMap             = "#EXT-X-MAP"

	// Tags of forms lmx does not carry yet: ParseMediaPlaylist refuses
	// them with an *UnsupportedError rather than pass on a playlist no
	// player could play from what lmx serves.
	tagStreamInf    = "#EXT-X-STREAM-INF"
	tagIFrameStream = "#EXT-X-I-FRAME-STREAM-INF"
	tagMedia        = "#EXT-X-MEDIA"
)

// ParseMediaPlaylist parses a media playlist as ffmpeg's hls muxer writes
// it. It reads at most maxBytes (DefaultMaxPlaylistBytes when maxBytes <= 0)
// and fails with an error wrapping ErrTooLarge beyond that. Malformed input
// yields a *SyntaxError (wrapping ErrSyntax) naming the line and its text.
//
// It is strict about the tags it knows (bad values, duplicates of
// single-valued tags, an EXTINF without a URI, a URI without an EXTINF) and
// lenient about the rest: unknown tags and comments are ignored, CRLF line
// ends and blanks around lines are accepted.
func ParseMediaPlaylist(r io.Reader, maxBytes int64) (*MediaPlaylist, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxPlaylistBytes
	}
	p := parser{pl: &MediaPlaylist{}, seen: map[string]int{}}
	if err := readLines(r, maxBytes, "playlist", &p.lineState, &p); err != nil {
		return nil, err
	}
	if err := p.finish(); err != nil {
		return nil, err
	}
	return p.pl, nil
}

// parser is the state of one ParseMediaPlaylist call.
type parser struct {
	lineState
	pl   *MediaPlaylist
	seen map[string]int // single-valued tag -> line it appeared on

	// The segment being assembled: tags before its URI land here.
	next    Segment
	infLine int    // line of the pending EXTINF, 0 when none
	infText string // that line, for the error if no URI follows
	// mapURI is the URI of the EXT-X-MAP in effect, "" before any.
	mapURI string
}

func (p *parser) errorf(line int, format string, args ...any) error {
	return &SyntaxError{Line: line, Msg: fmt.Sprintf(format, args...)}
}

// tag handles a line starting with #EXT.
func (p *parser) tag(n int, s string) error {
	name, value, hasValue := strings.Cut(s, ":")
	value = strings.Trim(value, " \t")
	switch name {
	case tagM3U:
		return p.errorf(n, "duplicate #EXTM3U (first on line %d)", p.m3uLine)
	case tagVersion:
		v, err := p.single(n, s, name, value, hasValue)
		if err != nil {
			return err
		}
		ver, err := strconv.Atoi(v)
		if !isDigits(v) || err != nil || ver < 1 {
			return p.errorf(n, "EXT-X-VERSION %s is not a positive integer", quote(v))
		}
		p.pl.Version = ver
	case tagTargetDuration:
		v, err := p.single(n, s, name, value, hasValue)
		if err != nil {
			return err
		}
		td, err := strconv.Atoi(v)
		if !isDigits(v) || err != nil || td > MaxSegmentDuration {
			return p.errorf(n, "EXT-X-TARGETDURATION %s is not an integer in [0, %d]", quote(v), MaxSegmentDuration)
		}
		p.pl.TargetDuration = td
	case tagMediaSequence, tagDiscSequence:
		v, err := p.single(n, s, name, value, hasValue)
		if err != nil {
			return err
		}
		// RFC 8216 4.3.3.2/4.3.3.3: these number the first segment, so
		// they must come before it.
		if p.infLine != 0 || len(p.pl.Segments) > 0 {
			return p.errorf(n, "%s after the first segment: %s", name[1:], quote(s))
		}
		seq, err := strconv.ParseUint(v, 10, 64)
		if !isDigits(v) || err != nil {
			return p.errorf(n, "%s %s is not an unsigned integer", name[1:], quote(v))
		}
		if name == tagMediaSequence {
			p.pl.MediaSequence = seq
		} else {
			p.pl.DiscontinuitySequence = seq
		}
	case tagPlaylistType:
		v, err := p.single(n, s, name, value, hasValue)
		if err != nil {
			return err
		}
		if v != PlaylistTypeEvent && v != PlaylistTypeVOD {
			return p.errorf(n, "EXT-X-PLAYLIST-TYPE %s is neither EVENT nor VOD", quote(v))
		}
		p.pl.PlaylistType = v
	case tagIndependent, tagEndList, tagDiscontinuity:
		// A repeat of these is harmless (they only switch something on),
		// so unlike the valued tags it is not an error.
		if hasValue {
			return p.errorf(n, "%s takes no value: %s", name[1:], quote(s))
		}
		switch name {
		case tagIndependent:
			p.pl.IndependentSegments = true
		case tagEndList:
			p.pl.EndList = true
		default:
			p.next.Discontinuity = true
		}
	case tagProgramDateTime:
		if !hasValue || value == "" {
			return p.errorf(n, "EXT-X-PROGRAM-DATE-TIME without a value: %s", quote(s))
		}
		t, err := parseDateTime(value)
		if err != nil {
			return p.errorf(n, "EXT-X-PROGRAM-DATE-TIME %s is not an ISO 8601 date-time", quote(value))
		}
		// Served playlists write times in UTC as four-digit years; a time
		// that cannot be written so is refused here rather than there.
		if y := t.UTC().Year(); y < 0 || y > 9999 {
			return p.errorf(n, "EXT-X-PROGRAM-DATE-TIME %s is out of range", quote(value))
		}
		p.next.ProgramDateTime = t
	case tagInf:
		return p.extinf(n, s, value, hasValue)
	case tagMap:
		return p.extMap(n, s, value, hasValue)
	case tagStreamInf, tagIFrameStream, tagMedia:
		return &UnsupportedError{Line: n, Msg: name[1:] + ": a multivariant playlist (adaptive bitrate, ffmpeg -var_stream_map/-master_pl_name) is not a media playlist: push each rendition's media playlist to its own URL (ffmpeg's output URL http://EDGE/v1/playlist/%v) and the master beside them"}
	}
	// Anything else starting with #EXT is a tag we do not model.
	return nil
}

// extMap handles "#EXT-X-MAP:URI="<uri>"[,BYTERANGE=...]": the media
// initialization section (an fMP4 init segment) of the segments after it,
// until the next EXT-X-MAP.
func (p *parser) extMap(n int, s, value string, hasValue bool) error {
	if !hasValue || value == "" {
		return p.errorf(n, "EXT-X-MAP without attributes: %s", quote(s))
	}
	attrs, err := parseAttributeList(value)
	if err != nil {
		return p.errorf(n, "EXT-X-MAP: %v: %s", err, quote(s))
	}
	uri := ""
	for _, a := range attrs {
		switch a.name {
		case "URI":
			if !a.quoted || a.value == "" {
				return p.errorf(n, "EXT-X-MAP URI must be a non-empty quoted string: %s", quote(s))
			}
			uri = a.value
		case "BYTERANGE":
			// One file holding init and segments at offsets (ffmpeg
			// -hls_flags single_file): the edge reads whole files.
			return &UnsupportedError{Line: n, Msg: "EXT-X-MAP with BYTERANGE: an init section inside a larger file (ffmpeg -hls_flags single_file) is not carried; push one file per segment (drop single_file)"}
		}
	}
	if uri == "" {
		return p.errorf(n, "EXT-X-MAP without a URI attribute: %s", quote(s))
	}
	p.mapURI = uri
	return nil
}

// single checks a tag that takes one value and may appear only once.
func (p *parser) single(n int, s, name, value string, hasValue bool) (string, error) {
	if first, dup := p.seen[name]; dup {
		return "", p.errorf(n, "duplicate %s (first on line %d): %s", name[1:], first, quote(s))
	}
	if !hasValue || value == "" {
		return "", p.errorf(n, "%s without a value: %s", name[1:], quote(s))
	}
	p.seen[name] = n
	return value, nil
}

// extinf handles "#EXTINF:<duration>,[<title>]".
func (p *parser) extinf(n int, s, value string, hasValue bool) error {
	if p.infLine != 0 {
		return p.errorf(n, "EXTINF while the EXTINF on line %d still has no URI: %s", p.infLine, quote(s))
	}
	if !hasValue {
		return p.errorf(n, "EXTINF without a duration: %s", quote(s))
	}
	// The comma is mandatory in RFC 8216, but some writers drop it when the
	// title is empty; accepting that costs nothing.
	ds, title, _ := strings.Cut(value, ",")
	ds = strings.Trim(ds, " \t")
	if !isDecimal(ds) {
		return p.errorf(n, "EXTINF duration %s is not a number", quote(ds))
	}
	d, err := strconv.ParseFloat(ds, 64)
	if err != nil || math.IsInf(d, 0) || math.IsNaN(d) {
		return p.errorf(n, "EXTINF duration %s is not a finite number", quote(ds))
	}
	if d > MaxSegmentDuration {
		return p.errorf(n, "EXTINF duration %s exceeds %d seconds", quote(ds), MaxSegmentDuration)
	}
	p.next.Duration = d
	p.next.Title = title
	p.infLine, p.infText = n, s
	return nil
}

// uri handles a URI line, which completes the pending segment.
func (p *parser) uri(n int, s string) error {
	if p.infLine == 0 {
		return p.errorf(n, "URI %s without a preceding EXTINF", quote(s))
	}
	p.next.URI = s
	p.next.Line = n
	p.next.Map = p.mapURI
	p.pl.Segments = append(p.pl.Segments, p.next)
	p.next = Segment{}
	p.infLine, p.infText = 0, ""
	return nil
}

// finish checks what can only be checked at the end of the body.
func (p *parser) finish() error {
	end := max(p.lastLine, 1)
	if p.m3uLine == 0 {
		return p.errorf(end, "empty playlist, expected #EXTM3U")
	}
	if p.infLine != 0 {
		return p.errorf(p.infLine, "EXTINF is not followed by a URI line: %s", quote(p.infText))
	}
	if _, ok := p.seen[tagTargetDuration]; !ok {
		// RFC 8216 4.3.3.1: the tag is REQUIRED, and players size their
		// reload interval on it.
		return p.errorf(end, "missing EXT-X-TARGETDURATION")
	}
	// A trailing DISCONTINUITY or PROGRAM-DATE-TIME with no segment after
	// it describes nothing; it is dropped, not an error, because a writer
	// may legitimately emit the tag just before the segment is ready.
	return nil
}

// isDigits reports whether s is a non-empty run of ASCII digits, the
// RFC 8216 decimal-integer. strconv alone would also accept a sign.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isDecimal reports whether s is digits with at most one '.', and at least
// one digit: the RFC 8216 decimal-floating-point. strconv.ParseFloat alone
// would also accept signs, exponents, hex, "Inf" and "NaN".
func isDecimal(s string) bool {
	digits, dots := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			dots++
		default:
			return false
		}
	}
	return digits > 0 && dots <= 1
}

// dateTimeLayouts are the ISO 8601 forms seen in the wild: RFC 3339
// ("+00:00" or "Z"), ffmpeg's strftime "%z" ("+0000"), and a bare hour
// offset. Fractional seconds are optional in all of them because
// time.Parse accepts a fraction after the seconds field.
var dateTimeLayouts = []string{
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05Z07",
}

func parseDateTime(s string) (time.Time, error) {
	var err error
	for _, layout := range dateTimeLayouts {
		var t time.Time
		if t, err = time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, err
}
