package controld

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/alecthomas/kong"
)

// TestDefaultConfigMatchesFlags keeps DefaultConfig and the kong defaults in
// the struct tags in step: `lmx controld` with no flags and a program that
// embeds a control node from DefaultConfig run the same node.
func TestDefaultConfigMatchesFlags(t *testing.T) {
	var flags struct {
		Config `embed:""`
	}
	p, err := kong.New(&flags, kong.Exit(func(int) { t.Fatal("kong exited") }))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("LMX_DATA_DIR", "")
	if _, err := p.Parse(nil); err != nil {
		t.Fatal(err)
	}
	// kong runs Validate on the parsed flags; do the same to the defaults.
	got := DefaultConfig()
	if err := got.Validate(); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, flags.Config) {
		t.Fatalf("DefaultConfig() = %+v\nkong defaults  = %+v", got, flags.Config)
	}
}

func TestConfigValidate(t *testing.T) {
	c := DefaultConfig()
	c.DataDir, c.VODListen = "rel/data", "127.0.0.1:8081"
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if !filepath.IsAbs(c.DataDir) || !strings.HasPrefix(c.Recordings, "file:///") || c.PublicURL != "http://127.0.0.1:8081" {
		t.Fatalf("defaults: data %q, recordings %q, public %q", c.DataDir, c.Recordings, c.PublicURL)
	}
	for _, bad := range []func(*Config){
		func(c *Config) { c.APIListen = "8080" },
		func(c *Config) { c.CacheSize = 1 << 20 },
		func(c *Config) { c.LiveSegments = 2 },
		func(c *Config) { c.MaxSegmentBytes = 0 },
	} {
		c2 := DefaultConfig()
		c2.DataDir = t.TempDir()
		bad(&c2)
		if err := c2.Validate(); err == nil {
			t.Errorf("%+v validated", c2)
		}
	}
}
