package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/lmx-video/lmx/api"
)

// EdgeLsCmd lists edges.
type EdgeLsCmd struct {
	JSON  bool `name:"json" xor:"output" help:"Print the edges as a JSON list."`
	Watch bool `short:"w" xor:"output" help:"Redraw the table every 2s until Ctrl-C."`
}

// Help is the detail under the usage line.
func (*EdgeLsCmd) Help() string {
	return `Lists the edge agents the control node knows: whether each is online and
for how long (or offline since when), its credential (pending until it joins,
joined, or revoked), its version, the address ffmpeg pushes to, and how many
sources it sees.

Examples:

    lmx edge ls
    lmx edge ls --watch
    lmx edge ls --json | jq -r '.[] | select(.online) | .name'`
}

// Run lists the edges once, as JSON, or over and over with --watch.
func (c *EdgeLsCmd) Run(ctx context.Context, client Client, out Stdout, t Timing) error {
	if c.JSON {
		edges, err := client.ListEdges(ctx)
		if err != nil {
			return edgesError(err)
		}
		if edges == nil {
			edges = []api.Edge{} // "[]", not "null", for scripts
		}
		return printJSON(out, sortEdges(edges))
	}
	table := func(w io.Writer) error {
		edges, err := client.ListEdges(ctx)
		if err != nil {
			return edgesError(err)
		}
		if len(edges) == 0 {
			_, err := fmt.Fprintln(w, "no edges yet: "+addEdgeHint)
			return err
		}
		return writeEdges(w, edges, t.Now())
	}
	if c.Watch {
		return watch(ctx, out, t, "lmx edge ls", table)
	}
	return table(out)
}
