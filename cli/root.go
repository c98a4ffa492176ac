// Package cli is the lmx command line: kong command structs whose Run methods
// ask for what they need by type (see bind.go), and Main, the one place that
// turns their errors into an exit code.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/alecthomas/kong"
)

// Root is the whole command tree. Its flags are global: kong accepts them
// before or after the command words.
type Root struct {
	Server    string `env:"LMX_SERVER" placeholder:"URL" config:"-" help:"Address of the control node's management API (default: the control node on this machine, from its local.json, else ${default_server})."`
	LogLevel  string `env:"LMX_LOG_LEVEL" enum:"debug,info,warn,error" default:"info" help:"Log level, one of ${enum}."`
	LogFormat string `env:"LMX_LOG_FORMAT" enum:"text,json" default:"text" help:"Log format, one of ${enum}."`

	Controld ControldCmd `cmd:"" help:"Run the control node (management API, playback, embedded MQTT broker)."`
	Edged    EdgedCmd    `cmd:"" help:"Run an edge agent next to the cameras."`
	Demo     DemoCmd     `cmd:"" help:"Run a control node, an edge and a test stream on this machine."`

	Source SourceCmd `cmd:"" help:"Manage video sources."`
	Rec    RecCmd    `cmd:"" help:"Record sources; list, show and export recordings."`
	Edge   EdgeCmd   `cmd:"" help:"Add, inspect and revoke edge agents."`
	Token  TokenCmd  `cmd:"" help:"Create, list and revoke API tokens."`
	Tui    TuiCmd    `cmd:"" help:"Watch the whole system live and act on it from the keyboard."`

	Version    VersionCmd    `cmd:"" help:"Print the lmx version."`
	Completion CompletionCmd `cmd:"" help:"Print a shell completion script."`
}

// Exit codes. Scripts tell a mistyped command (2) from a failed one (1).
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// description is what lmx is, in the one line the top of --help shows.
const description = "lmx relays HLS from cameras on private networks, through edge agents, to a control node that serves live and recorded playback."

// Main runs the lmx command line and returns the process exit code; it is the
// only place that decides one. cmd/lmx passes the result to os.Exit.
func Main(args []string, stdout, stderr io.Writer, version BuildInfo) int {
	// The first Ctrl-C cancels ctx so commands stop cleanly (a daemon drains,
	// --watch ends); once it has, a second Ctrl-C kills the process as usual.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop()
	}()
	return run(ctx, args, stdout, stderr, version, defaultEnv())
}

// exitRequest is how kong's own exits (after --help) unwind to run instead
// of ending the process from inside the parser.
type exitRequest int

func run(ctx context.Context, args []string, stdout, stderr io.Writer, version BuildInfo, e env) (code int) {
	defer func() {
		if r := recover(); r != nil {
			req, ok := r.(exitRequest)
			if !ok {
				panic(r)
			}
			code = int(req)
		}
	}()

	d := &dial{root: &Root{}, env: e}
	parser, err := newParser(ctx, d, stdout, stderr, version)
	if err != nil {
		// The command tree itself is wrong: a bug, caught by any test.
		fmt.Fprintf(stderr, "lmx: %v\n", err)
		return exitError
	}
	kctx, err := parser.Parse(args)
	if err != nil {
		var perr *kong.ParseError
		if errors.As(err, &perr) && perr.Context != nil {
			// Usage goes to stderr: stdout is for results a script may capture.
			parser.Stdout = stderr
			_ = perr.Context.PrintUsage(false)
			fmt.Fprintln(stderr)
		}
		fmt.Fprintf(stderr, "lmx: %v\n", err)
		return exitUsage
	}
	if err := kctx.Run(); err != nil {
		if ctx.Err() != nil && errors.Is(err, context.Canceled) {
			fmt.Fprintln(stderr, "lmx: interrupted")
			return exitError
		}
		fmt.Fprintf(stderr, "lmx: %v\n", d.explain(err))
		return exitError
	}
	return exitOK
}

// newParser builds the kong parser for d.root with every binding the
// commands may ask for. Tests use it to walk the command tree.
func newParser(ctx context.Context, d *dial, stdout, stderr io.Writer, version BuildInfo) (*kong.Kong, error) {
	return kong.New(d.root,
		kong.Name("lmx"),
		kong.Description(description),
		kong.UsageOnError(),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
		kong.Vars{"default_server": defaultServer, "controld_config_file": controldConfigFile, "edged_config_file": edgedConfigFile},
		kong.Writers(stdout, stderr),
		kong.Exit(func(code int) { panic(exitRequest(code)) }),
		bindings(ctx, d, stdout, stderr, version),
	)
}
