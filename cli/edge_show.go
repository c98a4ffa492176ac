package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/lmx-video/lmx/api"
)

// EdgeShowCmd shows one edge.
type EdgeShowCmd struct {
	Name string `arg:"" help:"Edge name."`
	JSON bool   `name:"json" help:"Print the edge as a JSON object."`
}

// Help is the detail under the usage line.
func (*EdgeShowCmd) Help() string {
	return `Shows one edge agent, the state of its credential, and, for each source it
receives from ffmpeg, whether it forwards it, how fresh and how fast it is,
how much its buffer holds, and how many segments it uploaded or dropped.

Examples:

    lmx edge show cam-gw-1
    lmx edge show cam-gw-1 --json`
}

// Run shows the edge.
func (c *EdgeShowCmd) Run(ctx context.Context, client Client, out Stdout, t Timing) error {
	e, err := client.GetEdge(ctx, c.Name)
	if errors.Is(err, api.ErrNotFound) {
		// No edge by that name, or a control node without GET
		// /v1/edge/{name}: the list tells which, and names the edges
		// there are.
		edges, lerr := client.ListEdges(ctx)
		if lerr != nil {
			return edgesError(lerr)
		}
		e, err = findEdge(sortEdges(edges), c.Name)
	}
	if err != nil {
		return err
	}
	if c.JSON {
		return printJSON(out, e)
	}
	return writeEdge(out, e, t.Now())
}

// findEdge picks the edge called name, or says which names exist.
func findEdge(edges []api.Edge, name string) (api.Edge, error) {
	names := make([]string, 0, len(edges))
	for _, e := range edges {
		if e.Name == name {
			return e, nil
		}
		names = append(names, e.Name)
	}
	if len(names) == 0 {
		return api.Edge{}, fmt.Errorf("edge %q not found: there are no edges yet; %s", name, addEdgeHint)
	}
	return api.Edge{}, fmt.Errorf("edge %q not found; known edges: %s", name, strings.Join(names, ", "))
}
