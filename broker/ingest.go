package broker

import (
	"crypto/sha256"
	"encoding/hex"
)

// Data-plane contract: how an edge uploads a segment to the control node.
// The edge sends PUT IngestPath(source, seq) on the control node's playback
// listener with the segment bytes as the body (real Content-Length) and these
// headers. Media never travels over MQTT.
const (
	// IngestPathPrefix is the path prefix of segment uploads.
	IngestPathPrefix = "/v1/ingest/"
	// HeaderEdge names the uploading edge.
	HeaderEdge = "Lmx-Edge"
	// HeaderSeq is the edge's sequence number of the segment (per source, rising by one).
	HeaderSeq = "Lmx-Segment-Seq"
	// HeaderDuration is the segment duration in seconds (decimal).
	HeaderDuration = "Lmx-Segment-Duration"
	// HeaderStart is the wall-clock start of the segment, RFC 3339 with fraction.
	HeaderStart = "Lmx-Segment-Start"
	// HeaderDiscontinuity is "1" when the segment's media does not follow the
	// edge's previous segment of the source (ffmpeg restarted, a segment
	// file was skipped, EXT-X-DISCONTINUITY in the pushed playlist): a break
	// for the live window and for recordings alike. A live upload that skips
	// ahead does not set it; the control node sees that jump in HeaderSeq.
	HeaderDiscontinuity = "Lmx-Discontinuity"
	// HeaderSegmentName is the file name ffmpeg gave the segment (informational).
	HeaderSegmentName = "Lmx-Segment-Name"
	// HeaderPurpose is "live", "record" or "live,record".
	HeaderPurpose = "Lmx-Purpose"
	// HeaderRecordings lists the recording ids this segment belongs to (comma separated).
	HeaderRecordings = "Lmx-Recordings"
	// HeaderBoot identifies one run of the edge process, so sequence numbers
	// from a restarted edge are not mistaken for repeats.
	HeaderBoot = "Lmx-Edge-Boot"
	// HeaderInit names the fMP4 init segment a media segment follows, on a
	// segment upload, and the init segment being uploaded, on an init
	// upload: InitID of its bytes. A segment upload without it is MPEG-TS.
	HeaderInit = "Lmx-Init"
	// HeaderInitName is the file name ffmpeg gave the init segment
	// (informational).
	HeaderInitName = "Lmx-Init-Name"
	// HeaderRendition names the rendition of an adaptive-bitrate source a
	// segment is of (ffmpeg's %v: "0", "1", or a var_stream_map name);
	// absent or "" for a source pushed as one media playlist, as LiveMix
	// knows them. See ValidRendition.
	HeaderRendition = "Lmx-Rendition"
	// HeaderRenditionSeq is the segment's number within its rendition in
	// the edge's run (rising by one), with HeaderRendition: HeaderSeq stays
	// the edge's number of the segment among all the source's renditions.
	HeaderRenditionSeq = "Lmx-Rendition-Seq"
	// HeaderVariant is what ffmpeg's multivariant playlist says of the
	// segment's rendition, as its EXT-X-STREAM-INF attribute list
	// (BANDWIDTH=800000,RESOLUTION=640x360,CODECS="avc1.64001e"), when the
	// edge received one with attributes.
	HeaderVariant = "Lmx-Variant"
)

// MaxRenditions bounds the renditions of one source.
const MaxRenditions = 8

// ValidRendition reports whether name may name a rendition: 1 to 32
// letters, digits, '_' or '-', so it is a path segment as it is.
func ValidRendition(name string) bool {
	if name == "" || len(name) > 32 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// fMP4 (CMAF) segments need their init segment, which the edge uploads
// once per change, before the first segment that follows it: PUT
// InitPath(source) with the init segment's bytes (real Content-Length) and
// HeaderInit, HeaderInitName, HeaderEdge, HeaderBoot and the edge's
// credential. Each later segment upload names it in HeaderInit; the
// control node answers a segment whose init segment it does not hold with
// StatusInitMissing, and the edge uploads the init segment again and then
// the segment.
const (
	// InitPathSuffix follows IngestPath(source) for init uploads.
	InitPathSuffix = "/init"
	// MaxInitBytes bounds an init segment (ffmpeg's are about a kilobyte:
	// ftyp and moov with one sample description per track).
	MaxInitBytes = 1 << 20
	// InitIDLen is the length of an InitID.
	InitIDLen = 32
	// StatusInitMissing (424 Failed Dependency) answers a segment upload
	// whose init segment the control node does not hold.
	StatusInitMissing = 424
)

// InitPath is the upload path of a source's init segment.
func InitPath(source string) string { return IngestPathPrefix + source + InitPathSuffix }

// InitID names an init segment by its bytes: the first 16 bytes of their
// SHA-256, in lower-case hex. The same init segment sent again (an ffmpeg
// restarted with the same parameters) has the same id and is stored once;
// the control node checks the id against the bytes it receives.
func InitID(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:InitIDLen/2])
}

// ValidInitID reports whether id has the form InitID gives.
func ValidInitID(id string) bool {
	if len(id) != InitIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// IngestPath is the upload path of one segment.
func IngestPath(source string) string { return IngestPathPrefix + source }

// IngestReply is the control node's answer to a segment upload. An id in
// Acked means the segment is stored durably for that recording (the edge may
// let it go); an id in Rejected means the recording does not want it (unknown,
// stopped before it, another source): the edge stops offering it too.
type IngestReply struct {
	// Live is true when the segment went into the live window.
	Live bool `json:"live"`
	// Acked lists the recordings the segment is now durably part of.
	Acked []string `json:"acked,omitempty"`
	// Rejected lists the recordings that will never take the segment.
	Rejected []string `json:"rejected,omitempty"`
	// Standby is true when the uploading edge is a standby feed of the
	// source: the segment is held for a failover, not listed or recorded
	// now, and Acked lists the recordings the active feed's copy serves
	// (the edge may forget it).
	Standby bool `json:"standby,omitempty"`
}

// Joining: an edge started with --join exchanges its single-use join
// token for its long-lived credential, once, on the playback listener.
const (
	// JoinPath is where an edge sends POST with "Authorization: Bearer
	// JOIN-SECRET" (the secret inside its join token).
	JoinPath = "/v1/edge/join"
)

// JoinReply answers a join: the edge's credential, which it keeps 0600 in
// its state dir and presents from then on as its MQTT password and as
// "Authorization: Bearer CREDENTIAL" on uploads.
type JoinReply struct {
	// Edge is the name the credential belongs to.
	Edge string `json:"edge"`
	// Credential is the edge's secret.
	Credential string `json:"credential"`
}
