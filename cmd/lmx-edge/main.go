// Command lmx-edge is the lmx edge agent alone, small enough for a
// Raspberry Pi: it links neither the broker, SQLite, MinIO nor the TUI.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/alecthomas/kong"

	"github.com/lmx-video/lmx/edged"
	"github.com/lmx-video/lmx/internal/buildinfo"
	"github.com/lmx-video/lmx/internal/config"
)

// Set at release time, as for cmd/lmx:
//
//	go build -ldflags "-X main.version=v1.2.3 -X main.commit=$(git rev-parse --short HEAD)"
var version, commit = "dev", ""

// defaultConfigFile is the configuration file read when --config is not
// given and it exists: the lmx-edge package's.
const defaultConfigFile = "/etc/lmx/edged.yaml"

// configFile is defaultConfigFile, but where tests point it.
var configFile = defaultConfigFile

type cli struct {
	edged.Config `embed:""`
	LogLevel     string           `name:"log-level" env:"LMX_LOG_LEVEL" default:"info" enum:"debug,info,warn,error" help:"Log level (debug, info, warn, error)."`
	Version      kong.VersionFlag `name:"version" help:"Print the version and exit."`
	config.Flags `embed:""`
}

// Exit codes: a mistyped command line (2) is told from a failed run (1).
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// exitRequest is how kong's own exits (after --help, --version) unwind to
// run instead of ending the process from inside the parser.
type exitRequest int

// run runs the edge agent with the command line args until ctx ends and
// returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			req, ok := r.(exitRequest)
			if !ok {
				panic(r)
			}
			code = int(req)
		}
	}()
	info := buildinfo.Read(version, commit)
	var c cli
	parser, err := kong.New(&c,
		kong.Name("lmx-edge"),
		kong.Description("lmx edge agent: takes HLS pushed by ffmpeg (POST /v1/playlist) and forwards it to an lmx control node it dials out to."),
		kong.Vars{"version": "lmx-edge " + info.String(), "config_file": configFile},
		kong.UsageOnError(),
		kong.Writers(stdout, stderr),
		kong.Exit(func(code int) { panic(exitRequest(code)) }),
	)
	if err != nil {
		fmt.Fprintln(stderr, "lmx-edge:", err)
		return exitUsage
	}
	if _, err := parser.Parse(args); err != nil {
		parser.Errorf("%s", err)
		return exitUsage
	}
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.LogLevel))
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if err := edged.RunMain(ctx, c.Config, logger, stdout, info.Version); err != nil {
		fmt.Fprintln(stderr, "lmx-edge:", err)
		return exitError
	}
	return exitOK
}
