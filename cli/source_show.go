package cli

import "context"

// SourceShowCmd shows one source.
type SourceShowCmd struct {
	Source string `arg:"" help:"Source id or name."`
	JSON   bool   `name:"json" help:"Print the source as a JSON object."`
}

// Help is the detail under the usage line.
func (*SourceShowCmd) Help() string {
	return `Shows everything the control node knows about one source, including its
playback URL once the control node knows its public address.

Examples:

    lmx source show camera-0
    lmx source show 0b7c1e2a-5d4f-4e8a-9c1b-2f3e4d5c6b7a --json`
}

// Run shows the source.
func (c *SourceShowCmd) Run(ctx context.Context, client Client, out Stdout, t Timing) error {
	src, err := client.GetSource(ctx, c.Source)
	if err != nil {
		return sourceError(c.Source, err)
	}
	if c.JSON {
		return printJSON(out, src)
	}
	return writeSource(out, src, t.Now())
}
