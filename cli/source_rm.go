package cli

import (
	"context"
	"fmt"
)

// SourceRmCmd deletes a source.
type SourceRmCmd struct {
	Source string `arg:"" help:"Source id or name."`
}

// Help is the detail under the usage line.
func (*SourceRmCmd) Help() string {
	return `Deletes a source from the control node. Its live stream stops being served.

Examples:

    lmx source rm camera-0`
}

// Run deletes the source.
func (c *SourceRmCmd) Run(ctx context.Context, client Client, out Stdout) error {
	if err := client.DeleteSource(ctx, c.Source); err != nil {
		return sourceError(c.Source, err)
	}
	_, err := fmt.Fprintf(out, "removed source %s\n", c.Source)
	return err
}
