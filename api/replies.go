package api

import (
	"net/url"
	"strings"
)

// Management API paths, as net/http ServeMux patterns ({id} is a source or
// recording id, or a source name). The control node's routes and the client
// are built from these, so the two never disagree.
const (
	// PathSources lists (GET) and creates (POST) sources.
	PathSources = "/v1/source"
	// PathSource reads (GET) and deletes (DELETE) one source.
	PathSource = "/v1/source/{id}"
	// PathSourceStreaming turns a source's streaming on or off (PUT ?new_state=).
	PathSourceStreaming = "/v1/source/{id}/streaming"
	// PathSourceRecordings lists (GET) and starts (POST) a source's recordings.
	PathSourceRecordings = "/v1/source/{id}/recording"
	// PathRecordings lists every recording (GET ?active=).
	PathRecordings = "/v1/recording"
	// PathRecording reads (GET) and deletes (DELETE ?force=) one recording.
	PathRecording = "/v1/recording/{id}"
	// PathRecordingStop stops a recording (POST).
	PathRecordingStop = "/v1/recording/{id}/stop"
	// PathRecordingPin pins a recording: retention never deletes it.
	PathRecordingPin = "/v1/recording/{id}/pin"
	// PathRecordingUnpin unpins a recording.
	PathRecordingUnpin = "/v1/recording/{id}/unpin"
	// PathEdges lists the edges (GET).
	PathEdges = "/v1/edge"
	// PathEvents is the server-sent event stream (GET).
	PathEvents = "/v1/events"
	// PathHealth answers while the process serves.
	PathHealth = "/healthz"
	// PathReady answers once the control node serves and its store answers.
	PathReady = "/readyz"
	// PathMetrics is the Prometheus exposition.
	PathMetrics = "/metrics"
)

// Playback paths (contract), on the playback listener.
const (
	// PathLivePrefix starts every live playback path.
	PathLivePrefix = "/v1/vod/live/"
	// PathRecordingPrefix starts every recording playback path.
	PathRecordingPrefix = "/v1/vod/recording/"
	// PlaylistName is the playlist's file name under a source or recording.
	PlaylistName = "vid.m3u8"
)

// Expand fills pattern's {id} with id, path-escaped.
func Expand(pattern, id string) string {
	return strings.Replace(pattern, "{id}", url.PathEscape(id), 1)
}

// LivePlaylistPath is the live playlist of a source (id or name).
func LivePlaylistPath(source string) string {
	return PathLivePrefix + url.PathEscape(source) + "/" + PlaylistName
}

// RecordingPlaylistPath is the playlist of a recording.
func RecordingPlaylistPath(id string) string {
	return PathRecordingPrefix + url.PathEscape(id) + "/" + PlaylistName
}

// The answers of the management API: the Envelope plus one payload key each.
// The control node writes these and the client reads them.

// SourceReply answers a request about one source.
type SourceReply struct {
	Envelope
	// Source is the source.
	Source Source `json:"source"`
}

// SourcesReply answers a source listing.
type SourcesReply struct {
	Envelope
	// Sources are the sources, by name.
	Sources []Source `json:"sources"`
}

// EdgesReply answers an edge listing.
type EdgesReply struct {
	Envelope
	// Edges are the edges the control node knows.
	Edges []Edge `json:"edges"`
}

// RecordingReply answers a request about one recording.
type RecordingReply struct {
	Envelope
	// Recording is the recording.
	Recording Recording `json:"recording"`
}

// RecordingsReply answers a recording listing.
type RecordingsReply struct {
	Envelope
	// Recordings are the recordings, newest first.
	Recordings []Recording `json:"recordings"`
}

// DeletedReply answers a deletion.
type DeletedReply struct {
	Envelope
	// DeletedObjects is how many stored objects went with a deleted
	// recording (those no other recording links to).
	DeletedObjects int `json:"deleted_objects"`
}

// StatusReply answers /readyz.
type StatusReply struct {
	Envelope
	// Status is "ready".
	Status string `json:"status"`
}
