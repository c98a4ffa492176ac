// Package api holds the control node's management API types (LiveMix
// compatible JSON) and a client for them. The CLI and the TUI use the client;
// the control node renders the same types. Standard library only.
package api

import "time"

// Envelope is the LiveMix reply wrapper every management answer carries.
type Envelope struct {
	// Success is true when the request did what it asked.
	Success bool `json:"success"`
	// RequestID identifies the request in the control node's log.
	RequestID string `json:"request_id"`
	// Error says what went wrong when Success is false.
	Error *Error `json:"error,omitempty"`
}

// Error is the error part of an Envelope.
type Error struct {
	// Code is the HTTP status code.
	Code int `json:"code"`
	// Message says what went wrong in plain words.
	Message string `json:"message"`
	// Detail adds what to do about it, when known.
	Detail string `json:"detail,omitempty"`
	// RequiredRole is, on a 403, the least role that may do what was
	// asked (RoleViewer, RoleOperator or RoleAdmin), so a client can say
	// which token it takes.
	RequiredRole string `json:"required_role,omitempty"`
}

// Streaming values, as LiveMix encodes them.
const (
	// StreamingOn marks a source whose edge forwards its segments.
	StreamingOn = 1
	// StreamingOff marks a source whose edge keeps its segments local.
	StreamingOff = -1
)

// Source is a video source (one ffmpeg push), LiveMix's shape plus lmx's fields.
type Source struct {
	// ID is the source's id (a UUID).
	ID string `json:"id"`
	// Name is the Video-Source-Name ffmpeg pushes.
	Name string `json:"name"`
	// SegmentLength is the expected segment length in seconds.
	SegmentLength int `json:"segment_length"`
	// Description is free text.
	Description string `json:"description"`
	// Streaming is StreamingOn or StreamingOff (LiveMix's encoding).
	Streaming int `json:"streaming"`
	// RRTarget names the edge that pushes the source (LiveMix's name for it).
	RRTarget string `json:"rr_target,omitempty"`
	// LocalTime is when the edge last reported on the source.
	LocalTime time.Time `json:"local_time"`
	// CreatedAt is when the source was created.
	CreatedAt time.Time `json:"created_at"`
	// UpdatedAt is when the source last changed.
	UpdatedAt time.Time `json:"updated_at"`

	// Edge names the edge that pushes the source (same as RRTarget).
	Edge string `json:"edge,omitempty"`
	// EdgeOnline is true while that edge is connected.
	EdgeOnline bool `json:"edge_online"`
	// EdgeStreaming is true once the edge reports it uploads the source.
	EdgeStreaming bool `json:"edge_streaming"`
	// LastSegmentAt is when the control node last received a live segment.
	LastSegmentAt time.Time `json:"last_segment_at,omitzero"`
	// BitrateBPS is the recent bitrate the edge reports.
	BitrateBPS int64 `json:"bitrate_bps"`
	// LiveSegments is how many segments the live playlist lists now.
	LiveSegments int `json:"live_segments"`
	// PlaylistRequestsPerMin counts live playlist requests in the last
	// minute: a measure of how many players watch.
	PlaylistRequestsPerMin int64 `json:"playlist_requests_per_min"`
	// Recording is true while any recording of the source is active.
	Recording bool `json:"recording"`
	// PlaybackURL is the live playlist URL, when the control node knows its
	// public address; with auth on it carries a grant for the caller, so it
	// plays as it is.
	PlaybackURL string `json:"playback_url,omitempty"`
	// Public is true when anyone may play the source without a grant.
	Public bool `json:"public"`

	// PullURL is what the bound edge's ffmpeg reads, with its password and
	// credential-like query values masked ("" for a pushed source).
	PullURL string `json:"pull_url,omitempty"`
	// Pull is the edge's report on its ffmpeg for a pulled source.
	Pull *PullState `json:"pull,omitempty"`
	// OnDemand is true when the edge uploads live segments only while
	// someone watches.
	OnDemand bool `json:"on_demand"`
	// IdleSeconds is how long an on-demand source keeps uploading after the
	// last playlist request (the node's default when the source sets none).
	IdleSeconds int `json:"idle_seconds,omitempty"`
	// Awake is true while an on-demand source uploads because someone watches.
	Awake bool `json:"awake,omitempty"`
	// Record is RecordOff or RecordAlways.
	Record string `json:"record"`
	// RecordChunkSeconds is the length of one continuous-recording chunk.
	RecordChunkSeconds int `json:"record_chunk_seconds,omitempty"`
	// RetainSeconds is how long the source's recordings are kept: 0 for
	// the node's --retain, RetainForever for good.
	RetainSeconds int64 `json:"retain_seconds"`

	// Feeds are the edges that feed a source with more than one, in the
	// operator's order, with which is active (absent for one feed).
	Feeds []Feed `json:"feeds,omitempty"`
	// Prefer is the feed the operator prefers ("" for none).
	Prefer string `json:"prefer,omitempty"`
	// Switches are the last changes of the active feed, newest last.
	Switches []FeedSwitch `json:"switches,omitempty"`

	// Renditions are the live renditions of a source pushed as adaptive
	// bitrate (absent for one pushed as one playlist).
	Renditions []Rendition `json:"renditions,omitempty"`
}

