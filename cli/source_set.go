package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lmx-video/lmx/api"
)

// SourceSetCmd changes a source's settings.
type SourceSetCmd struct {
	Source      string  `arg:"" help:"Source id or name."`
	Public      *bool   `negatable:"" help:"Let anyone play the source without a token or signed URL (--no-public: only with one)."`
	Edge        *string `placeholder:"EDGE" help:"Move the source to another edge (the one ffmpeg now pushes it to)."`
	Description *string `placeholder:"TEXT" help:"Replace the description (\"\" clears it)."`

	// Redundant ingest.
	Feeds    []string `placeholder:"EDGE,EDGE" xor:"feeds" help:"The edges that feed the source, in order (the first is its edge): with two or more, each pushes the same source and the control node lists one, failing over to another when it stops delivering."`
	Prefer   *string  `placeholder:"EDGE" xor:"prefer" help:"Make this feed active now (at its next segment) and first on every failover; a feed that failed is otherwise not chosen again until another one fails."`
	NoPrefer bool     `name:"no-prefer" xor:"prefer" help:"Forget the preferred feed: the active one stays until it fails."`

	// Camera pull.
	Pull   *string `placeholder:"URL" xor:"pull" help:"Have the source's edge pull the camera with ffmpeg from URL (rtsp, rtsps, rtmp, rtmps, srt, http(s) HLS); credentials in it are masked wherever it is shown."`
	NoPull bool    `name:"no-pull" xor:"pull" help:"Stop pulling: the edge stops its ffmpeg, and the source waits for a push again."`

	// On-demand upload.
	OnDemand *bool          `name:"on-demand" negatable:"" help:"Upload live only while someone watches: the edge keeps buffering (recordings are unaffected) and starts uploading on the first playlist request (--no-on-demand or --on-demand=false: always)."`
	Idle     *time.Duration `name:"idle" placeholder:"DURATION" help:"How long an on-demand source keeps uploading after the last playlist request (e.g. 30s, 5m; 0: the control node's --idle, 60s by default)."`

	// Continuous recording and retention.
	Record      string     `placeholder:"always|off" help:"always: record continuously, one recording per chunk (see --record-chunk); off: stop doing so (recordings kept as they are)."`
	RecordChunk chunkFlag  `name:"record-chunk" placeholder:"DURATION" help:"Length of one chunk of continuous recording, 10s to 1d: 1h (on the hour), 15m; default: the control node's --record-chunk."`
	Retain      retainFlag `placeholder:"DURATION|forever|default" help:"How long the source's recordings are kept after they stop: 7d, 2w, 12h; forever; default (the control node's --retain). Pinned recordings are never deleted."`

	JSON bool `name:"json" help:"Print the source as a JSON object."`
}

// Help is the detail under the usage line.
func (*SourceSetCmd) Help() string {
	return `Changes what is given of a source and leaves the rest as it is, then shows
the source as lmx source show does.

Examples:

    lmx source set camera-0 --public
    lmx source set camera-0 --no-public --description "Lobby, north wall"
    lmx source set camera-0 --edge cam-gw-2 --json
    lmx source set camera-0 --feeds cam-gw-1,cam-gw-2 --prefer cam-gw-1
    lmx source set camera-0 --pull 'rtsp://user:pass@10.0.0.7:554/stream'
    lmx source set camera-0 --no-pull
    lmx source set camera-0 --on-demand --idle 2m

    lmx source set camera-0 --record always --record-chunk 1h --retain 7d
    lmx source set camera-0 --record off --retain forever`
}

// Validate refuses a command that would change nothing, as a usage error.
func (c *SourceSetCmd) Validate() error {
	if err := c.validateRecord(); err != nil {
		return err
	}
	if c.Public == nil && c.Edge == nil && c.Description == nil && c.pullURL() == nil && c.OnDemand == nil && c.Idle == nil && !c.recordSet() &&
		c.Feeds == nil && c.prefer() == nil {
		return errors.New("nothing to change: pass --public, --no-public, --edge, --feeds, --prefer, --no-prefer, --description, --pull, --no-pull, --on-demand, --idle, --record, --record-chunk or --retain")
	}
	if c.Edge != nil && c.Feeds != nil {
		return errors.New("--edge and --feeds both given: the first of --feeds is the source's edge")
	}
	if c.Prefer != nil && strings.TrimSpace(*c.Prefer) == "" {
		return errors.New("--prefer needs a feed's edge name: --no-prefer forgets it")
	}
	if p := c.pullURL(); p != nil && c.Pull != nil && strings.TrimSpace(*p) == "" {
		return errors.New("--pull needs a URL: --no-pull stops pulling")
	}
	if c.Idle != nil && (*c.Idle < 0 || (*c.Idle > 0 && *c.Idle < time.Second) || *c.Idle%time.Second != 0) {
		return fmt.Errorf("--idle %s: give whole seconds, at least 1s (or 0 for the control node's default)", *c.Idle)
	}
	if c.Edge != nil && *c.Edge == "" {
		return errors.New("--edge needs an edge name: a source always has one once pushed")
	}
	return nil
}

// Run changes the source.
func (c *SourceSetCmd) Run(ctx context.Context, client Client, out Stdout, t Timing) error {
	up := api.SourceUpdate{
		Public:      c.Public,
		Edge:        c.Edge,
		Description: c.Description,
		PullURL:     c.pullURL(),
		Prefer:      c.prefer(),

		Record:             c.record(),
		RecordChunkSeconds: c.RecordChunk.seconds(),
		RetainSeconds:      c.Retain.seconds(),
	}
	if c.Feeds != nil {
		up.Feeds = &c.Feeds
	}
	up.OnDemand = c.OnDemand
	if c.Idle != nil {
		secs := int(*c.Idle / time.Second)
		up.IdleSeconds = &secs
	}
	src, err := client.UpdateSource(ctx, c.Source, up)
	if err != nil {
		if errors.Is(err, api.ErrNotFound) {
			return sourceError(c.Source, err)
		}
		return fmt.Errorf("changing source %q: %w", c.Source, err)
	}
	if c.JSON {
		return printJSON(out, src)
	}
	return writeSource(out, src, t.Now())
}

// prefer is the preferred feed to set: --prefer's, "" for --no-prefer, nil
// for neither.
func (c *SourceSetCmd) prefer() *string {
	if c.NoPrefer {
		none := ""
		return &none
	}
	return c.Prefer
}

// pullURL is the pull URL to set: --pull's, "" for --no-pull, nil for neither.
func (c *SourceSetCmd) pullURL() *string {
	if c.NoPull {
		off := ""
		return &off
	}
	return c.Pull
}
