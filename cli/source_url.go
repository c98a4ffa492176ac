package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/alecthomas/kong"

	"github.com/lmx-video/lmx/api"
)

// SourceURLCmd mints a signed URL of a source's live playlist.
type SourceURLCmd struct {
	Source string  `arg:"" help:"Source id or name."`
	TTL    ttlFlag `name:"ttl" placeholder:"DURATION" help:"How long the URL plays: 30m, 2h, 1d (default: the control node's, 2h; never beyond the token's own expiry)."`
	JSON   bool    `name:"json" help:"Print the URL and its expiry as a JSON object."`
}

// Help is the detail under the usage line.
func (*SourceURLCmd) Help() string {
	return `Prints, alone on stdout, a signed URL of the source's live playlist that any
HLS player plays as it is, without a token, until it expires. A public source
(lmx source set --public) plays without one too.

Examples:

    lmx source url camera-0
    lmx source url camera-0 --ttl 30m --json
    ffplay "$(lmx source url camera-0)"`
}

// Run mints the URL.
func (c *SourceURLCmd) Run(ctx context.Context, client Client, out Stdout, t Timing, kctx *kong.Context) error {
	g, err := client.SourceGrant(ctx, c.Source, time.Duration(c.TTL))
	if err != nil {
		return sourceError(c.Source, err)
	}
	return writeGrant(out, kctx.Stderr, g, c.JSON, t.Now())
}

// writeGrant prints a signed URL: as JSON, or alone on stdout with when it
// expires on stderr, so $(lmx … url …) is the URL.
func writeGrant(out Stdout, stderr io.Writer, g api.Grant, asJSON bool, now time.Time) error {
	if asJSON {
		return printJSON(out, g)
	}
	if g.URL == "" {
		return fmt.Errorf("the control node answered without a URL")
	}
	if _, err := fmt.Fprintln(out, g.URL); err != nil {
		return err
	}
	if !g.ExpiresAt.IsZero() {
		fmt.Fprintf(stderr, "plays until %s (%s)\n", g.ExpiresAt.Local().Format(localTime), expiry(g.ExpiresAt, now))
	}
	return nil
}
