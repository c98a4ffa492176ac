package hls

import (
	"errors"
	"fmt"
)

// Sentinel errors. Callers test for them with errors.Is; the errors
// actually returned carry the detail (line number, offending text, rule).
var (
	// ErrSyntax is wrapped by every error ParseMediaPlaylist returns for a
	// malformed playlist. The concrete error is a *SyntaxError.
	ErrSyntax = errors.New("hls: playlist syntax error")

	// ErrTooLarge is wrapped when a playlist body exceeds the byte limit
	// given to ParseMediaPlaylist.
	ErrTooLarge = errors.New("hls: playlist too large")

	// ErrBadSegmentURI is wrapped by ValidateSegmentURI when a segment URI
	// is not a plain relative file name.
	ErrBadSegmentURI = errors.New("hls: bad segment URI")

	// ErrLiveRule is wrapped by CheckLive and CheckLiveTransition when a
	// live playlist breaks an RFC 8216 rule.
	ErrLiveRule = errors.New("hls: live playlist rule broken")

	// ErrShortWindow is wrapped, together with ErrLiveRule, when a live
	// playlist lists less than three target durations of media. A stream
	// that has just started legitimately produces such playlists, so
	// callers polling from the start may want to tolerate this one.
	ErrShortWindow = errors.New("hls: live window shorter than three target durations")

	// ErrUnsupported is wrapped by ParseMediaPlaylist for a well-formed
	// playlist of a form lmx does not carry end to end yet: a multivariant
	// playlist, or an fMP4 init section given as a byte range. The
	// concrete error is an *UnsupportedError.
	ErrUnsupported = errors.New("hls: playlist form not carried")

	// Adaptive bitrate: rendering multivariant playlists and probing
	// MPEG-TS segments for what such a playlist needs.

	// ErrBadVariant is wrapped by RenderMultivariant and
	// RenderMultivariantPlaylist when a variant or rendition cannot be
	// written as a valid playlist: no BANDWIDTH, an empty or unsafe URI, a
	// value a quoted-string cannot hold, a group nobody defines.
	ErrBadVariant = errors.New("hls: variant cannot be rendered")

	// ErrNotTS is wrapped by ProbeTS when the bytes are not MPEG-TS: too
	// short for a packet, or a packet without the 0x47 sync byte.
	ErrNotTS = errors.New("hls: not an MPEG-TS segment")

	// ErrNoProgram is wrapped when the segment has no usable PAT or PMT
	// (missing, truncated, or failing its CRC).
	ErrNoProgram = errors.New("hls: no program table in segment")

	// ErrNoMedia is wrapped when the program lists neither a video nor an
	// audio stream. (A segment with audio only, as ffmpeg writes for an
	// audio rendition of an -var_stream_map agroup, probes fine: its
	// StreamInfo has no video codec.)
	ErrNoMedia = errors.New("hls: no video or audio stream in segment")

	// ErrUnsupportedCodec is wrapped when the program's video or audio is
	// a codec lmx does not describe in a multivariant playlist (HEVC in
	// MPEG-TS, MPEG-2 video, Opus, AAC in LATM, …). The message names it.
	ErrUnsupportedCodec = errors.New("hls: codec not carried")

	// ErrNoSPS is wrapped when the video stream carries no H.264 sequence
	// parameter set in the segment (a truncated segment, or one that does
	// not start with a key frame).
	ErrNoSPS = errors.New("hls: no H.264 sequence parameter set in segment")

	// ErrBadSPS is wrapped when the sequence parameter set is malformed
	// or describes an impossible picture.
	ErrBadSPS = errors.New("hls: malformed H.264 sequence parameter set")

	// ErrNoAudioFrame is wrapped when the program lists an AAC or MPEG
	// audio stream but the segment holds no frame header to tell its
	// profile or layer from.
	ErrNoAudioFrame = errors.New("hls: no audio frame header in segment")

	// ErrBadPES is wrapped when a PES packet header of the video or audio
	// stream is malformed.
	ErrBadPES = errors.New("hls: malformed PES packet")
)

// UnsupportedError names the line and the form lmx does not carry, and
// what to push instead. It matches ErrUnsupported under errors.Is.
type UnsupportedError struct {
	// Line is the 1-based line number of the tag that shows the form.
	Line int
	// Msg says what the form is and what to push instead.
	Msg string
}

// Error implements error.
func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
}

// Unwrap lets errors.Is(err, ErrUnsupported) succeed.
func (e *UnsupportedError) Unwrap() error { return ErrUnsupported }

// SyntaxError describes a malformed playlist line. It matches ErrSyntax
// under errors.Is.
type SyntaxError struct {
	// Line is the 1-based line number of the offending line.
	Line int
	// Msg says what is wrong and quotes the offending text.
	Msg string
}

// Error implements error.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%v: line %d: %s", ErrSyntax, e.Line, e.Msg)
}

// Unwrap lets errors.Is(err, ErrSyntax) succeed.
func (e *SyntaxError) Unwrap() error { return ErrSyntax }

// maxQuoted bounds how much offending text an error message quotes, so a
// hostile megabyte-long line cannot flood the logs.
const maxQuoted = 80

// quote returns s in Go quoted form, shortened to maxQuoted bytes.
func quote(s string) string {
	if len(s) > maxQuoted {
		// Cut on a rune boundary so the quoted text stays valid UTF-8.
		cut := maxQuoted
		for cut > 0 && s[cut]&0xC0 == 0x80 {
			cut--
		}
		return fmt.Sprintf("%q…", s[:cut])
	}
	return fmt.Sprintf("%q", s)
}
