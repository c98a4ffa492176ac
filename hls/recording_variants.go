package hls

import (
	"bytes"
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
// recording's renditions, in the order given, with RenderMultivariant. It
// carries no playlist type (a multivariant playlist has none): each
// rendition's media playlist says whether the recording still records. A
// RESOLUTION or CODECS that could not be written safely is left out, not
// an error: BANDWIDTH is what a player needs.
func RenderRecordingMultivariant(vs []RecordingVariant) []byte {
	out := make([]Variant, len(vs))
	for i, v := range vs {
		out[i] = Variant{URI: v.URI, Bandwidth: int(max(v.Bandwidth, 1)), AverageBandwidth: int(max(v.AverageBandwidth, 0))}
		if w, h, ok := strings.Cut(v.Resolution, "x"); ok && isDigits(w) && isDigits(h) {
			out[i].Width, _ = strconv.Atoi(w)
			out[i].Height, _ = strconv.Atoi(h)
			if out[i].Width == 0 || out[i].Height == 0 {
				out[i].Width, out[i].Height = 0, 0
			}
		}
		if v.Codecs != "" && !strings.ContainsAny(v.Codecs, "\"\r\n") {
			out[i].Codecs = v.Codecs
		}
	}
	b, err := RenderMultivariant(out, true)
	if err != nil {
		// Only a URI with a line break gets here: the recordings' URIs
		// are their rendition names, which hold none.
		return []byte("#EXTM3U\n")
	}
	return b
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
// playlist such as RenderRecordingMultivariant writes, in order, with
// ParseMultivariantPlaylist (whose errors it returns).
func ParseRecordingMultivariant(r io.Reader, maxBytes int64) ([]RecordingVariant, error) {
	p, err := ParseMultivariantPlaylist(r, maxBytes)
	if err != nil {
		return nil, err
	}
	out := make([]RecordingVariant, len(p.Variants))
	for i, v := range p.Variants {
		out[i] = RecordingVariant{URI: v.URI, Bandwidth: int64(v.Bandwidth), AverageBandwidth: int64(v.AverageBandwidth), Codecs: v.Codecs}
		if v.Width > 0 && v.Height > 0 {
			out[i].Resolution = strconv.Itoa(v.Width) + "x" + strconv.Itoa(v.Height)
		}
	}
	return out, nil
}
