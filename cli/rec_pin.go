package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/lmx-video/lmx/api"
)

// RecPinCmd pins a recording.
type RecPinCmd struct {
	ID   string `arg:"" help:"Recording id."`
	JSON bool   `name:"json" help:"Print the recording as a JSON object."`
}

// Help is the detail under the usage line.
func (*RecPinCmd) Help() string {
	return `Pins a recording: retention (the control node's --retain and
--retain-size, a source's --retain) never deletes it. A pinned recording
still counts toward --retain-size; when pins alone exceed it, the control
node says so in its log, its events and /metrics.

Examples:

    lmx rec pin 0190f3a2-7c4e-7b1a-9d2e-5f6a7b8c9d0e
    lmx rec unpin 0190f3a2-7c4e-7b1a-9d2e-5f6a7b8c9d0e`
}

// Run pins the recording.
func (c *RecPinCmd) Run(ctx context.Context, client Client, out Stdout) error {
	return setPinned(ctx, client, out, c.ID, true, c.JSON)
}

// RecUnpinCmd unpins a recording.
type RecUnpinCmd struct {
	ID   string `arg:"" help:"Recording id."`
	JSON bool   `name:"json" help:"Print the recording as a JSON object."`
}

// Help is the detail under the usage line.
func (*RecUnpinCmd) Help() string {
	return `Unpins a recording: retention may delete it again, by age once its
source's retention has passed since it stopped, or by size, oldest first.

Examples:

    lmx rec unpin 0190f3a2-7c4e-7b1a-9d2e-5f6a7b8c9d0e`
}

// Run unpins the recording.
func (c *RecUnpinCmd) Run(ctx context.Context, client Client, out Stdout) error {
	return setPinned(ctx, client, out, c.ID, false, c.JSON)
}

// setPinned pins or unpins and prints one line saying what retention will
// do with the recording now.
func setPinned(ctx context.Context, client Client, out Stdout, id string, pinned, asJSON bool) error {
	rec, err := client.PinRecording(ctx, id, pinned)
	if err != nil {
		if errors.Is(err, api.ErrNotFound) {
			return recordingError(id, err)
		}
		verb := "pinning"
		if !pinned {
			verb = "unpinning"
		}
		return fmt.Errorf("%s recording %q: %w", verb, id, err)
	}
	if asJSON {
		return printJSON(out, rec)
	}
	var line string
	switch {
	case pinned:
		line = fmt.Sprintf("pinned %s (%s): retention never deletes it", rec.ID, recSource(rec))
	case !rec.ExpiresAt.IsZero():
		line = fmt.Sprintf("unpinned %s (%s): kept until %s, and may go sooner for --retain-size", rec.ID, recSource(rec), localStamp(rec.ExpiresAt))
	case rec.IsActive():
		line = fmt.Sprintf("unpinned %s (%s): still recording; retention counts from its stop", rec.ID, recSource(rec))
	default:
		line = fmt.Sprintf("unpinned %s (%s): no age limit applies; it may go for --retain-size", rec.ID, recSource(rec))
	}
	_, err = fmt.Fprintln(out, line)
	return err
}
