package lmx_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportDirections keeps the package boundaries of docs/architecture.md
// true: the edge agent never pulls in the broker, SQLite, MinIO, the cache,
// the playback server or the TUI (cmd/lmx-edge's own test checks the whole
// binary), and the MQTT contract stays standard library only.
func TestImportDirections(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	heavy := []string{
		"github.com/mochi-mqtt/server",
		"modernc.org/sqlite",
		"github.com/minio/minio-go",
		"github.com/charmbracelet/bubbletea",
		"charm.land/bubbletea",
		"github.com/coocood/freecache",
		"github.com/prometheus/client_golang",
		"github.com/valyala/fasthttp",
	}
	rules := map[string][]string{
		"./edged":    heavy,
		"./broker":   {"github.com/", "golang.org/x/", "modernc.org/"},
		"./api":      {"github.com/", "golang.org/x/", "modernc.org/"},
		"./hls":      {"github.com/", "golang.org/x/", "modernc.org/"},
		"./sqlstore": {"github.com/lmx-video/lmx/controld", "github.com/lmx-video/lmx/edged", "github.com/mochi-mqtt/server"},
	}
	for pkg, banned := range rules {
		out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, b := range banned {
				if strings.HasPrefix(dep, b) && !strings.HasPrefix(dep, "github.com/lmx-video/lmx") || (strings.HasPrefix(b, "github.com/lmx-video/") && strings.HasPrefix(dep, b)) {
					t.Errorf("%s depends on %s (banned: %s)", pkg, dep, b)
				}
			}
		}
	}
}
