package controld

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	c := Config{DataDir: "rel/data", APIListen: ":8080", VODListen: "127.0.0.1:8081", MQTTListen: ":1883", CacheSize: 256 << 20, LiveSegments: 5, MaxSegmentBytes: 64 << 20}
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
		c2 := Config{DataDir: t.TempDir(), APIListen: ":8080", VODListen: ":8081", MQTTListen: ":1883", CacheSize: 256 << 20, LiveSegments: 5, MaxSegmentBytes: 64 << 20}
		bad(&c2)
		if err := c2.Validate(); err == nil {
			t.Errorf("%+v validated", c2)
		}
	}
}
