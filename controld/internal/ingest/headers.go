package ingest

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/controld/internal/live"
)

// Meta is what an upload's headers say about its segment.
type Meta struct {
	// Edge, Boot and Seq name the segment in its edge's run.
	Edge, Boot string
	Seq        uint64
	// Duration is its length in seconds, Start its wall-clock start (zero
	// when the edge did not say).
	Duration float64
	Start    time.Time
	// Discontinuity is the edge's flag that the media does not follow the
	// previous segment.
	Discontinuity bool
	// Live is true when the edge sends it for the live window.
	Live bool
	// Recordings are the recording ids it is sent for.
	Recordings []string
	// Init is the id of the fMP4 init segment it follows, "" for MPEG-TS.
	Init string
	// Rendition, RenditionSeq and Variant say which adaptive-bitrate
	// rendition it is of ("" for a source of one), its number within it,
	// and what ffmpeg said of the rendition.
	Rendition    string
	RenditionSeq uint64
	Variant      live.Variant
}

// ParseHeaders checks an upload's metadata headers (broker.Header*).
func ParseHeaders(get func(string) string) (Meta, error) {
	m := Meta{Edge: get(broker.HeaderEdge), Boot: get(broker.HeaderBoot)}
	if err := broker.ValidateName(m.Edge); err != nil {
		return m, fmt.Errorf("header %s: %v", broker.HeaderEdge, err)
	}
	if len(m.Boot) > 64 {
		return m, fmt.Errorf("header %s: longer than 64 bytes", broker.HeaderBoot)
	}
	var err error
	if m.Seq, err = strconv.ParseUint(get(broker.HeaderSeq), 10, 64); err != nil {
		return m, fmt.Errorf("header %s %q: want a whole number", broker.HeaderSeq, get(broker.HeaderSeq))
	}
	if m.Duration, err = strconv.ParseFloat(get(broker.HeaderDuration), 64); err != nil || math.IsNaN(m.Duration) || m.Duration <= 0 || m.Duration > 3600 {
		return m, fmt.Errorf("header %s %q: want seconds between 0 and 3600", broker.HeaderDuration, get(broker.HeaderDuration))
	}
	if v := get(broker.HeaderStart); v != "" {
		// The store keeps times as nanoseconds since 1970 in an int64; a
		// start outside that range would be refused only after the
		// segment was spooled, as a storage failure the edge retries.
		// The zero time is an edge that does not know the start.
		if m.Start, err = time.Parse(time.RFC3339Nano, v); err != nil || !m.Start.IsZero() && !time.Unix(0, m.Start.UnixNano()).Equal(m.Start) {
			return m, fmt.Errorf("header %s %q: want an RFC 3339 time between the years 1678 and 2262", broker.HeaderStart, v)
		}
	}
	if m.Rendition = get(broker.HeaderRendition); m.Rendition != "" {
		if !broker.ValidRendition(m.Rendition) {
			return m, fmt.Errorf("header %s %q: want 1 to 32 letters, digits, '_' or '-'", broker.HeaderRendition, m.Rendition)
		}
		if m.RenditionSeq, err = strconv.ParseUint(get(broker.HeaderRenditionSeq), 10, 64); err != nil {
			return m, fmt.Errorf("header %s %q: want a whole number with %s", broker.HeaderRenditionSeq, get(broker.HeaderRenditionSeq), broker.HeaderRendition)
		}
		if m.Variant, err = parseVariant(get(broker.HeaderVariant)); err != nil {
			return m, fmt.Errorf("header %s: %v", broker.HeaderVariant, err)
		}
	}
	m.Discontinuity = get(broker.HeaderDiscontinuity) == "1"
	if m.Init = get(broker.HeaderInit); m.Init != "" && !broker.ValidInitID(m.Init) {
		return m, fmt.Errorf("header %s %q: want the %d hex digits of an init segment's id", broker.HeaderInit, m.Init, broker.InitIDLen)
	}
	purpose := get(broker.HeaderPurpose)
	m.Live = purpose == ""
	for _, p := range strings.Split(purpose, ",") {
		switch strings.TrimSpace(p) {
		case "live":
			m.Live = true
		case "record", "":
		default:
			return m, fmt.Errorf("header %s %q: want live, record or live,record", broker.HeaderPurpose, purpose)
		}
	}
	for _, id := range strings.Split(get(broker.HeaderRecordings), ",") {
		if id = strings.TrimSpace(id); id == "" {
			continue
		}
		if len(id) > 64 || strings.ContainsAny(id, "/\\ ") {
			return m, fmt.Errorf("header %s: bad recording id %q", broker.HeaderRecordings, id)
		}
		m.Recordings = append(m.Recordings, id)
	}
	if len(m.Recordings) > 64 {
		return m, fmt.Errorf("header %s: more than 64 recordings", broker.HeaderRecordings)
	}
	if !m.Live && len(m.Recordings) == 0 {
		return m, fmt.Errorf("header %s %q: a segment must be for live or for a recording", broker.HeaderPurpose, purpose)
	}
	return m, nil
}
