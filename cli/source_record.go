package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/alecthomas/kong"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/internal/days"
)

// Bounds of a continuous-recording chunk (the control node holds the API
// to the same).
const (
	minChunk = 10 * time.Second
	maxChunk = 24 * time.Hour
)

// chunkFlag is --record-chunk: a duration (1h, 15m, 1d), or default.
type chunkFlag struct {
	set bool
	d   time.Duration
}

// Decode implements kong.MapperValue.
func (f *chunkFlag) Decode(ctx *kong.DecodeContext) error {
	var s string
	if err := ctx.Scan.PopValueInto("duration", &s); err != nil {
		return err
	}
	if strings.EqualFold(strings.TrimSpace(s), "default") {
		*f = chunkFlag{set: true}
		return nil
	}
	d, err := days.Parse(s)
	if err != nil {
		return fmt.Errorf("%q is not a chunk length: write one such as 1h, 15m or 1d, or default", s)
	}
	if d < minChunk || d > maxChunk {
		return fmt.Errorf("%q: a chunk is between %s and %s", s, days.Format(minChunk), days.Format(maxChunk))
	}
	*f = chunkFlag{set: true, d: d}
	return nil
}

// seconds is the API's record_chunk_seconds (nil: unchanged; 0: the node's default).
func (f chunkFlag) seconds() *int {
	if !f.set {
		return nil
	}
	n := int(f.d / time.Second)
	return &n
}

// retainFlag is --retain: a duration (7d, 2w, 12h), forever, or default.
type retainFlag struct {
	set  bool
	secs int64
}

// Decode implements kong.MapperValue.
func (f *retainFlag) Decode(ctx *kong.DecodeContext) error {
	var s string
	if err := ctx.Scan.PopValueInto("duration", &s); err != nil {
		return err
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "forever":
		*f = retainFlag{set: true, secs: api.RetainForever}
		return nil
	case "default":
		*f = retainFlag{set: true}
		return nil
	}
	d, err := days.Parse(s)
	if err != nil {
		return fmt.Errorf("%q is not a retention: write one such as 7d, 2w or 12h, or forever, or default", s)
	}
	if d < time.Second {
		return fmt.Errorf("%q: keep recordings at least a second (forever keeps them for good, default takes the control node's)", s)
	}
	*f = retainFlag{set: true, secs: int64(d / time.Second)}
	return nil
}

// seconds is the API's retain_seconds (nil: unchanged).
func (f retainFlag) seconds() *int64 {
	if !f.set {
		return nil
	}
	n := f.secs
	return &n
}

// validateRecord checks --record.
func (c *SourceSetCmd) validateRecord() error {
	switch strings.ToLower(c.Record) {
	case "", api.RecordAlways, api.RecordOff:
		return nil
	}
	return fmt.Errorf("--record %q: want always or off", c.Record)
}

// recordSet reports whether a recording or retention flag was given.
func (c *SourceSetCmd) recordSet() bool {
	return c.Record != "" || c.RecordChunk.set || c.Retain.set
}

// record is the API's record field (nil: unchanged).
func (c *SourceSetCmd) record() *string {
	if c.Record == "" {
		return nil
	}
	m := strings.ToLower(c.Record)
	return &m
}
