// Package hls reads the media playlists ffmpeg's hls muxer writes and
// renders the live and recording playlists lmx serves to players.
//
// It follows RFC 8216 where players depend on it: a live playlist keeps a
// fixed EXT-X-TARGETDURATION, lists at least three target durations of
// media, only ever slides forward (EXT-X-MEDIA-SEQUENCE and
// EXT-X-DISCONTINUITY-SEQUENCE never go back), and carries no
// EXT-X-PLAYLIST-TYPE. Recording playlists are EVENT while recording and
// VOD with EXT-X-ENDLIST once stopped. A recording of several renditions
// of an adaptive-bitrate source is served as a multivariant playlist
// naming each rendition's media playlist (RenderRecordingMultivariant);
// ParseMediaPlaylist still refuses multivariant playlists, which
// ParseRecordingMultivariant reads.
//
// MPEG-TS and fMP4 (CMAF) segments are modelled: EXT-X-MAP names the init
// segment of the fMP4 segments after it, and lmx renders it before the
// first of them and again, after an EXT-X-DISCONTINUITY, where it changes.
// Tags for encryption and byte ranges are not produced and are ignored when
// read (an init section given as a byte range is refused), because lmx
// never transcodes and its ingest is ffmpeg writing one file per segment.
package hls
