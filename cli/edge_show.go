package cli

import (
	"context"
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
	return `Shows one edge agent and, for each source it receives from ffmpeg, whether
it forwards it, how fresh and how fast it is, how much its buffer holds, and
how many segments it uploaded or dropped.

Examples:

    lmx edge show cam-gw-1
    lmx edge show cam-gw-1 --json`
}

// Run shows the edge. The API has no single-edge endpoint, so this lists
// them all and picks one; there are few edges per control node.
func (c *EdgeShowCmd) Run(ctx context.Context, client Client, out Stdout, t Timing) error {
	edges, err := client.ListEdges(ctx)
	if err != nil {
		return edgesError(err)
	}
	e, err := findEdge(sortEdges(edges), c.Name)
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
		return api.Edge{}, fmt.Errorf("edge %q not found: no edge has connected yet; start one with lmx edged --name NAME --controld HOST", name)
	}
	return api.Edge{}, fmt.Errorf("edge %q not found; known edges: %s", name, strings.Join(names, ", "))
}
