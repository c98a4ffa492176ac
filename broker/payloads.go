package broker

import (
	"encoding/json"
	"fmt"
	"time"
)

// Version is the payload version this build writes and reads.
const Version = 1

// EdgeStatus is an edge's retained presence and health, published on
// EdgeStatusTopic when it connects, when something changes and as a heartbeat.
// Its Last Will is the same payload with Online false.
type EdgeStatus struct {
	// V is the payload version.
	V int `json:"v"`
	// Edge is the edge's name.
	Edge string `json:"edge"`
	// Online is false only in the Last Will and in a clean shutdown's last word.
	Online bool `json:"online"`
	// Version is the edge software version.
	Version string `json:"version,omitempty"`
	// StartedAt is when the edge process started.
	StartedAt time.Time `json:"started_at"`
	// Time is when this status was written.
	Time time.Time `json:"time"`
	// IngestAddr is where the edge takes ffmpeg's playlists (host:port).
	IngestAddr string `json:"ingest_addr,omitempty"`
	// HeartbeatEvery is how often the edge republishes its status.
	HeartbeatEvery Duration `json:"heartbeat_every,omitempty"`
	// Sources are the sources this edge has seen.
	Sources []SourceStatus `json:"sources"`
}

// SourceStatus is one source as its edge sees it.
type SourceStatus struct {
	// Name is the Video-Source-Name ffmpeg pushes.
	Name string `json:"name"`
	// Streaming is true once the edge uploads this source's segments to the control node.
	Streaming bool `json:"streaming"`
	// LastSegmentAt is when the newest segment arrived at the edge (zero if none).
	LastSegmentAt time.Time `json:"last_segment_at,omitzero"`
	// BitrateBPS is the recent media bitrate in bits per second.
	BitrateBPS int64 `json:"bitrate_bps"`
	// BufferedSegments is how many segments the ring buffer holds.
	BufferedSegments int `json:"buffered_segments"`
	// BufferedBytes is how many bytes the ring buffer holds.
	BufferedBytes int64 `json:"buffered_bytes"`
	// BufferedSeconds is how much media the ring buffer holds.
	BufferedSeconds float64 `json:"buffered_seconds"`
	// Uploaded is the count of segments uploaded since the edge started.
	Uploaded uint64 `json:"uploaded"`
	// Dropped is the count of segments the edge could not read or upload.
	Dropped uint64 `json:"dropped"`
	// PendingRecord is how many buffered segments recordings still wait for.
	PendingRecord int `json:"pending_record"`
	// Pull is the ffmpeg the edge runs for a pulled source (nil otherwise).
	Pull *PullStatus `json:"pull,omitempty"`
}

// PullStatus is the state of the ffmpeg an edge runs to pull a source. It
// never holds the camera's credentials: LastError is masked.
type PullStatus struct {
	// State is "starting", "running", "backoff", "refused" or "stopped".
	State string `json:"state"`
	// Since is when State began.
	Since time.Time `json:"since,omitzero"`
	// Restarts counts ffmpeg restarts since the edge took the URL.
	Restarts int `json:"restarts"`
	// LastError is the last error line ffmpeg wrote, credentials masked.
	LastError string `json:"last_error,omitempty"`
	// Video and Audio are the codecs the camera sends.
	Video string `json:"video,omitempty"`
	// Audio is the camera's audio codec; "" when none or dropped.
	Audio string `json:"audio,omitempty"`
	// Warnings say what the edge changed or could not fix.
	Warnings []string `json:"warnings,omitempty"`
}

// Desired is what the control node wants an edge to do, published retained on
// EdgeDesiredTopic. The edge converges on the newest one it has seen whenever
// it changes and whenever it reconnects.
type Desired struct {
	// V is the payload version.
	V int `json:"v"`
	// Edge is the edge this state is for.
	Edge string `json:"edge"`
	// Generation rises with every change, so an edge can ignore stale copies.
	Generation int64 `json:"generation"`
	// Sources maps source names to what the edge should do with them.
	Sources map[string]DesiredSource `json:"sources"`
}

// DesiredSource is the desired state of one source.
type DesiredSource struct {
	// Stream asks the edge to upload the source's new segments. For an
	// on-demand source it is true only while someone watches.
	Stream bool `json:"stream"`
	// Backfill asks the edge, when it starts to stream, to upload first the
	// buffered segments of the last Backfill, so a player woken into an
	// on-demand source gets a playable window at once.
	Backfill Duration `json:"backfill,omitempty"`
	// PullURL asks the edge to run ffmpeg reading this URL into its own
	// ingest ("" for a pushed source). Only this edge's desired state
	// carries it: it may hold the camera's credentials.
	PullURL string `json:"pull_url,omitempty"`
	// SegmentLen is the segment length in seconds a pull cuts (0: the
	// edge's default).
	SegmentLen int `json:"segment_len,omitempty"`
	// Recordings are the active recordings of this source.
	Recordings []DesiredRecording `json:"recordings,omitempty"`
}

