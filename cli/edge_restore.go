package cli

import (
	"context"
	"fmt"
)

// EdgeRestoreCmd lets a revoked edge back in.
type EdgeRestoreCmd struct {
	Name string `arg:"" help:"Edge name."`
	JSON bool   `name:"json" help:"Print the edge as a JSON object."`
}

// Help is the detail under the usage line.
func (*EdgeRestoreCmd) Help() string {
	return `Lets a revoked edge back in: the credential it already holds works again,
so it reconnects by itself (nothing to run on its machine).

Examples:

    lmx edge restore cam-gw-1
    lmx edge restore cam-gw-1 --json`
}

// Run restores the edge.
func (c *EdgeRestoreCmd) Run(ctx context.Context, client Client, out Stdout) error {
	e, err := client.RestoreEdge(ctx, c.Name)
	if err != nil {
		return edgeError(c.Name, err)
	}
	if c.JSON {
		return printJSON(out, e)
	}
	_, err = fmt.Fprintf(out, "restored edge %s: it may connect again with its credential\n", c.Name)
	return err
}
