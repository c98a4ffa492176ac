package edged

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
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
	// Loopback: ffmpeg pushes from the machine it writes segments on.
	if got, want := flags["listen"].Default, "127.0.0.1:"+strconv.Itoa(netaddr.EdgeIngestPort); got != want {
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
		c := DefaultConfig()
		c.Name, c.Controld, c.AllowDirs = "e1", controld, []string{t.TempDir()}
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		if got := [2]string{c.MQTT, c.Ingest}; got != want {
			t.Errorf("--controld %s: mqtt, ingest = %q, want %q", controld, got, want)
		}
	}
}

// TestDefaultConfigMatchesFlags keeps DefaultConfig and the kong defaults in
// the struct tags in step: `lmx edged` with only the flags that have no
// default and a program that embeds an edge from DefaultConfig run the same
// edge.
func TestDefaultConfigMatchesFlags(t *testing.T) {
	var flags struct {
		Config `embed:""`
	}
	p, err := kong.New(&flags, kong.Exit(func(int) { t.Fatal("kong exited") }))
	if err != nil {
		t.Fatal(err)
	}
	// The environment of the test run must not set flags.
	for _, f := range p.Model.Flags {
		for _, env := range f.Envs {
			t.Setenv(env, "") // restored after the test
			os.Unsetenv(env)
		}
	}
	dir := t.TempDir()
	// kong runs Validate on the parsed flags; do the same to the defaults.
	if _, err := p.Parse([]string{"--name", "e1", "--controld", "ctl.example", "--allow-dir", dir}); err != nil {
		t.Fatal(err)
	}
	got := DefaultConfig()
	got.Name, got.Controld, got.AllowDirs = "e1", "ctl.example", []string{dir}
	if err := got.Validate(); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, flags.Config) {
		t.Fatalf("DefaultConfig() = %+v\nkong defaults  = %+v", got, flags.Config)
	}
}

func TestConfigValidate(t *testing.T) {
	dir := t.TempDir()
	valid := func() Config {
		c := DefaultConfig()
		c.Name, c.Controld, c.AllowDirs = "e1", "ctl.example", []string{dir}
		return c
	}
	c := DefaultConfig()
	if err := c.Validate(); !errors.Is(err, ErrNoControld) {
		t.Errorf("DefaultConfig alone: %v, want ErrNoControld", err)
	}
	c = valid()
	c.AllowDirs = nil
	if err := c.Validate(); err != nil {
		t.Errorf("no allowed dir (an edge that only pulls cameras): %v", err)
	}
	for name, bad := range map[string]func(*Config){
		"bad name":         func(c *Config) { c.Name = "a/b" },
		"ftp ingest":       func(c *Config) { c.Ingest = "ftp://ctl.example" },
		"missing dir":      func(c *Config) { c.AllowDirs = []string{filepath.Join(dir, "nope")} },
		"zero buffer":      func(c *Config) { c.Buffer = 0 },
		"tiny buffer":      func(c *Config) { c.BufferBytes = 1 << 10 },
		"zero playlist":    func(c *Config) { c.MaxPlaylistBytes = 0 },
		"negative segment": func(c *Config) { c.MaxSegmentBytes = -1 },
	} {
		c := valid()
		bad(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: %+v validated", name, c)
		}
	}
}
