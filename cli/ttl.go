package cli

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/kong"
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

// maxTTL keeps days from overflowing a time.Duration (about 292 years).
const maxTTL = 100 * 365 * 24 * time.Hour

// parseTTL reads a lifetime: "30d", "1d12h", "12h", "90m", "0".
func parseTTL(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty: write a lifetime such as 12h or 30d")
	}
	if s == "0" {
		return 0, nil
	}
	bad := fmt.Errorf("%q is not a lifetime: write one such as 90m, 12h, 30d or 1d12h", s)
	tooLong := fmt.Errorf("%q is longer than lmx can count (100 years): for no expiry, leave the flag out", s)
	var d time.Duration
	rest := s
	days, after, hasDays := strings.Cut(s, "d")
	if hasDays {
		n, err := strconv.ParseFloat(days, 64)
		if err != nil || !(n >= 0) || strings.ContainsAny(after, "+-") {
			return 0, bad
		}
		if n > float64(maxTTL/(24*time.Hour)) {
			return 0, tooLong
		}
		d, rest = time.Duration(n*float64(24*time.Hour)), after
	}
	if rest != "" {
		r, err := time.ParseDuration(rest)
		if err != nil {
			return 0, bad
		}
		if r > maxTTL {
			return 0, tooLong
		}
		d += r
	}
	switch {
	case d < 0:
		return 0, fmt.Errorf("%q: a lifetime can't be negative", s)
	case d > maxTTL:
		return 0, tooLong
	case d > 0 && d < time.Second:
		return 0, fmt.Errorf("%q is shorter than a second, the shortest lifetime", s)
	}
	return d, nil
}

// ttlSeconds is a lifetime in the API's ttl_seconds (0: the default).
func ttlSeconds(f ttlFlag) int64 {
	return int64((time.Duration(f) + time.Second - 1) / time.Second)
}
