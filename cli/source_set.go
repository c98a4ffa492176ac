package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/lmx-video/lmx/api"
)

// SourceSetCmd changes a source's settings.
type SourceSetCmd struct {
	Source      string  `arg:"" help:"Source id or name."`
	Public      *bool   `negatable:"" help:"Let anyone play the source without a token or signed URL (--no-public: only with one)."`
	Edge        *string `placeholder:"EDGE" help:"Move the source to another edge (the one ffmpeg now pushes it to)."`
	Description *string `placeholder:"TEXT" help:"Replace the description (\"\" clears it)."`
	JSON        bool    `name:"json" help:"Print the source as a JSON object."`

	// Continuous recording and retention.
	Record      string     `placeholder:"always|off" help:"always: record continuously, one recording per chunk (see --record-chunk); off: stop doing so (recordings kept as they are)."`
	RecordChunk chunkFlag  `name:"record-chunk" placeholder:"DURATION" help:"Length of one chunk of continuous recording, 10s to 1d: 1h (on the hour), 15m; default: the control node's --record-chunk."`
	Retain      retainFlag `placeholder:"DURATION|forever|default" help:"How long the source's recordings are kept after they stop: 7d, 2w, 12h; forever; default (the control node's --retain). Pinned recordings are never deleted."`
}

// Help is the detail under the usage line.
func (*SourceSetCmd) Help() string {
	return `Changes what is given of a source and leaves the rest as it is, then shows
the source as lmx source show does.

Examples:

    lmx source set camera-0 --public
    lmx source set camera-0 --no-public --description "Lobby, north wall"
    lmx source set camera-0 --edge cam-gw-2 --json
    lmx source set camera-0 --record always --record-chunk 1h --retain 7d
    lmx source set camera-0 --record off --retain forever`
}

// Validate refuses a command that would change nothing, as a usage error.
func (c *SourceSetCmd) Validate() error {
	if err := c.validateRecord(); err != nil {
		return err
	}
	if c.Public == nil && c.Edge == nil && c.Description == nil && !c.recordSet() {
		return errors.New("nothing to change: pass --public, --no-public, --edge, --description, --record, --record-chunk or --retain")
	}
	if c.Edge != nil && *c.Edge == "" {
		return errors.New("--edge needs an edge name: a source always has one once pushed")
	}
	return nil
}

// Run changes the source.
func (c *SourceSetCmd) Run(ctx context.Context, client Client, out Stdout, t Timing) error {
	src, err := client.UpdateSource(ctx, c.Source, api.SourceUpdate{
		Public:             c.Public,
		Edge:               c.Edge,
		Description:        c.Description,
		Record:             c.record(),
		RecordChunkSeconds: c.RecordChunk.seconds(),
		RetainSeconds:      c.Retain.seconds(),
	})
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
