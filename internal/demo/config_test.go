package demo

import (
	"testing"

	"github.com/alecthomas/kong"

	"github.com/lmx-video/lmx/internal/netaddr"
)

// TestFlagPortsAreNetaddrs keeps the default ports in the struct tags (which
// must be constant strings) equal to netaddr's, the daemons' defaults.
func TestFlagPortsAreNetaddrs(t *testing.T) {
	var flags struct {
		Config `embed:""`
	}
	p, err := kong.New(&flags, kong.Exit(func(int) { t.Fatal("kong exited") }))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Parse(nil); err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string][2]int{
		"api-port":  {flags.APIPort, netaddr.APIPort},
		"vod-port":  {flags.VODPort, netaddr.PlaybackPort},
		"mqtt-port": {flags.MQTTPort, netaddr.MQTTPort},
		"edge-port": {flags.EdgePort, netaddr.EdgeIngestPort},
	} {
		if got[0] != got[1] {
			t.Errorf("--%s default %d, want %d", name, got[0], got[1])
		}
	}
}
