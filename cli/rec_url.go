package cli

import (
	"context"
	"time"

	"github.com/alecthomas/kong"
)

// RecURLCmd mints a signed URL of a recording's playlist.
type RecURLCmd struct {
	ID   string  `arg:"" help:"Recording id."`
	TTL  ttlFlag `name:"ttl" placeholder:"DURATION" help:"How long the URL plays: 30m, 2h, 7d (default: the control node's, 2h; never beyond the token's own expiry)."`
	JSON bool    `name:"json" help:"Print the URL and its expiry as a JSON object."`
}

// Help is the detail under the usage line.
func (*RecURLCmd) Help() string {
	return `Prints, alone on stdout, a signed URL of the recording's playlist that any
HLS player plays as it is, without a token, until it expires: a way to hand
a recording to someone without an account.

Examples:

    lmx rec url 0190f3a2-7c4e-7b1a-9d2e-5f6a7b8c9d0e
    lmx rec url "$id" --ttl 7d --json
    ffplay "$(lmx rec url "$id")"`
}

// Run mints the URL.
func (c *RecURLCmd) Run(ctx context.Context, client Client, out Stdout, t Timing, kctx *kong.Context) error {
	g, err := client.RecordingGrant(ctx, c.ID, time.Duration(c.TTL))
	if err != nil {
		return recordingError(c.ID, err)
	}
	return writeGrant(out, kctx.Stderr, g, c.JSON, t.Now())
}
