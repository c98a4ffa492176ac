package broker

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
	// HeaderDiscontinuity is "1" when the segment does not follow the previous one.
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
)

// IngestPath is the upload path of one segment.
func IngestPath(source string) string { return IngestPathPrefix + source }
