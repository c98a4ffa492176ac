package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/lmx-video/lmx/api"
)

// RecRmCmd deletes a recording.
type RecRmCmd struct {
	ID    string `arg:"" help:"Recording id."`
	Force bool   `help:"Delete it even while it is still recording."`
}

// Help is the detail under the usage line.
func (*RecRmCmd) Help() string {
	return `Deletes a recording and the stored segments no other recording shares.
The control node refuses to delete a recording that is still recording unless
--force is given.

Examples:

    lmx rec rm 0190f3a2-7c4e-7b1a-9d2e-5f6a7b8c9d0e
    lmx rec rm "$id" --force`
}

// Run deletes the recording.
func (c *RecRmCmd) Run(ctx context.Context, client Client, out Stdout) error {
	if err := client.DeleteRecording(ctx, c.ID, c.Force); err != nil {
		var se *api.StatusError
		if errors.As(err, &se) && se.Status == http.StatusConflict && !c.Force {
			// The server's message without its detail, which lmx's
			// control node fills with this same advice.
			msg := cmp.Or(se.Message, "recording "+c.ID+" is still recording")
			return &hintError{
				msg: fmt.Sprintf("%s: stop it first with `lmx rec stop %s` or pass --force", msg, c.ID),
				err: err,
			}
		}
		return recordingError(c.ID, err)
	}
	_, err := fmt.Fprintf(out, "removed recording %s\n", c.ID)
	return err
}
