package cli

import (
	"context"
	"fmt"
)

// TokenRevokeCmd revokes an API token.
type TokenRevokeCmd struct {
	Name string `arg:"" help:"Token name."`
	JSON bool   `name:"json" help:"Print the revoked token as a JSON object."`
}

// Help is the detail under the usage line.
func (*TokenRevokeCmd) Help() string {
	return `Revokes an API token: from then on the control node refuses it (401). The
token stays in lmx token ls as revoked; a new one can be made with another
name.

Examples:

    lmx token revoke ci
    lmx token revoke night-shift --json`
}

// Run revokes the token.
func (c *TokenRevokeCmd) Run(ctx context.Context, client Client, out Stdout) error {
	tok, err := client.RevokeToken(ctx, c.Name)
	if err != nil {
		return tokenError(c.Name, err)
	}
	if c.JSON {
		return printJSON(out, tok)
	}
	_, err = fmt.Fprintf(out, "revoked token %s\n", c.Name)
	return err
}