// Rendition is one rendition of an adaptive-bitrate source, as its
// multivariant playlist names it.
type Rendition struct {
	// Name is ffmpeg's %v: the path of its playlist under the source's.
	Name string `json:"name"`
	// BandwidthBPS is its peak bitrate, AverageBPS its mean.
	BandwidthBPS int64 `json:"bandwidth_bps"`
	// AverageBPS is the mean bitrate.
	AverageBPS int64 `json:"average_bps,omitempty"`
	// Resolution is WIDTHxHEIGHT, when known.
	Resolution string `json:"resolution,omitempty"`
	// Codecs is the RFC 6381 codec list, when known.
	Codecs string `json:"codecs,omitempty"`
	// LiveSegments is how many segments its playlist lists now.
	LiveSegments int `json:"live_segments"`
}

// Feed is one edge feeding a source.
type Feed struct {
	// Edge is the feeding edge.
	Edge string `json:"edge"`
	// Active is true for the feed whose segments are listed and recorded.
	Active bool `json:"active"`
	// Fenced is true for a former active feed: its uploads are held, not
	// listed, until a failover or --prefer chooses it again.
	Fenced bool `json:"fenced,omitempty"`
	// Healthy is true while it delivers (a segment within about two
	// segment lengths).
	Healthy bool `json:"healthy"`
	// EdgeOnline is true while the edge is connected.
	EdgeOnline bool `json:"edge_online"`
	// LastSegmentAt is when its newest upload arrived.
	LastSegmentAt time.Time `json:"last_segment_at,omitzero"`
	// Segments counts its uploads since the control node started.
	Segments uint64 `json:"segments"`
	// Held is how many of its segments are held for a failover now.
	Held int `json:"held"`
}

// FeedSwitch is one change of a source's active feed.
type FeedSwitch struct {
	// At is when it happened.
	At time.Time `json:"at"`
	// From and To are the feeds (From "" for the first).
	From string `json:"from,omitempty"`
	// To is the new active feed.
	To string `json:"to"`
	// Reason is first, missed, prefer or removed.
	Reason string `json:"reason"`
	// Detail says why in words.
	Detail string `json:"detail"`
	// LateByMS is, for a failover, how long after the missed segment was
	// due the new feed's first segment was listed.
	LateByMS int64 `json:"late_by_ms,omitempty"`
	// Listed is how many held segments of the new feed were listed at once.
	Listed int `json:"listed,omitempty"`
}

// IsStreaming reports whether streaming is on.
func (s Source) IsStreaming() bool { return s.Streaming == StreamingOn }

