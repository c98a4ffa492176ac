package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lmx-video/lmx/api"
)

// SourceAddCmd creates a source.
type SourceAddCmd struct {
	Name        string `arg:"" help:"Source name: the Video-Source-Name header ffmpeg will push."`
	Description string `placeholder:"TEXT" help:"Free text about the source."`
	SegmentLen  int    `default:"4" help:"Expected segment length in seconds (ffmpeg's -hls_time)."`
	JSON        bool   `name:"json" help:"Print the created source as JSON."`

	// Camera pull.
	Pull string `placeholder:"URL" help:"Have the edge pull the camera itself: ffmpeg reads URL (rtsp, rtsps, rtmp, rtmps, srt, http(s) HLS) with -c copy and pushes it to the edge; credentials in it are masked wherever it is shown."`
	Edge string `placeholder:"EDGE" help:"The edge that runs ffmpeg for --pull (needed when more than one edge is online)."`

	// Redundant ingest, as lmx source set takes it.
	Feeds  []string `placeholder:"EDGE,EDGE" help:"The edges that feed the source, in order: with two or more, each pushes (or pulls) it and the control node lists one, failing over to another (see lmx source set --feeds)."`
	Prefer string   `placeholder:"EDGE" help:"With --feeds: the feed to list whenever it delivers, and first on every failover."`

	// On-demand upload, as lmx source set takes it.
	OnDemand bool          `name:"on-demand" help:"Upload live only while someone watches (see lmx source set --on-demand)."`
	Idle     time.Duration `name:"idle" placeholder:"DURATION" help:"With --on-demand: how long it keeps uploading after the last playlist request (0: the control node's --idle)."`

	// Continuous recording and retention, as lmx source set takes them.
	Record      string     `placeholder:"always|off" help:"always: record continuously from the start, one recording per chunk (see lmx source set --record)."`
	RecordChunk chunkFlag  `name:"record-chunk" placeholder:"DURATION" help:"Length of one chunk of continuous recording (1h, 15m; default: the control node's --record-chunk)."`
	Retain      retainFlag `placeholder:"DURATION|forever" help:"How long the source's recordings are kept after they stop (7d, 2w; forever; default: the control node's --retain)."`
}

// Validate checks --idle as lmx source set does.
func (c *SourceAddCmd) Validate() error {
	switch strings.ToLower(c.Record) {
	case "", api.RecordAlways, api.RecordOff:
	default:
		return fmt.Errorf("--record %q: want always or off", c.Record)
	}
	if c.Edge != "" && len(c.Feeds) > 0 {
		return errors.New("--edge and --feeds both given: the first of --feeds is the source's edge")
	}
	if c.Prefer != "" && len(c.Feeds) == 0 {
		return errors.New("--prefer names one of --feeds: give them too")
	}
	if c.Idle != 0 && !c.OnDemand {
		return errors.New("--idle is for on-demand sources: add --on-demand")
	}
	if c.Idle < 0 || (c.Idle > 0 && c.Idle < time.Second) || c.Idle%time.Second != 0 {
		return fmt.Errorf("--idle %s: give whole seconds, at least 1s (or 0 for the control node's default)", c.Idle)
	}
	return nil
}

// Help is the detail under the usage line.
func (*SourceAddCmd) Help() string {
	return `Creates a source on the control node. Then have ffmpeg push HLS to an edge
with the header Video-Source-Name set to the same name, and turn streaming on
to forward it to the control node.

With --pull the edge runs that ffmpeg itself, reading the camera's URL with
-c copy (no transcoding), restarting it when it exits or stalls, and the
source streams from the start. The edge is the one online, or --edge.
Credentials in the URL are masked everywhere it is shown (the API, this
CLI, the dashboard, events, logs): only the edge's own desired state
carries them.

Examples:

    lmx source add camera-0 --description "Lobby, north wall"
    lmx source add camera-1 --segment-len 2 --json
    lmx source add camera-2 --pull 'rtsp://user:pass@10.0.0.7:554/stream' --edge cam-gw-1
    lmx source add camera-3 --pull 'rtsp://user:pass@10.0.0.8/stream' --on-demand --record always --retain 7d
    lmx source add camera-4 --feeds cam-gw-1,cam-gw-2 --prefer cam-gw-1

With --feeds, two (or more) edges feed the same source, typically two
gateways on the camera's LAN each with its own ffmpeg pushing the same
Video-Source-Name (or, with --pull, each pulling the camera). Both upload
every segment; the control node lists one and, when its next segment is
overdue, switches to the other within one segment length, marking the
switch with a discontinuity. Recordings follow the listed feed.`
}

// Run creates the source.
func (c *SourceAddCmd) Run(ctx context.Context, client Client, out Stdout) error {
	ns := api.NewSource{
		Name:        c.Name,
		Description: c.Description,
		SegmentLen:  c.SegmentLen,
		PullURL:     c.Pull,
		Edge:        c.Edge,
		Feeds:       c.Feeds,
		Prefer:      c.Prefer,
		OnDemand:    c.OnDemand,
		IdleSeconds: int(c.Idle / time.Second),
		Record:      strings.ToLower(c.Record),
	}
	if n := c.RecordChunk.seconds(); n != nil {
		ns.RecordChunkSeconds = *n
	}
	if n := c.Retain.seconds(); n != nil {
		ns.RetainSeconds = *n
	}
	src, err := client.CreateSource(ctx, ns)
	if err != nil {
		return fmt.Errorf("creating source %q: %w", c.Name, err)
	}
	if c.JSON {
		return printJSON(out, src)
	}
	fmt.Fprintf(out, "created source %s (id %s)\n", src.Name, shortID(src.ID))
	if src.PullURL != "" {
		how := "streams it"
		if src.OnDemand {
			how = "streams it while someone watches"
		}
		fmt.Fprintf(out, "edge %s pulls %s and %s\n", orNone(sourceEdge(src)), src.PullURL, how)
		fmt.Fprintf(out, "next: lmx source show %s (the pull's state), lmx source url %s (watch it)\n", src.Name, src.Name)
		return nil
	}
	fmt.Fprintf(out, "next: push it to an edge with ffmpeg (header Video-Source-Name: %s), then run lmx source stream on %s\n", src.Name, src.Name)
	return nil
}
