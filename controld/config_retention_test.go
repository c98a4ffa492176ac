package controld

import (
	"testing"
	"time"

	"github.com/alecthomas/kong"

	"github.com/lmx-video/lmx/internal/days"
)

func TestRetentionFlags(t *testing.T) {
	var flags struct {
		Config `embed:""`
	}
	p, err := kong.New(&flags, kong.Exit(func(int) { t.Fatal("kong exited") }))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("LMX_DATA_DIR", t.TempDir())
	if _, err := p.Parse([]string{"--retain", "7d", "--retain-size", "200GiB", "--record-chunk", "15m"}); err != nil {
		t.Fatal(err)
	}
	if flags.Retain.D() != 7*days.Day || flags.RetainSize != 200<<30 || flags.RecordChunk.D() != 15*time.Minute {
		t.Errorf("parsed: retain %s, size %s, chunk %s", flags.Retain, flags.RetainSize, flags.RecordChunk)
	}
	for _, bad := range []func(*Config){
		func(c *Config) { c.RecordChunk = days.Duration(time.Second) },
		func(c *Config) { c.RecordChunk = days.Duration(48 * time.Hour) },
		func(c *Config) { c.Retain = -1 },
		func(c *Config) { c.RetainSize = -1 },
		func(c *Config) { c.RetentionEvery = days.Duration(time.Millisecond) },
	} {
		c := DefaultConfig()
		c.DataDir = t.TempDir()
		bad(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("retain %s, size %s, chunk %s, every %s: validated", c.Retain, c.RetainSize, c.RecordChunk, c.RetentionEvery)
		}
	}
	if _, err := p.Parse([]string{"--retain", "a week"}); err == nil {
		t.Error("--retain 'a week' parsed")
	}
}
