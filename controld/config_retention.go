package controld

import (
	"fmt"
	"time"

	"github.com/lmx-video/lmx/internal/days"
)

// Bounds of the continuous-recording and retention flags (the API holds
// sources to the same chunk bounds).
const (
	minRecordChunk    = 10 * time.Second
	maxRecordChunk    = 24 * time.Hour
	minRetentionEvery = 100 * time.Millisecond
)

// validateRetention checks --record-chunk, --retain, --retain-size and
// --retention-every.
func (c *Config) validateRetention() error {
	if d := c.RecordChunk.D(); d < minRecordChunk || d > maxRecordChunk {
		return fmt.Errorf("--record-chunk %s: must be between %s and %s", c.RecordChunk, days.Format(minRecordChunk), days.Format(maxRecordChunk))
	}
	if c.Retain < 0 {
		return fmt.Errorf("--retain %s: must not be negative (0 keeps recordings)", c.Retain)
	}
	if c.Retain > 0 && c.Retain.D() < time.Second {
		return fmt.Errorf("--retain %s: shorter than a second; 0 keeps recordings", c.Retain)
	}
	if c.RetainSize < 0 {
		return fmt.Errorf("--retain-size %s: must not be negative (0 is no cap)", c.RetainSize)
	}
	if c.RetentionEvery == 0 {
		c.RetentionEvery = days.Duration(time.Minute)
	}
	if c.RetentionEvery.D() < minRetentionEvery {
		return fmt.Errorf("--retention-every %s: at least %s", c.RetentionEvery, minRetentionEvery)
	}
	return nil
}
