package cli

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/alecthomas/kong"

	"github.com/lmx-video/lmx/internal/days"
)

// ttlFlag is a lifetime as an operator writes it: a Go duration (90m,
// 12h, 1h30m) or days (30d, 1d12h). 0, or leaving the flag out, means the
// default of the command that takes it.
type ttlFlag time.Duration

// Decode implements kong.MapperValue.
func (f *ttlFlag) Decode(ctx *kong.DecodeContext) error {
	var s string
	if err := ctx.Scan.PopValueInto("duration", &s); err != nil {
		return err
	}
	d, err := parseTTL(s)
	if err != nil {
		return err
	}
	*f = ttlFlag(d)
	return nil
}

// parseTTL reads a lifetime: "30d", "1d12h", "12h", "90m", "0" (the same
// units as every duration flag, see internal/days).
func parseTTL(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty: write a lifetime such as 12h or 30d")
	}
	d, err := days.Parse(s)
	switch {
	case errors.Is(err, days.ErrRange) && strings.HasPrefix(s, "-"):
		return 0, fmt.Errorf("%q: a lifetime can't be negative", s)
	case errors.Is(err, days.ErrRange):
		return 0, fmt.Errorf("%q is longer than lmx can count (100 years): for no expiry, leave the flag out", s)
	case err != nil:
		return 0, fmt.Errorf("%q is not a lifetime: write one such as 90m, 12h, 30d or 1d12h", s)
	case d > 0 && d < time.Second:
		return 0, fmt.Errorf("%q is shorter than a second, the shortest lifetime", s)
	}
	return d, nil
}

// ttlSeconds is a lifetime in the API's ttl_seconds (0: the default).
func ttlSeconds(f ttlFlag) int64 {
	return int64((time.Duration(f) + time.Second - 1) / time.Second)
}
