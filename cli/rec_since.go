package cli

import (
	"errors"
	"time"

	"github.com/alecthomas/kong"

	"github.com/lmx-video/lmx/internal/humanfmt"
)

// parseSince reads when a recording should start, as an operator writes it
// (see humanfmt.ParseSince), in this machine's time zone.
func parseSince(s string, now time.Time) (time.Time, error) {
	return humanfmt.ParseSince(s, now, time.Local)
}

// sinceFlag is the raw text of a --since flag; parseSince reads it when the
// command runs, against Timing's clock.
//
// It is a type of its own for one reason: kong takes "-30s" after a flag
// for another flag, so `--since -30s` would need `--since=-30s`. Decode
// accepts a next word that starts with '-' and a digit as the value.
type sinceFlag string

// Decode implements kong.MapperValue.
func (f *sinceFlag) Decode(ctx *kong.DecodeContext) error {
	if t := ctx.Scan.Peek(); t.Type == kong.UntypedToken {
		if v, ok := t.Value.(string); ok && len(v) > 1 && v[0] == '-' && v[1] >= '0' && v[1] <= '9' {
			ctx.Scan.Pop()
			*f = sinceFlag(v)
			return nil
		}
	}
	var v string
	if err := ctx.Scan.PopValueInto("time", &v); err != nil {
		return err
	}
	if v == "" {
		return errors.New("empty: write a time, such as -30s")
	}
	*f = sinceFlag(v)
	return nil
}
