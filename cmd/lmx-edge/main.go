// Command lmx-edge is the lmx edge agent alone, small enough for a
// Raspberry Pi: it links neither the broker, SQLite, MinIO nor the TUI.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/alecthomas/kong"

	"github.com/lmx-video/lmx/edged"
	"github.com/lmx-video/lmx/internal/buildinfo"
)

// Set at release time, as for cmd/lmx:
//
//	go build -ldflags "-X main.version=v1.2.3 -X main.commit=$(git rev-parse --short HEAD)"
var version, commit = "dev", ""

type cli struct {
	edged.Config `embed:""`
	LogLevel     string           `name:"log-level" env:"LMX_LOG_LEVEL" default:"info" enum:"debug,info,warn,error" help:"Log level (debug, info, warn, error)."`
	Version      kong.VersionFlag `name:"version" help:"Print the version and exit."`
}

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	info := buildinfo.Read(version, commit)
	var c cli
	parser, err := kong.New(&c,
		kong.Name("lmx-edge"),
		kong.Description("lmx edge agent: takes HLS pushed by ffmpeg (POST /v1/playlist) and forwards it to an lmx control node it dials out to."),
		kong.Vars{"version": "lmx-edge " + info.String()},
		kong.UsageOnError(),
	)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lmx-edge:", err)
		return 2
	}
	if _, err := parser.Parse(args); err != nil {
		parser.Errorf("%s", err)
		return 2
	}
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.LogLevel))
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := edged.RunMain(ctx, c.Config, logger, os.Stdout, info.Version); err != nil {
		fmt.Fprintln(os.Stderr, "lmx-edge:", err)
		return 1
	}
	return 0
}
