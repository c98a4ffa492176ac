package hls

import (
	"bytes"
	"strconv"
	"time"
)

// renderVersion is the EXT-X-VERSION lmx serves: 3 is the lowest version
// allowing decimal EXTINF durations, and nothing else we emit needs more,
// so the oldest players still accept our playlists.
const renderVersion = 3

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
type writer struct{ b bytes.Buffer }

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
// before-EXTINF is the order the RFC's examples use).
func (w *writer) segment(uri, title string, dur float64, disc bool, pdt time.Time, f segFormat) {
	if disc {
		w.b.WriteString("#EXT-X-DISCONTINUITY\n")
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
