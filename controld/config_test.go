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
	// The management API and MQTT listen on every interface: TLS by default.
	if !filepath.IsAbs(c.DataDir) || !strings.HasPrefix(c.Recordings, "file:///") || c.PublicURL != "https://127.0.0.1:8081" || c.MQTTListen != ":8883" {
		t.Fatalf("defaults: data %q, recordings %q, public %q", c.DataDir, c.Recordings, c.PublicURL)
	}
	for _, bad := range []func(*Config){
		func(c *Config) { c.APIListen = "8080" },
		func(c *Config) { c.CacheSize = 1 << 20 },
		func(c *Config) { c.LiveSegments = 2 },
		func(c *Config) { c.MaxSegmentBytes = 0 },
		func(c *Config) { c.Auth = "off" },
		func(c *Config) { c.TLS = "maybe" },
		func(c *Config) { c.TLSCert = "cert.pem" },
		func(c *Config) { c.TLSCert, c.TLSKey, c.TLS = "cert.pem", "key.pem", "off" },
	} {
		c2 := DefaultConfig()
		c2.DataDir = t.TempDir()
		bad(&c2)
		if err := c2.Validate(); err == nil {
			t.Errorf("%+v validated", c2)
		}
	}
}

// TestUseTLS: TLS unless every listener is on loopback, --auth none is
// plain as LiveMix was, and the operator's flags win.
func TestUseTLS(t *testing.T) {
	loop := func(c *Config) { c.APIListen, c.VODListen, c.MQTTListen = "127.0.0.1:1", "[::1]:2", "localhost:3" }
	for _, c := range []struct {
		name   string
		change func(*Config)
		tls    bool
		mqtt   string
	}{
		{"defaults: every interface", func(*Config) {}, true, ":8883"},
		{"all loopback", loop, false, "localhost:3"},
		{"loopback but one", func(c *Config) { loop(c); c.VODListen = "0.0.0.0:2" }, true, "localhost:3"},
		{"--auth none", func(c *Config) { c.Auth = "none" }, false, ":1883"},
		{"--auth none with a certificate", func(c *Config) { c.Auth, c.TLSCert, c.TLSKey = "none", "c", "k" }, true, ":8883"},
		{"--tls off", func(c *Config) { c.TLS = "off" }, false, ":1883"},
		{"--tls on, loopback", func(c *Config) { loop(c); c.TLS = "on" }, true, "localhost:3"},
		{"explicit MQTT port kept", func(c *Config) { c.MQTTListen = ":1883" }, true, ":1883"},
	} {
		cfg := DefaultConfig()
		cfg.DataDir = t.TempDir()
		c.change(&cfg)
		if err := cfg.Validate(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		scheme := "http://"
		if c.tls {
			scheme = "https://"
		}
		if cfg.UseTLS() != c.tls || !strings.HasPrefix(cfg.PublicURL, scheme) || cfg.MQTTListen != c.mqtt {
			t.Errorf("%s: TLS %v, public URL %s, MQTT %s; want TLS %v, %s…, MQTT %s", c.name, cfg.UseTLS(), cfg.PublicURL, cfg.MQTTListen, c.tls, scheme, c.mqtt)
		}
	}
}
