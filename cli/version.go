package cli

import (
	"cmp"
	"fmt"
	"runtime"
)

// BuildInfo says which lmx this is. cmd/lmx fills it from -ldflags and the
// Go build information; commands ask for it by type.
type BuildInfo struct {
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

// withDefaults fills what the caller left empty from the running binary, so
// a zero BuildInfo still prints something true.
func (b BuildInfo) withDefaults() BuildInfo {
	b.Version = cmp.Or(b.Version, "dev")
	b.Commit = cmp.Or(b.Commit, "unknown")
	b.GoVersion = cmp.Or(b.GoVersion, runtime.Version())
	b.OS = cmp.Or(b.OS, runtime.GOOS)
	b.Arch = cmp.Or(b.Arch, runtime.GOARCH)
	return b
}

// String is "lmx <version> (commit <c>, <go version>, <os/arch>)".
func (b BuildInfo) String() string {
	b = b.withDefaults()
	return fmt.Sprintf("lmx %s (commit %s, %s, %s/%s)", b.Version, b.Commit, b.GoVersion, b.OS, b.Arch)
}

// VersionCmd prints the version.
type VersionCmd struct {
	JSON bool `name:"json" help:"Print the version as a JSON object."`
}

// Help is the detail under the usage line.
func (*VersionCmd) Help() string {
	return `Prints this binary's version, commit, Go version and platform. It needs no
control node. Include it in bug reports.

Examples:

    lmx version
    lmx version --json`
}

// Run prints the version.
func (c *VersionCmd) Run(out Stdout, info BuildInfo) error {
	if c.JSON {
		return printJSON(out, info.withDefaults())
	}
	_, err := fmt.Fprintln(out, info)
	return err
}