// NewSource is the body of POST /v1/source.
type NewSource struct {
	// Name is the Video-Source-Name ffmpeg will push.
	Name string `json:"name"`
	// Description is free text.
	Description string `json:"description,omitempty"`
	// SegmentLen is the expected segment length in seconds.
	SegmentLen int `json:"segment_len,omitempty"`
	// PullURL makes the edge pull the source itself with ffmpeg (rtsp://,
	// rtsps://, rtmp://, srt://, http(s):// HLS) instead of waiting for a push.
	PullURL string `json:"pull_url,omitempty"`
	// Edge binds the source to an edge now (required for PullURL when more
	// than one edge is online).
	Edge string `json:"edge,omitempty"`
	// OnDemand, IdleSeconds, Record, RecordChunkSeconds and RetainSeconds
	// are as in SourceUpdate.
	OnDemand bool `json:"on_demand,omitempty"`
	// IdleSeconds: see SourceUpdate.
	IdleSeconds int `json:"idle_seconds,omitempty"`
	// Record: see SourceUpdate.
	Record string `json:"record,omitempty"`
	// RecordChunkSeconds: see SourceUpdate.
	RecordChunkSeconds int `json:"record_chunk_seconds,omitempty"`
	// RetainSeconds: see SourceUpdate.
	RetainSeconds int64 `json:"retain_seconds,omitempty"`
	// Feeds, Prefer: see SourceUpdate. Feeds and Edge are not both given.
	Feeds []string `json:"feeds,omitempty"`
	// Prefer: see SourceUpdate.
	Prefer string `json:"prefer,omitempty"`
}

// Edge is an edge agent as the control node knows it.
type Edge struct {
	// Name is the edge's name.
	Name string `json:"name"`
	// Online is true while the edge is connected.
	Online bool `json:"online"`
	// Version is the edge's software version.
	Version string `json:"version,omitempty"`
	// IngestAddr is where the edge takes ffmpeg's pushes.
	IngestAddr string `json:"ingest_addr,omitempty"`
	// StartedAt is when the edge process started.
	StartedAt time.Time `json:"started_at,omitzero"`
	// FirstSeen is when the control node first heard of the edge.
	FirstSeen time.Time `json:"first_seen"`
	// LastSeen is when the edge last reported.
	LastSeen time.Time `json:"last_seen"`
	// Sources are the sources the edge reports.
	Sources []EdgeSource `json:"sources"`
	// Credential is the state of the edge's own credential: "" (auth off or
	// an edge seen but never added), "pending" (added, join token not used
	// yet), "joined" or "revoked".
	Credential string `json:"credential,omitempty"`
}

// Edge credential states (Edge.Credential).
const (
	// CredentialPending: added with lmx edge add, join token not used yet.
	CredentialPending = "pending"
	// CredentialJoined: the edge exchanged its join token for its credential.
	CredentialJoined = "joined"
	// CredentialRevoked: the edge is cut off until restored or added again.
	CredentialRevoked = "revoked"
)

// EdgeSource is a source as its edge reports it.
type EdgeSource struct {
	// Name is the source's name.
	Name string `json:"name"`
	// Streaming is true while the edge uploads it.
	Streaming bool `json:"streaming"`
	// LastSegmentAt is when the newest segment reached the edge.
	LastSegmentAt time.Time `json:"last_segment_at,omitzero"`
	// BitrateBPS is the recent bitrate.
	BitrateBPS int64 `json:"bitrate_bps"`
	// BufferedSeconds is how much media the edge's ring buffer holds.
	BufferedSeconds float64 `json:"buffered_seconds"`
	// BufferedBytes is how many bytes the ring buffer holds.
	BufferedBytes int64 `json:"buffered_bytes"`
	// Uploaded counts segments uploaded since the edge started.
	Uploaded uint64 `json:"uploaded"`
	// Dropped counts segments the edge could not read or upload.
	Dropped uint64 `json:"dropped"`
	// Pull is the edge's ffmpeg for a pulled source.
	Pull *PullState `json:"pull,omitempty"`
}

