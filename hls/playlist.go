package hls

import "time"

// MediaPlaylist is a parsed media playlist (RFC 8216 section 4.3.3).
type MediaPlaylist struct {
	// Version is EXT-X-VERSION, 0 when absent.
	Version int
	// TargetDuration is EXT-X-TARGETDURATION in seconds.
	TargetDuration int
	// MediaSequence is EXT-X-MEDIA-SEQUENCE, the sequence number of the
	// first listed segment (0 when absent, as the RFC says).
	MediaSequence uint64
	// DiscontinuitySequence is EXT-X-DISCONTINUITY-SEQUENCE (0 when absent).
	DiscontinuitySequence uint64
	// IndependentSegments is true when EXT-X-INDEPENDENT-SEGMENTS is present.
	IndependentSegments bool
	// PlaylistType is EXT-X-PLAYLIST-TYPE: "", "EVENT" or "VOD".
	PlaylistType string
	// EndList is true when EXT-X-ENDLIST is present.
	EndList bool
	// Segments are the listed media segments, oldest first.
	Segments []Segment
}

// Segment is one media segment of a MediaPlaylist.
type Segment struct {
	// URI is the segment's URI line as written, surrounding blanks removed.
	URI string
	// Duration is the EXTINF duration in seconds.
	Duration float64
	// Title is the optional text after the comma of EXTINF.
	Title string
	// Discontinuity is true when EXT-X-DISCONTINUITY precedes the segment.
	Discontinuity bool
	// ProgramDateTime is EXT-X-PROGRAM-DATE-TIME, zero when absent. It keeps
	// the UTC offset it was written with; compare with time.Time.Equal.
	ProgramDateTime time.Time
	// Map is the URI of the EXT-X-MAP in effect for the segment (its fMP4
	// init segment), "" for a segment that needs none (MPEG-TS).
	Map string
	// Line is the 1-based line number of the URI line, so that callers
	// rejecting a segment (say, with ValidateSegmentURI) can point at it.
	Line int
}

// Playlist types allowed in EXT-X-PLAYLIST-TYPE.
const (
	// PlaylistTypeEvent marks a playlist that only grows (an active
	// recording).
	PlaylistTypeEvent = "EVENT"
	// PlaylistTypeVOD marks a playlist that never changes (a finished
	// recording).
	PlaylistTypeVOD = "VOD"
)

// encode renders p exactly enough that ParseMediaPlaylist gives p back
// (except Segment.Line): durations in their shortest exact decimal form and
// times with full precision and their own offset. It exists for round-trip
// tests; served playlists use the fixed formats of LiveWindow and
// RenderRecording instead.
func (p *MediaPlaylist) encode() []byte {
	w := newWriter(len(p.Segments))
	w.header(header{
		version:      p.Version,
		target:       p.TargetDuration,
		mediaSeq:     p.MediaSequence,
		discSeq:      p.DiscontinuitySequence,
		independent:  p.IndependentSegments,
		playlistType: p.PlaylistType,
	})
	for _, s := range p.Segments {
		w.segment(s.URI, s.Map, s.Title, s.Duration, s.Discontinuity, s.ProgramDateTime, exactFormat)
	}
	if p.EndList {
		w.endList()
	}
	return w.bytes()
}
