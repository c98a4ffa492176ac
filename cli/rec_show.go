package cli

import "context"

// RecShowCmd shows one recording.
type RecShowCmd struct {
	ID   string `arg:"" help:"Recording id."`
	JSON bool   `name:"json" help:"Print the recording as a JSON object."`
}

// Help is the detail under the usage line.
func (*RecShowCmd) Help() string {
	return `Shows one recording: its source, alias and description, whether it still
records, when it starts and ends, the media it holds (first and last media
time, duration, segments, size), the renditions of an adaptive-bitrate
source, the stretches with no media in it (source offline, edge
restarted; each rendition's), and how to play it.

Examples:

    lmx rec show 0190f3a2-7c4e-7b1a-9d2e-5f6a7b8c9d0e
    lmx rec show "$id" --json | jq .gaps`
}

// Run shows the recording.
func (c *RecShowCmd) Run(ctx context.Context, client Client, out Stdout, t Timing) error {
	rec, err := client.GetRecording(ctx, c.ID)
	if err != nil {
		return recordingError(c.ID, err)
	}
	if c.JSON {
		return printJSON(out, rec)
	}
	return writeRecording(out, rec, t.Now())
}
