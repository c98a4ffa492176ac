package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/lmx-video/lmx/api"
)

// RecLsCmd lists recordings.
type RecLsCmd struct {
	Source string `placeholder:"SOURCE" help:"Only recordings of this source (id or name)."`
	Active bool   `help:"Only recordings still recording."`
	JSON   bool   `name:"json" xor:"output" help:"Print the recordings as a JSON list."`
	Watch  bool   `short:"w" xor:"output" help:"Redraw the table every 2s until Ctrl-C."`
}

// Help is the detail under the usage line.
func (*RecLsCmd) Help() string {
	return `Lists recordings, newest first: the source, whether each is still
recording, when it starts (local time), and how much media it holds so far.

Examples:

    lmx rec ls
    lmx rec ls --source camera-0 --active
    lmx rec ls --watch
    lmx rec ls --active --json | jq -r '.[].id'`
}

// Run lists the recordings once, as JSON, or over and over with --watch.
func (c *RecLsCmd) Run(ctx context.Context, client Client, out Stdout, t Timing) error {
	list := func() ([]api.Recording, error) {
		recs, err := client.ListRecordings(ctx, c.Source, c.Active)
		if err != nil && c.Source != "" && errors.Is(err, api.ErrNotFound) {
			return nil, sourceError(c.Source, err)
		}
		return recs, err
	}
	if c.JSON {
		recs, err := list()
		if err != nil {
			return err
		}
		if recs == nil {
			recs = []api.Recording{} // "[]", not "null", for scripts
		}
		return printJSON(out, sortRecordings(recs))
	}
	table := func(w io.Writer) error {
		recs, err := list()
		if err != nil {
			return err
		}
		if len(recs) == 0 {
			_, err := fmt.Fprintln(w, c.noneMessage())
			return err
		}
		return writeRecordings(w, recs)
	}
	if c.Watch {
		return watch(ctx, out, t, "lmx rec ls", table)
	}
	return table(out)
}

// noneMessage says that nothing matched, and how to get something.
func (c *RecLsCmd) noneMessage() string {
	switch {
	case c.Source != "" && c.Active:
		return fmt.Sprintf("no active recordings of %s: start one with lmx rec start %s", c.Source, c.Source)
	case c.Source != "":
		return fmt.Sprintf("no recordings of %s yet: start one with lmx rec start %s", c.Source, c.Source)
	case c.Active:
		return "no active recordings: start one with lmx rec start SOURCE"
	default:
		return "no recordings yet: start one with lmx rec start SOURCE"
	}
}
