package feeds

import "time"

// Source is what the selector needs to know of a source.
type Source struct {
	// ID and Name identify the source.
	ID, Name string
	// Feeds are the edges allowed to feed it, in the operator's order.
	Feeds []string
	// Prefer is the operator's preferred feed ("" for none).
	Prefer string
	// SegmentLen, Streaming and OnDemand are the source's, handed back to
	// the Lister with a switch.
	SegmentLen          int
	Streaming, OnDemand bool
}

// Segment is one upload of a feed, as ingest received it.
type Segment struct {
	// Edge, Boot and EdgeSeq name the segment in its edge's run.
	Edge, Boot string
	EdgeSeq    uint64
	// Duration is its length in seconds.
	Duration float64
	// Start is its start on the edge's clock.
	Start time.Time
	// Discontinuity is the edge's flag of a break in its media.
	Discontinuity bool
	// Arrived is when the upload reached the control node.
	Arrived time.Time
	// Live and Recordings are what the edge sent it for.
	Live       bool
	Recordings []string
	// Data is the segment's bytes; Admit keeps a copy of a held one.
	Data []byte
	// Init is the id of the fMP4 init segment it follows ("" for MPEG-TS).
	Init string
	// Rendition and RenditionSeq name its adaptive-bitrate rendition (""
	// for a source of one); Variant is what ingest knows of the rendition,
	// handed back to the Lister as it is.
	Rendition    string
	RenditionSeq uint64
	Variant      any
}

// end is where the segment ends on its edge's clock.
func (s Segment) end() time.Time { return s.Start.Add(seconds(s.Duration)) }

// Role says what ingest does with an upload.
type Role int

const (
	// Active: the upload is of the active feed; ingest records and lists
	// it as for a source with one feed.
	Active Role = iota
	// Held: the upload is of a standby feed; the selector holds it (or
	// has just listed it, switching to its feed) and ingest only answers.
	Held
)

// Feed is one feed's state, for the API.
type Feed struct {
	// Edge is the feeding edge.
	Edge string
	// Active tells whether its segments are the ones listed.
	Active bool
	// Fenced is a former active feed: held until it is chosen again.
	Fenced bool
	// Healthy tells whether it delivered within about two segments.
	Healthy bool
	// LastSegmentAt is when its newest upload arrived (zero: none yet).
	LastSegmentAt time.Time
	// Segments counts its uploads since the control node started.
	Segments uint64
	// Held is how many of its segments the selector holds now.
	Held int
}

// Switch is one change of the active feed.
type Switch struct {
	// At is when it happened.
	At time.Time
	// From and To are the feeds ("" From for the first feed).
	From, To string
	// Reason is ReasonFirst, ReasonMissed, ReasonPrefer or ReasonRemoved.
	Reason string
	// Detail says it in words.
	Detail string
	// LateBy is how long after the active feed's next segment was due the
	// new feed's first segment was listed (failovers only).
	LateBy time.Duration
	// Listed is how many held segments of the new feed were listed at once.
	Listed int
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
