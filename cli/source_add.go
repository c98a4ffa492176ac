package cli

import (
	"context"
	"fmt"

	"github.com/lmx-video/lmx/api"
)

// SourceAddCmd creates a source.
type SourceAddCmd struct {
	Name        string `arg:"" help:"Source name: the Video-Source-Name header ffmpeg will push."`
	Description string `placeholder:"TEXT" help:"Free text about the source."`
	SegmentLen  int    `default:"4" help:"Expected segment length in seconds (ffmpeg's -hls_time)."`
	JSON        bool   `name:"json" help:"Print the created source as JSON."`
}

// Help is the detail under the usage line.
func (*SourceAddCmd) Help() string {
	return `Creates a source on the control node. Then have ffmpeg push HLS to an edge
with the header Video-Source-Name set to the same name, and turn streaming on
to forward it to the control node.

Examples:

    lmx source add camera-0 --description "Lobby, north wall"
    lmx source add camera-1 --segment-len 2 --json`
}

// Run creates the source.
func (c *SourceAddCmd) Run(ctx context.Context, client Client, out Stdout) error {
	src, err := client.CreateSource(ctx, api.NewSource{
		Name:        c.Name,
		Description: c.Description,
		SegmentLen:  c.SegmentLen,
	})
	if err != nil {
		return fmt.Errorf("creating source %q: %w", c.Name, err)
	}
	if c.JSON {
		return printJSON(out, src)
	}
	fmt.Fprintf(out, "created source %s (id %s)\n", src.Name, shortID(src.ID))
	fmt.Fprintf(out, "next: push it to an edge with ffmpeg (header Video-Source-Name: %s), then run lmx source stream on %s\n", src.Name, src.Name)
	return nil
}
