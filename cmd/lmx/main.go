// Command lmx is the operator's tool and the control node of lmx: see
// `lmx --help`.
package main

import (
	"os"
	"runtime"
	"runtime/debug"

	"github.com/lmx-video/lmx/cli"
)

// Set at release time:
//
//	go build -ldflags "-X main.version=v1.2.3 -X main.commit=$(git rev-parse --short HEAD)"
var version, commit = "dev", ""

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr, buildInfo()))
}

// buildInfo completes what -ldflags set from what the Go toolchain recorded,
// so `go install …@v1.2.3` and a plain `go build` in a checkout both say
// something useful.
func buildInfo() cli.BuildInfo {
	info := cli.BuildInfo{
		Version:   version,
		Commit:    commit,
		GoVersion: runtime.Version(),
		OS:        runtime.GOOS,
		Arch:      runtime.GOARCH,
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return info
	}
	info.GoVersion = bi.GoVersion
	if info.Version == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		info.Version = bi.Main.Version
	}
	if info.Commit == "" {
		var revision string
		var modified bool
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				revision = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if len(revision) > 12 {
			revision = revision[:12]
		}
		if revision != "" && modified {
			revision += "-dirty"
		}
		info.Commit = revision
	}
	return info
}
