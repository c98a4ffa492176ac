package edged

import (
	"fmt"
	"strings"
	"testing"

	"github.com/alecthomas/kong"

	"github.com/lmx-video/lmx/internal/netaddr"
)

// flagsByName is the kong model of Config's flags, as `lmx edged` and
// `lmx-edge` build it.
func flagsByName(t *testing.T) map[string]*kong.Flag {
	t.Helper()
	var flags struct {
		Config `embed:""`
	}
	p, err := kong.New(&flags, kong.Exit(func(int) { t.Fatal("kong exited") }))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*kong.Flag{}
	for _, f := range p.Model.Flags {
		out[f.Name] = f
	}
	return out
}

// TestFlagPortsAreNetaddrs keeps the ports written in the struct tags (which
// must be constant strings) equal to netaddr's, which the code uses.
func TestFlagPortsAreNetaddrs(t *testing.T) {
	flags := flagsByName(t)
	if got, want := flags["listen"].Default, netaddr.Listen(netaddr.EdgeIngestPort); got != want {
		t.Errorf("--listen default %q, want %q", got, want)
	}
	for name, wants := range map[string][]string{
		"controld": {fmt.Sprintf("mqtt://HOST:%d", netaddr.MQTTPort), fmt.Sprintf("http://HOST:%d", netaddr.PlaybackPort)},
		"mqtt":     {fmt.Sprintf("mqtt://host:%d", netaddr.MQTTPort)},
		"ingest":   {fmt.Sprintf("http://host:%d", netaddr.PlaybackPort)},
	} {
		for _, w := range wants {
			if !strings.Contains(flags[name].Help, w) {
				t.Errorf("--%s help %q does not say %q", name, flags[name].Help, w)
			}
		}
	}

	// What --controld's help says it implies is what Validate does.
	for controld, want := range map[string][2]string{
		"ctl.example":      {fmt.Sprintf("mqtt://ctl.example:%d", netaddr.MQTTPort), fmt.Sprintf("http://ctl.example:%d", netaddr.PlaybackPort)},
		"ctl.example:1999": {"mqtt://ctl.example:1999", fmt.Sprintf("http://ctl.example:%d", netaddr.PlaybackPort)},
	} {
		c := Config{Name: "e1", Controld: controld, AllowDirs: []string{t.TempDir()}, Buffer: 1, BufferBytes: 1 << 20, MaxPlaylistBytes: 1, MaxSegmentBytes: 1}
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		if got := [2]string{c.MQTT, c.Ingest}; got != want {
			t.Errorf("--controld %s: mqtt, ingest = %q, want %q", controld, got, want)
		}
	}
}
