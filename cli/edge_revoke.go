package cli

import (
	"context"
	"fmt"
)

// EdgeRevokeCmd cuts an edge off.
type EdgeRevokeCmd struct {
	Name string `arg:"" help:"Edge name."`
	JSON bool   `name:"json" help:"Print the edge as a JSON object."`
}

// Help is the detail under the usage line.
func (*EdgeRevokeCmd) Help() string {
	return `Cuts an edge off: the control node closes its MQTT session and refuses its
uploads (401) from then on. Its sources stop being relayed. lmx edge restore
lets it back in with the credential it has; lmx edge add gives it a new one.

Examples:

    lmx edge revoke cam-gw-1
    lmx edge revoke cam-gw-1 --json`
}

// Run revokes the edge.
func (c *EdgeRevokeCmd) Run(ctx context.Context, client Client, out Stdout) error {
	e, err := client.RevokeEdge(ctx, c.Name)
	if err != nil {
		return edgeError(c.Name, err)
	}
	if c.JSON {
		return printJSON(out, e)
	}
	_, err = fmt.Fprintf(out, "revoked edge %s: it is disconnected and its uploads are refused; lmx edge restore %s lets it back in\n", c.Name, c.Name)
	return err
}