// Recording is a recorded snippet of a source (LiveMix's shape plus lmx's fields).
type Recording struct {
	// ID is the recording's id.
	ID string `json:"id"`
	// Source is the recorded source's id.
	Source string `json:"source"`
	// SourceName is the recorded source's name.
	SourceName string `json:"source_name,omitempty"`
	// Alias is an optional operator-given name.
	Alias string `json:"alias,omitempty"`
	// Description is free text.
	Description string `json:"description,omitempty"`
	// StartTS is the recording's start time.
	StartTS time.Time `json:"start_ts"`
	// EndTS is the recording's end time (zero while active).
	EndTS time.Time `json:"end_ts"`
	// Active is 1 while recording, -1 once stopped (LiveMix's encoding).
	Active int `json:"active"`
	// CreatedAt is when the recording was created.
	CreatedAt time.Time `json:"created_at"`
	// UpdatedAt is when it last changed.
	UpdatedAt time.Time `json:"updated_at"`
	// Segments is how many segments it holds.
	Segments int `json:"segments"`
	// DurationSeconds is how much media it holds.
	DurationSeconds float64 `json:"duration_seconds"`
	// Bytes is how many bytes it holds.
	Bytes int64 `json:"bytes"`
	// PlaybackURL is the recording's playlist URL, when known.
	PlaybackURL string `json:"playback_url,omitempty"`
	// FirstSegmentAt is the start of its first segment (zero if none yet).
	FirstSegmentAt time.Time `json:"first_segment_at,omitzero"`
	// LastSegmentEnd is the end of its last segment (zero if none yet).
	LastSegmentEnd time.Time `json:"last_segment_end,omitzero"`
	// Pinned recordings are never deleted by retention.
	Pinned bool `json:"pinned,omitempty"`
	// Continuous marks a chunk of continuous recording (record always).
	Continuous bool `json:"continuous,omitempty"`
	// ExpiresAt is when retention deletes the recording (zero: never, or
	// not yet known while it is active).
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// Gaps are the stretches with no media between its first and last
	// segment (source offline, edge restarted); only GET /v1/recording/{id}
	// fills them. A recording of several renditions lists each
	// rendition's, rendition by rendition.
	Gaps []Gap `json:"gaps,omitempty"`
	// Renditions name the adaptive-bitrate renditions it holds, in the
	// order its multivariant playlist lists them; none for a source pushed
	// as one media playlist. With two or more it plays as a multivariant
	// playlist, and DurationSeconds is the first rendition's media.
	Renditions []string `json:"renditions,omitempty"`
}

// Gap is a stretch of a recording with no media.
type Gap struct {
	// From is where the media stops.
	From time.Time `json:"from"`
	// To is where it starts again.
	To time.Time `json:"to"`
	// Seconds is the gap's length.
	Seconds float64 `json:"seconds"`
	// Rendition is the rendition it is a gap of, in a recording of
	// several ("" otherwise).
	Rendition string `json:"rendition,omitempty"`
}

// IsActive reports whether the recording is still recording.
func (r Recording) IsActive() bool { return r.Active == ActiveOn }

// Active values, as LiveMix encodes them.
const (
	// ActiveOn marks a recording in progress.
	ActiveOn = 1
	// ActiveOff marks a stopped recording.
	ActiveOff = -1
)

// NewRecording is the body of POST /v1/source/{id}/recording.
type NewRecording struct {
	// Alias is an optional name.
	Alias string `json:"alias,omitempty"`
	// Description is free text.
	Description string `json:"description,omitempty"`
	// StartTimeEpoch is the start in unix seconds; 0 means now.
	StartTimeEpoch int64 `json:"start_time_epoch,omitempty"`
}
