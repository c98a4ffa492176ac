package hls

import "errors"

// Sentinel errors of the adaptive-bitrate pieces: rendering multivariant
// playlists and probing MPEG-TS segments for what such a playlist needs.
// (They sit apart from errors.go only so that this work and the fMP4 work
// touch different files; they belong in the same family.) The errors
// actually returned wrap one of these and carry the detail.
var (
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
