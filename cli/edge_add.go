package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/alecthomas/kong"

	"github.com/lmx-video/lmx/api"
)

// EdgeAddCmd registers an edge and prints how to start it.
type EdgeAddCmd struct {
	Name string  `arg:"" help:"Edge name: what lmx edge ls and the sources it pushes will call it."`
	TTL  ttlFlag `name:"ttl" placeholder:"DURATION" help:"How long the join token can be used: 10m, 1h, 2d (default: the control node's, 1h)."`
	Host string  `placeholder:"HOST" help:"How the edge reaches the control node (default: its first --hostname, else the host this command reached it by)."`
	JSON bool    `name:"json" help:"Print the edge, join token, expiry and command as a JSON object."`
}

// Help is the detail under the usage line.
func (*EdgeAddCmd) Help() string {
	return `Registers an edge with the control node and prints, alone on stdout, the
command line that starts it: run that line on the edge's machine. It holds a
join token that works once, before it expires; the edge trades it for a
credential of its own and keeps that. A revoked edge can be added again for a
new join token.

Examples:

    lmx edge add cam-gw-1
    lmx edge add cam-gw-2 --ttl 24h --host control.example.net
    lmx edge add cam-gw-3 --json | jq -r .join_token`
}

// Run registers the edge.
func (c *EdgeAddCmd) Run(ctx context.Context, client Client, out Stdout, t Timing, kctx *kong.Context) error {
	reply, err := client.AddEdge(ctx, api.NewEdge{Name: c.Name, TTLSeconds: ttlSeconds(c.TTL), Host: c.Host})
	if err != nil {
		return fmt.Errorf("adding edge %q: %w", c.Name, err)
	}
	if c.JSON {
		return printJSON(out, struct {
			Edge      api.Edge  `json:"edge"`
			JoinToken string    `json:"join_token"`
			ExpiresAt time.Time `json:"expires_at"`
			Command   string    `json:"command"`
		}{reply.Edge, reply.JoinToken, reply.ExpiresAt, reply.Command})
	}
	if reply.Command == "" {
		return fmt.Errorf("adding edge %q: the control node answered without the command that starts it", c.Name)
	}
	if _, err := fmt.Fprintln(out, reply.Command); err != nil {
		return err
	}
	// The rest is for people, on stderr, so $(lmx edge add …) is the command.
	name := reply.Edge.Name
	if name == "" {
		name = c.Name
	}
	fmt.Fprintf(kctx.Stderr, "added edge %s: run the line above on its machine\n", name)
	if !reply.ExpiresAt.IsZero() {
		fmt.Fprintf(kctx.Stderr, "its join token works once, until %s (%s)\n",
			reply.ExpiresAt.Local().Format(localTime), expiry(reply.ExpiresAt, t.Now()))
	} else {
		fmt.Fprintln(kctx.Stderr, "its join token works once")
	}
	return nil
}
