package hls

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// RecordingVariant is one rendition of an adaptive-bitrate recording, as
// its multivariant playlist lists it (RFC 8216 4.3.4.2).
type RecordingVariant struct {
	// URI is the rendition's media playlist, relative to the multivariant
	// playlist. Like a segment URI it must not hold line breaks.
	URI string
	// Bandwidth is the peak segment bit rate in bits per second (BANDWIDTH,
	// required: at least 1 is written).
	Bandwidth int64
	// AverageBandwidth is the average segment bit rate (AVERAGE-BANDWIDTH,
	// left out when 0).
	AverageBandwidth int64
	// Resolution is WIDTHxHEIGHT (RESOLUTION, left out when "" or not of
	// that form).
	Resolution string
	// Codecs is the RFC 6381 codec list (CODECS, left out when "" or when
	// it holds a character a quoted-string cannot).
	Codecs string
}

// RenderRecordingMultivariant renders the multivariant playlist of a
// recording's renditions, in the order given. It carries no playlist type
// (a multivariant playlist has none): each rendition's media playlist says
// whether the recording still records.
func RenderRecordingMultivariant(vs []RecordingVariant) []byte {
	var b bytes.Buffer
	b.Grow(64 + len(vs)*120)
	b.WriteString("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n")
	for _, v := range vs {
		b.WriteString("#EXT-X-STREAM-INF:BANDWIDTH=")
		b.WriteString(strconv.FormatInt(max(v.Bandwidth, 1), 10))
		if v.AverageBandwidth > 0 {
			b.WriteString(",AVERAGE-BANDWIDTH=")
			b.WriteString(strconv.FormatInt(v.AverageBandwidth, 10))
		}
		if validResolution(v.Resolution) {
			b.WriteString(",RESOLUTION=")
			b.WriteString(v.Resolution)
		}
		if v.Codecs != "" && validQuoted(v.Codecs) {
			b.WriteString(`,CODECS="`)
			b.WriteString(v.Codecs)
			b.WriteByte('"')
		}
		b.WriteByte('\n')
		b.WriteString(v.URI)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// IsMultivariant reports whether a playlist body is a multivariant
// playlist (it lists variant streams) rather than a media playlist.
func IsMultivariant(body []byte) bool {
	for line := range bytes.Lines(body) {
		if bytes.HasPrefix(bytes.TrimLeft(line, " \t"), []byte(tagStreamInf+":")) {
			return true
		}
	}
	return false
}

// ParseRecordingMultivariant reads the variant streams of a multivariant
// playlist such as RenderRecordingMultivariant writes, in order. It reads
// at most maxBytes (DefaultMaxPlaylistBytes when maxBytes <= 0). An
// EXT-X-STREAM-INF without BANDWIDTH or without a URI line after it is a
// *SyntaxError; other tags are ignored.
func ParseRecordingMultivariant(r io.Reader, maxBytes int64) ([]RecordingVariant, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxPlaylistBytes
	}
	body, err := io.ReadAll(io.LimitReader(r, maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("hls: reading playlist: %w", err)
	}
	if int64(len(body)) > maxBytes {
		return nil, fmt.Errorf("%w: body exceeds %d bytes", ErrTooLarge, maxBytes)
	}
	var out []RecordingVariant
	var pending *RecordingVariant
	pendingLine, n := 0, 0
	for raw := range bytes.Lines(body) {
		n++
		s := strings.Trim(string(raw), " \t\r\n")
		switch {
		case n == 1 && s != tagM3U:
			return nil, &SyntaxError{Line: n, Msg: "playlist must start with #EXTM3U, found " + quote(s)}
		case s == "" || n == 1:
		case strings.HasPrefix(s, tagStreamInf+":"):
			if pending != nil {
				return nil, &SyntaxError{Line: pendingLine, Msg: "EXT-X-STREAM-INF is not followed by a URI line"}
			}
			v, err := parseStreamInf(s[len(tagStreamInf)+1:])
			if err != nil {
				return nil, &SyntaxError{Line: n, Msg: err.Error()}
			}
			pending, pendingLine = &v, n
		case strings.HasPrefix(s, "#"):
		case pending == nil:
			return nil, &SyntaxError{Line: n, Msg: "URI " + quote(s) + " without a preceding EXT-X-STREAM-INF"}
		default:
			pending.URI = s
			out = append(out, *pending)
			pending = nil
		}
	}
	if n == 0 {
		return nil, &SyntaxError{Line: 1, Msg: "empty playlist, expected #EXTM3U"}
	}
	if pending != nil {
		return nil, &SyntaxError{Line: pendingLine, Msg: "EXT-X-STREAM-INF is not followed by a URI line"}
	}
	return out, nil
}

// parseStreamInf reads the attributes of an EXT-X-STREAM-INF lmx uses.
func parseStreamInf(list string) (RecordingVariant, error) {
	attrs, err := parseAttributes(list)
	if err != nil {
		return RecordingVariant{}, err
	}
	var v RecordingVariant
	hasBandwidth := false
	for _, a := range attrs {
		switch a.name {
		case "BANDWIDTH", "AVERAGE-BANDWIDTH":
			bw, err := strconv.ParseInt(a.value, 10, 64)
			if a.quoted || !isDigits(a.value) || err != nil {
				return v, fmt.Errorf("%s %s is not a decimal integer", a.name, quote(a.value))
			}
			if a.name == "BANDWIDTH" {
				v.Bandwidth, hasBandwidth = bw, true
			} else {
				v.AverageBandwidth = bw
			}
		case "RESOLUTION":
			v.Resolution = a.value
		case "CODECS":
			v.Codecs = a.value
		}
	}
	if !hasBandwidth {
		return v, fmt.Errorf("EXT-X-STREAM-INF has no BANDWIDTH (RFC 8216 4.3.4.2 requires it)")
	}
	return v, nil
}

// validResolution reports whether s is WIDTHxHEIGHT in decimal integers.
func validResolution(s string) bool {
	w, h, ok := strings.Cut(s, "x")
	return ok && isDigits(w) && isDigits(h)
}

// validQuoted reports whether s can be a quoted-string (RFC 8216 4.2): no
// '"', no line feed or carriage return.
func validQuoted(s string) bool {
	return !strings.ContainsAny(s, "\"\r\n")
}
