package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/lmx-video/lmx/api"
)

// RecStopCmd stops a recording.
type RecStopCmd struct {
	ID   string `arg:"" help:"Recording id."`
	JSON bool   `name:"json" help:"Print the stopped recording as a JSON object."`
}

// Help is the detail under the usage line.
func (*RecStopCmd) Help() string {
	return `Stops a recording and prints one line: its id, source, how much media it
holds and its playback URL. Its playlist becomes VOD, so players can seek.

Examples:

    lmx rec stop 0190f3a2-7c4e-7b1a-9d2e-5f6a7b8c9d0e
    lmx rec stop "$id" --json`
}

// Run stops the recording.
func (c *RecStopCmd) Run(ctx context.Context, client Client, out Stdout) error {
	rec, err := client.StopRecording(ctx, c.ID)
	if err != nil {
		if errors.Is(err, api.ErrNotFound) {
			return recordingError(c.ID, err)
		}
		return fmt.Errorf("stopping recording %q: %w", c.ID, err)
	}
	if c.JSON {
		return printJSON(out, rec)
	}
	_, err = fmt.Fprintln(out, recSummary("stopped", rec))
	return err
}

// recSummary is one line about a recording: "stopped ID (camera-0): 1m32s
// in 23 segments, 12 MiB, playback URL".
func recSummary(verb string, r api.Recording) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s (%s): %s in %d segments, %s", verb, r.ID, recSource(r),
		mediaDuration(r.DurationSeconds), r.Segments, byteSize(r.Bytes))
	if r.PlaybackURL != "" {
		b.WriteString(", playback " + r.PlaybackURL)
	}
	return b.String()
}
