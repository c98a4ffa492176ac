package cli

import (
	"context"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/alecthomas/kong"

	"github.com/lmx-video/lmx/api"
)

// What a command's Run method may ask for, by type:
//
//	context.Context  cancelled on SIGINT/SIGTERM
//	*slog.Logger     to stderr, per --log-level and --log-format
//	Stdout           where results go
//	Client           the management API, made on first use (connect.go)
//	Timing           the clock and poll intervals (tests shorten them)
//	BuildInfo        this binary's version
//	*dial            how the Client is reached (the resolved connection)
//
// kong adds *kong.Context and the command structs on the path (*Root for the
// global flags).
//
// The logger and the client are bound as providers, not values: they depend
// on flags only known after parsing, and a command that never talks to a
// server (version, completion, --help) must not fail on a bad --server. Each
// provider runs at most once per process.

// Stdout is where a command writes its result. It is a type of its own, not a
// bare io.Writer, so a Run method asking for it cannot be handed stderr, and
// so it can say whether it is a terminal.
type Stdout struct {
	io.Writer
	// Terminal is true when the output is an interactive terminal, where
	// --watch may redraw the screen with ANSI escapes.
	Terminal bool
}

// Timing is how commands see time: what "now" is when they print ages, and
// how often they poll. It is bound rather than read from package time so
// tests can freeze the clock and poll without sleeping.
type Timing struct {
	// Now returns the current time.
	Now func() time.Time
	// Poll is how often stream on/off asks whether the edge confirmed.
	Poll time.Duration
	// Redraw is how often --watch redraws.
	Redraw time.Duration
}

// env is what run takes from the outside world besides argv and the writers.
// Main uses defaultEnv; tests swap in a fake client, a fast clock and a
// control node data dir of their own.
type env struct {
	newClient  func(c connection) (Client, error)
	local      localNode
	timing     Timing
	isTerminal func(w io.Writer) bool
}

func defaultEnv() env {
	return env{
		newClient: func(c connection) (Client, error) {
			return newAPIClient(c)
		},
		local: readLocal(os.Getenv, api.SystemDataDir),
		timing: Timing{
			Now:    time.Now,
			Poll:   250 * time.Millisecond,
			Redraw: 2 * time.Second,
		},
		isTerminal: isTerminal,
	}
}

// isTerminal reports whether w is a character device, which is as close to
// "a terminal" as the standard library gets. /dev/null passes too; escapes
// written there do no harm.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// newAPIClient is the real client for c.
func newAPIClient(c connection) (*api.Client, error) {
	return api.NewClientWith(c.Server, api.ClientOptions{Token: c.Token, CAFile: c.CAFile})
}

// bindings is the one kong option that makes every bound type available.
func bindings(ctx context.Context, d *dial, stdout, stderr io.Writer, version BuildInfo) kong.Option {
	root, e := d.root, d.env
	return kong.OptionFunc(func(k *kong.Kong) error {
		opts := []kong.Option{
			kong.BindTo(ctx, (*context.Context)(nil)),
			kong.Bind(Stdout{Writer: stdout, Terminal: e.isTerminal(stdout)}, e.timing, version, d),
			kong.BindSingletonProvider(func() *slog.Logger {
				return newLogger(stderr, root.LogLevel, root.LogFormat)
			}),
			kong.BindSingletonProvider(d.client),
		}
		for _, o := range opts {
			if err := o.Apply(k); err != nil {
				return err
			}
		}
		return nil
	})
}