// DesiredRecording is an active recording the edge must feed.
type DesiredRecording struct {
	// ID is the recording's id.
	ID string `json:"id"`
	// Since is the recording's start time; buffered segments newer than it are sent too.
	Since time.Time `json:"since"`
	// Until is the recording's end once stopped (zero while active): the edge
	// still sends the segments before it that the control node has not
	// acknowledged yet.
	Until time.Time `json:"until,omitzero"`
}

// Event kinds published on EventsTopic.
const (
	EventEdgeOnline         = "edge.online"
	EventEdgeOffline        = "edge.offline"
	EventSourceAdded        = "source.added"
	EventSourceRemoved      = "source.removed"
	EventStreamingChanged   = "source.streaming"
	EventRecordingStarted   = "recording.started"
	EventRecordingStopped   = "recording.stopped"
	EventSegmentDropped     = "segment.dropped"
	EventSegmentIngested    = "segment.ingested"
	EventRecordingRemoved   = "recording.removed"
	EventSourceEdgeAssigned = "source.edge"
	EventSourceChanged      = "source.changed"
	EventTokenCreated       = "token.created"
	EventTokenRevoked       = "token.revoked"
	EventEdgeAdded          = "edge.added"
	EventEdgeRevoked        = "edge.revoked"
	EventEdgeRestored       = "edge.restored"
	EventPullChanged        = "source.pull"
	EventSourceWoken        = "source.woken"
	EventSourceIdle         = "source.idle"
	EventRecordingPinned    = "recording.pinned"
	EventRecordingExpired   = "recording.expired"
	EventRetentionWarning   = "retention.warning"
	EventFeedSwitched       = "source.failover"
)

// Event is one thing that happened, published on EventsTopic.
type Event struct {
	// V is the payload version.
	V int `json:"v"`
	// Time is when it happened.
	Time time.Time `json:"time"`
	// Kind is one of the Event* constants.
	Kind string `json:"kind"`
	// Edge names the edge involved, if any.
	Edge string `json:"edge,omitempty"`
	// Source names the source involved, if any.
	Source string `json:"source,omitempty"`
	// Recording is the recording id involved, if any.
	Recording string `json:"recording,omitempty"`
	// Detail says more in plain words.
	Detail string `json:"detail,omitempty"`
	// Actor names the API token whose request made it happen (never its
	// secret); empty for what the system did by itself.
	Actor string `json:"actor,omitempty"`
}

// Command is a request sent on EdgeCmdTopic with an MQTT 5 Response Topic and
// Correlation Data; the edge answers with a CommandReply.
type Command struct {
	// V is the payload version.
	V int `json:"v"`
	// Op is the operation: "ping" or "flush".
	Op string `json:"op"`
	// Source narrows the operation to one source, if set.
	Source string `json:"source,omitempty"`
}

// CommandReply answers a Command.
type CommandReply struct {
	// V is the payload version.
	V int `json:"v"`
	// OK is true when the command succeeded.
	OK bool `json:"ok"`
	// Error says why it did not.
	Error string `json:"error,omitempty"`
	// Status is the edge's status at the time of the reply.
	Status *EdgeStatus `json:"status,omitempty"`
}

// Encode marshals a payload, setting nothing: callers fill V.
func Encode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Payloads are plain structs; a marshal error is a programming error.
		panic(fmt.Sprintf("broker: encode %T: %v", v, err))
	}
	return b
}

// Decode unmarshals a payload and checks its version.
func Decode(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode %T: %w", v, err)
	}
	var ver int
	switch p := v.(type) {
	case *EdgeStatus:
		ver = p.V
	case *Desired:
		ver = p.V
	case *Event:
		ver = p.V
	case *Command:
		ver = p.V
	case *CommandReply:
		ver = p.V
	default:
		return nil
	}
	if ver != Version {
		return fmt.Errorf("%w: %d (this build speaks %d)", ErrBadVersion, ver, Version)
	}
	return nil
}

// Duration is a time.Duration that reads and writes as a Go duration string.
type Duration time.Duration

// MarshalJSON writes the duration as "1.5s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "1.5s" or a number of nanoseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		*d = Duration(v)
		return nil
	}
	var n int64
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("duration must be a string like \"5s\": %w", err)
	}
	*d = Duration(n)
	return nil
}
