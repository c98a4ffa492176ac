package api

import "time"

// Source.Record values.
const (
	// RecordOff records only what an operator starts.
	RecordOff = "off"
	// RecordAlways records continuously, one recording per chunk.
	RecordAlways = "always"
)

// RetainForever as RetainSeconds keeps recordings for good.
const RetainForever int64 = -1

// Pull process states (PullState.State).
const (
	// PullStarting: ffmpeg was started and has not delivered a segment yet.
	PullStarting = "starting"
	// PullRunning: ffmpeg delivers segments.
	PullRunning = "running"
	// PullBackoff: ffmpeg exited or stalled and waits to be started again.
	PullBackoff = "backoff"
	// PullRefused: what the camera sends cannot be carried (see Error).
	PullRefused = "refused"
	// PullStopped: the edge does not pull (no URL, or the edge stops).
	PullStopped = "stopped"
)

// PullState is what an edge reports of the ffmpeg it runs for a pulled source.
type PullState struct {
	// State is one of the Pull* constants.
	State string `json:"state"`
	// Since is when State began.
	Since time.Time `json:"since,omitzero"`
	// Restarts counts ffmpeg restarts since the edge took the URL.
	Restarts int `json:"restarts"`
	// LastError is the last error line ffmpeg wrote, credentials masked.
	LastError string `json:"last_error,omitempty"`
	// Video and Audio are the codecs the camera sends ("h264", "aac").
	Video string `json:"video,omitempty"`
	// Audio: see Video; "" when there is none or it is dropped.
	Audio string `json:"audio,omitempty"`
	// Warnings say what the edge changed or could not fix (audio dropped,
	// GOP longer than the segment length).
	Warnings []string `json:"warnings,omitempty"`
}
