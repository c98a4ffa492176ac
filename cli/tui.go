package cli

import (
	"context"
	"errors"
	"fmt"
	"os"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/internal/netaddr"
	"github.com/lmx-video/lmx/tui"
)

// TuiCmd runs the operator dashboard.
type TuiCmd struct {
	apiFlags
	NoColor bool `name:"no-color" help:"Draw without colours (also when NO_COLOR is set)."`
}

// Help is the detail under the usage line.
func (*TuiCmd) Help() string {
	return fmt.Sprintf(`A live dashboard of the whole system: edges (online or not, version,
address, last heartbeat), sources (streaming, bitrate with a sparkline of the
last minutes, how fresh live is, playlist requests per minute, recording) and
recordings (active ones growing, recent finished ones).

It follows the control node's event stream (GET /v1/events) and refetches
only what an event changes; when the control node restarts it says
"reconnecting" and recovers by itself.

Keys: tab or 1/2/3 pick a panel, ↑/↓ select, a adds a source, s turns
streaming on or off, r starts a recording (asks since when, -30s by default, and an alias), x
stops the selected recording, c shows the playback URL and sends it to the
clipboard (OSC 52), / filters by name, ? lists every key, q quits.

Examples:

    lmx tui
    lmx tui --server http://control.example.net:%d
    lmx tui --no-color`, netaddr.APIPort)
}

// Run shows the dashboard until q or Ctrl-C, then restores the terminal.
func (c *TuiCmd) Run(ctx context.Context, client Client, d *dial, out Stdout) error {
	if !out.Terminal {
		return errors.New("lmx tui needs a terminal, and stdout is not one: for a table that redraws, try lmx source ls --watch")
	}
	// The dashboard also follows the event stream, which the commands'
	// Client does not offer: use the bound client when it can (it is an
	// *api.Client outside tests), else make one for the same connection,
	// token and CA included, so requests and the event stream both carry
	// them.
	conn, err := d.connection()
	if err != nil {
		return err
	}
	tc, ok := client.(tui.Client)
	if !ok {
		ac, err := newAPIClient(conn)
		if err != nil {
			return err
		}
		tc = ac
	}
	server := conn.Server
	if ac, ok := tc.(*api.Client); ok {
		server = ac.Base()
	}
	m := tui.New(tc, tui.Options{
		Server:  server,
		NoColor: c.NoColor || os.Getenv("NO_COLOR") != "",
		Output:  out.Writer,
		Context: ctx,
	})
	// Signals are Main's: its context ends on SIGINT and SIGTERM, which
	// ends the program and restores the terminal. bubbletea's own handler
	// would race it: on SIGTERM both fire, the context stops the event
	// loop, and bubbletea's handler then blocks forever sending a QuitMsg
	// nobody reads, hanging the exit (bubbletea v1.3.10, tea.go:303).
	p := tea.NewProgram(m, tea.WithAltScreen(), tea.WithContext(ctx), tea.WithOutput(out.Writer), tea.WithoutSignalHandler())
	if _, err := p.Run(); err != nil {
		if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
			return nil // SIGTERM (or a Ctrl-C that reached the process): a normal end
		}
		return err
	}
	return nil
}
