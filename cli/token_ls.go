package cli

import (
	"context"
	"fmt"

	"github.com/lmx-video/lmx/api"
)

// TokenLsCmd lists API tokens.
type TokenLsCmd struct {
	JSON bool `name:"json" help:"Print the tokens as a JSON list."`
}

// Help is the detail under the usage line.
func (*TokenLsCmd) Help() string {
	return `Lists the API tokens the control node knows: each one's role, how long ago
it was made and by which token, when it expires, when it was last used, and
whether it still works (active), ran out (expired) or was revoked. Secrets are
never shown again.

Examples:

    lmx token ls
    lmx token ls --json | jq -r '.[] | select(.role == "admin") | .name'`
}

// Run lists the tokens.
func (c *TokenLsCmd) Run(ctx context.Context, client Client, out Stdout, t Timing) error {
	tokens, err := client.ListTokens(ctx)
	if err != nil {
		return err
	}
	if c.JSON {
		if tokens == nil {
			tokens = []api.Token{} // "[]", not "null", for scripts
		}
		return printJSON(out, sortTokens(tokens))
	}
	if len(tokens) == 0 {
		_, err := fmt.Fprintln(out, "no tokens yet: create one with lmx token create NAME --role viewer")
		return err
	}
	return writeTokens(out, tokens, t.Now())
}
