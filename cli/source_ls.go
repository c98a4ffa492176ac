package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/lmx-video/lmx/api"
)

// SourceLsCmd lists sources.
type SourceLsCmd struct {
	Name  string `placeholder:"NAME" help:"Only the source with this exact name."`
	JSON  bool   `name:"json" xor:"output" help:"Print the sources as a JSON list."`
	Watch bool   `short:"w" xor:"output" help:"Redraw the table every 2s until Ctrl-C."`
}

// Help is the detail under the usage line.
func (*SourceLsCmd) Help() string {
	return `Lists the sources the control node knows, with the edge that pushes each,
whether it streams ("on (pending)" until the edge confirms), how old its
newest live segment is and its bitrate.

Examples:

    lmx source ls
    lmx source ls --watch
    lmx source ls --name camera-0 --json`
}

// Run lists the sources once, as JSON, or over and over with --watch.
func (c *SourceLsCmd) Run(ctx context.Context, client Client, out Stdout, t Timing) error {
	if c.JSON {
		sources, err := client.ListSources(ctx, c.Name)
		if err != nil {
			return err
		}
		if sources == nil {
			sources = []api.Source{} // "[]", not "null", for scripts
		}
		return printJSON(out, sources)
	}
	table := func(w io.Writer) error {
		sources, err := client.ListSources(ctx, c.Name)
		if err != nil {
			return err
		}
		if len(sources) == 0 {
			if c.Name != "" {
				_, err = fmt.Fprintf(w, "no source named %q: see lmx source ls\n", c.Name)
			} else {
				_, err = fmt.Fprintln(w, "no sources yet: create one with lmx source add NAME")
			}
			return err
		}
		return writeSources(w, sources, t.Now())
	}
	if c.Watch {
		return watch(ctx, out, t, "lmx source ls", table)
	}
	return table(out)
}
