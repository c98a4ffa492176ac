package cli

import (
	"fmt"

	"github.com/lmx-video/lmx/internal/buildinfo"
)

// BuildInfo says which lmx this is. cmd/lmx reads it with buildinfo.Read
// (from -ldflags and the Go build information); commands ask for it by type.
type BuildInfo = buildinfo.Info

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
		return printJSON(out, info.WithDefaults())
	}
	_, err := fmt.Fprintf(out, "lmx %s\n", info)
	return err
}
