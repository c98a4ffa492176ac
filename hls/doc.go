// Package hls reads the media playlists ffmpeg's hls muxer writes and
// renders the live and recording playlists lmx serves to players.
//
// It follows RFC 8216 where players depend on it: a live playlist keeps a
// fixed EXT-X-TARGETDURATION, lists at least three target durations of
// media, only ever slides forward (EXT-X-MEDIA-SEQUENCE and
// EXT-X-DISCONTINUITY-SEQUENCE never go back), and carries no
// EXT-X-PLAYLIST-TYPE. Recording playlists are EVENT while recording and
// VOD with EXT-X-ENDLIST once stopped.
//
// Only MPEG-TS segments are modelled: tags for encryption, byte ranges and
// fMP4 init sections are not produced and are ignored when read, because
// lmx never transcodes and its ingest is ffmpeg writing .ts files.
package hls
