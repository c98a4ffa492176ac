// Package buildinfo says which build of lmx a binary is: what -ldflags set
// at release time, completed from what the Go toolchain recorded, so
// `go install …@v1.2.3` and a plain `go build` in a checkout say something
// useful too. cmd/lmx and cmd/lmx-edge both use it.
package buildinfo

import (
	"cmp"
	"fmt"
	"runtime"
	"runtime/debug"
)

// Info is one build's identity.
type Info struct {
	// Version is the release, "dev" for a local build.
	Version string `json:"version"`
	// Commit is the VCS revision, empty when unknown.
	Commit string `json:"commit"`
	// GoVersion is the Go toolchain that built the binary.
	GoVersion string `json:"go_version"`
	// OS and Arch are the platform the binary runs on.
	OS   string `json:"os"`
	Arch string `json:"arch"`
}

// Read is the running binary's Info. version and commit are what the
// binary's -ldflags set, e.g.
//
//	go build -ldflags "-X main.version=v1.2.3 -X main.commit=$(git rev-parse --short HEAD)"
//
// ("dev" or empty when not set): a version comes from the module version
// otherwise, a commit from the VCS revision the toolchain stamped.
func Read(version, commit string) Info {
	bi, _ := debug.ReadBuildInfo()
	return fromBuild(version, commit, bi)
}

// fromBuild is Read with the build information given (nil when unknown).
func fromBuild(version, commit string, bi *debug.BuildInfo) Info {
	info := Info{Version: version, Commit: commit, GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
	if bi == nil {
		return info.WithDefaults()
	}
	info.GoVersion = cmp.Or(bi.GoVersion, info.GoVersion)
	if (info.Version == "" || info.Version == "dev") && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
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
	return info.WithDefaults()
}

// WithDefaults fills what is empty from the running binary, so a zero Info
// still prints something true: version "dev", commit "unknown".
func (i Info) WithDefaults() Info {
	i.Version = cmp.Or(i.Version, "dev")
	i.Commit = cmp.Or(i.Commit, "unknown")
	i.GoVersion = cmp.Or(i.GoVersion, runtime.Version())
	i.OS = cmp.Or(i.OS, runtime.GOOS)
	i.Arch = cmp.Or(i.Arch, runtime.GOARCH)
	return i
}

// String is "<version> (commit <c>, <go version>, <os/arch>)"; a binary
// prints it after its name.
func (i Info) String() string {
	i = i.WithDefaults()
	return fmt.Sprintf("%s (commit %s, %s, %s/%s)", i.Version, i.Commit, i.GoVersion, i.OS, i.Arch)
}
