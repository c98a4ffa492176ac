package hls

import (
	"bytes"
	"strconv"
	"time"
)

// renderVersion is the EXT-X-VERSION lmx serves for MPEG-TS segments: 3 is
// the lowest version allowing decimal EXTINF durations, and nothing else
// those playlists carry needs more, so the oldest players still accept them.
const renderVersion = 3

// mapVersion is the EXT-X-VERSION of a playlist with EXT-X-MAP (fMP4
// segments): RFC 8216 7 asks for 6 when EXT-X-MAP is used in a media
// playlist without EXT-X-I-FRAMES-ONLY.
const mapVersion = 6

// versionFor is the EXT-X-VERSION a playlist of segs needs.
func versionFor(segs []LiveSegment) int {
	for _, s := range segs {
		if s.Map != "" {
			return mapVersion
		}
	}
	return renderVersion
}

// segFormat says how precisely durations and times are written.
type segFormat struct {
	// durPrec is the strconv precision for EXTINF; -1 means shortest exact.
	durPrec int
	// pdtLayout is the time layout for EXT-X-PROGRAM-DATE-TIME.
	pdtLayout string
	// utc converts times to UTC before formatting.
	utc bool
}

var (
	// servedFormat is what players get: three decimals are finer than a
	// frame at any usual rate, and RFC 3339 in UTC with milliseconds is what
	// hls.js and Safari parse without surprises.
	servedFormat = segFormat{durPrec: 3, pdtLayout: "2006-01-02T15:04:05.000Z07:00", utc: true}
	// exactFormat loses nothing, for round-trip tests.
	exactFormat = segFormat{durPrec: -1, pdtLayout: time.RFC3339Nano}
)

// header holds the playlist-level tags.
type header struct {
	version      int // omitted when 0
	target       int
	mediaSeq     uint64
	discSeq      uint64 // omitted when 0: absent means 0 (RFC 8216 4.3.3.3)
	independent  bool
	playlistType string // omitted when ""
}

// writer renders a media playlist into a buffer.
type writer struct {
	b bytes.Buffer
	// mapURI is the EXT-X-MAP written last, so it is written again only
	// when it changes.
	mapURI string
}

// newWriter returns a writer sized for n segments, so rendering a playlist
// normally allocates once.
func newWriter(n int) *writer {
	w := &writer{}
	w.b.Grow(160 + n*120)
	return w
}

func (w *writer) header(h header) {
	w.b.WriteString("#EXTM3U\n")
	if h.version > 0 {
		w.tagInt("#EXT-X-VERSION:", uint64(h.version))
	}
	w.tagInt("#EXT-X-TARGETDURATION:", uint64(max(h.target, 0)))
	w.tagInt("#EXT-X-MEDIA-SEQUENCE:", h.mediaSeq)
	if h.discSeq > 0 {
		w.tagInt("#EXT-X-DISCONTINUITY-SEQUENCE:", h.discSeq)
	}
	if h.independent {
		w.b.WriteString("#EXT-X-INDEPENDENT-SEGMENTS\n")
	}
	if h.playlistType != "" {
		w.b.WriteString("#EXT-X-PLAYLIST-TYPE:")
		w.b.WriteString(h.playlistType)
		w.b.WriteByte('\n')
	}
}

func (w *writer) tagInt(tag string, v uint64) {
	w.b.WriteString(tag)
	w.b.Write(strconv.AppendUint(w.b.AvailableBuffer(), v, 10))
	w.b.WriteByte('\n')
}

// segment writes one segment. EXT-X-PROGRAM-DATE-TIME goes before EXTINF
// (ffmpeg writes it after; both attach it to the next URI, and
// before-EXTINF is the order the RFC's examples use). EXT-X-MAP is written
// before the first segment that has one and again where it changes, after
// the segment's EXT-X-DISCONTINUITY; mapURI must not hold '"' or a line
// break (URIs from ParseMediaPlaylist never do).
func (w *writer) segment(uri, mapURI, title string, dur float64, disc bool, pdt time.Time, f segFormat) {
	if disc {
		w.b.WriteString("#EXT-X-DISCONTINUITY\n")
	}
	if mapURI != "" && mapURI != w.mapURI {
		w.b.WriteString(`#EXT-X-MAP:URI="`)
		w.b.WriteString(mapURI)
		w.b.WriteString("\"\n")
		w.mapURI = mapURI
	}
	if !pdt.IsZero() {
		if f.utc {
			pdt = pdt.UTC()
		}
		w.b.WriteString("#EXT-X-PROGRAM-DATE-TIME:")
		w.b.Write(pdt.AppendFormat(w.b.AvailableBuffer(), f.pdtLayout))
		w.b.WriteByte('\n')
	}
	w.b.WriteString("#EXTINF:")
	w.b.Write(strconv.AppendFloat(w.b.AvailableBuffer(), dur, 'f', f.durPrec, 64))
	w.b.WriteByte(',')
	w.b.WriteString(title)
	w.b.WriteByte('\n')
	w.b.WriteString(uri)
	w.b.WriteByte('\n')
}

func (w *writer) endList() { w.b.WriteString("#EXT-X-ENDLIST\n") }

func (w *writer) bytes() []byte { return w.b.Bytes() }
