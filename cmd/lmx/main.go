// Command lmx is the operator's tool and the control node of lmx: see
// `lmx --help`.
package main

import (
	"os"

	"github.com/lmx-video/lmx/cli"
	"github.com/lmx-video/lmx/internal/buildinfo"
)

// Set at release time:
//
//	go build -ldflags "-X main.version=v1.2.3 -X main.commit=$(git rev-parse --short HEAD)"
var version, commit = "dev", ""

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr, buildinfo.Read(version, commit)))
}
