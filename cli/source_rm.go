package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/lmx-video/lmx/api"
)

// SourceRmCmd deletes a source.
type SourceRmCmd struct {
	Source string `arg:"" help:"Source id or name."`
	Force  bool   `help:"Remove it even while an edge still pushes it, and refuse that push from then on: the name is not registered again until lmx source add NAME."`
}

// Help is the detail under the usage line.
func (*SourceRmCmd) Help() string {
	return `Deletes a source from the control node. Its live stream stops being served;
a pulled source's edge stops its ffmpeg.

A source an edge still pushes is not removed: its next push would register
it again a second later. Stop the push first (the ffmpeg sending it), or
pass --force: the source goes and pushes of its name are refused (404,
saying so) until lmx source add NAME. A control node run with
--no-auto-register never registers pushed names, so it needs no --force.

Examples:

    lmx source rm camera-0
    lmx source rm camera-0 --force`
}

// Run deletes the source.
func (c *SourceRmCmd) Run(ctx context.Context, client Client, out Stdout) error {
	if err := client.DeleteSource(ctx, c.Source, c.Force); err != nil {
		if errors.Is(err, api.ErrNotFound) {
			return sourceError(c.Source, err)
		}
		// A 409 says who still pushes it and what to do: shown as it is.
		return fmt.Errorf("removing source %q: %w", c.Source, err)
	}
	if c.Force {
		_, err := fmt.Fprintf(out, "removed source %s; pushes of %s are refused until lmx source add %s\n", c.Source, c.Source, c.Source)
		return err
	}
	_, err := fmt.Fprintf(out, "removed source %s\n", c.Source)
	return err
}
