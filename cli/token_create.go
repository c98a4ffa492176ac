package cli

import (
	"context"
	"fmt"

	"github.com/alecthomas/kong"

	"github.com/lmx-video/lmx/api"
)

// TokenCreateCmd creates an API token.
type TokenCreateCmd struct {
	Name string  `arg:"" help:"Token name: 1–64 letters, digits, '-', '_' or '.' (unique)."`
	Role string  `required:"" enum:"admin,operator,viewer" placeholder:"ROLE" help:"What the token may do: viewer (read, mint playback URLs), operator (also change sources and recordings, make viewer and operator tokens) or admin (everything)."`
	TTL  ttlFlag `name:"ttl" placeholder:"DURATION" help:"How long the token works: 12h, 30d, 1d12h (default: until revoked)."`
	JSON bool    `name:"json" help:"Print the token and its secret as a JSON object."`
}

// Help is the detail under the usage line.
func (*TokenCreateCmd) Help() string {
	return `Creates an API token with a role and prints its secret alone on stdout, so a
script can keep it. The control node keeps only a hash: the secret is shown
this once. Pass it to lmx as --token or LMX_TOKEN, or to any HTTP client as
"Authorization: Bearer SECRET".

Examples:

    lmx token create ci --role viewer
    lmx token create night-shift --role operator --ttl 12h
    lmx token create backup-admin --role admin --ttl 30d --json
    TOKEN=$(lmx token create ci --role viewer) && LMX_TOKEN=$TOKEN lmx source ls`
}

// Run creates the token.
func (c *TokenCreateCmd) Run(ctx context.Context, client Client, out Stdout, t Timing, kctx *kong.Context) error {
	tok, secret, err := client.CreateToken(ctx, api.NewToken{Name: c.Name, Role: c.Role, TTLSeconds: ttlSeconds(c.TTL)})
	if err != nil {
		return fmt.Errorf("creating token %q: %w", c.Name, err)
	}
	if secret == "" {
		return fmt.Errorf("creating token %q: the control node answered without its secret", c.Name)
	}
	if c.JSON {
		err = printJSON(out, struct {
			Token  api.Token `json:"token"`
			Secret string    `json:"secret"`
		}{tok, secret})
	} else {
		_, err = fmt.Fprintln(out, secret)
	}
	if err != nil {
		return err
	}
	// The rest is for people, on stderr, so $(lmx token create …) is the secret.
	until := "until revoked"
	if !tok.ExpiresAt.IsZero() {
		until = "until " + tok.ExpiresAt.Local().Format(localTime) + " (" + expiry(tok.ExpiresAt, t.Now()) + ")"
	}
	fmt.Fprintf(kctx.Stderr, "created token %s (role %s), valid %s\n", tok.Name, tok.Role, until)
	fmt.Fprintln(kctx.Stderr, "its secret is shown this once: keep it now")
	return nil
}
