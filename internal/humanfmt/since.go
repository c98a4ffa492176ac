package humanfmt

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// minEpoch is the smallest number ParseSince takes as epoch seconds
// (2001-09-09). Anything smaller is almost surely a duration written
// without its unit, such as "30" for "30s", and is refused with a hint.
const minEpoch = 1_000_000_000

// localLayouts are the zone-less forms ParseSince reads as local time: the
// way tables print times (so a STARTED cell can be pasted back), and the
// same with RFC 3339's "T".
var localLayouts = []string{"2006-01-02 15:04:05", "2006-01-02T15:04:05"}

// ParseSince reads when something should start, as an operator writes it,
// relative to now:
//
//	""  or "now"                  now
//	-30s, -2m, -1h30m             that long before now
//	30s, 2m                       the same: a start can only lie in the past
//	2026-11-23T10:00:00Z          an RFC 3339 time (any offset, fractions allowed)
//	2026-11-23 10:00:00           local time (loc), as tables print it
//	1795428000                    Unix epoch seconds (0 means now, as in LiveMix)
//
// It returns the zero time for "now", so a caller can let the server pick
// now by its own clock (start_time_epoch 0) rather than trust this
// machine's. A time after now is an error.
func ParseSince(s string, now time.Time, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "now") {
		return time.Time{}, nil
	}

	if isDigits(s) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("%q is too large for epoch seconds", s)
		}
		if n == 0 {
			return time.Time{}, nil
		}
		if n < minEpoch {
			return time.Time{}, fmt.Errorf("%q read as epoch seconds is %s: for %s seconds ago write -%ss",
				s, time.Unix(n, 0).UTC().Format(time.RFC3339), s, s)
		}
		return notFuture(s, time.Unix(n, 0), now)
	}

	if d, ok := parseAgo(s); ok {
		if strings.HasPrefix(s, "+") && d != 0 {
			return time.Time{}, fmt.Errorf("%q is in the future: a duration counts back from now, write -%s", s, s[1:])
		}
		if d == 0 {
			return time.Time{}, nil
		}
		return now.Add(-d), nil
	}

	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return notFuture(s, t, now)
	}
	for _, layout := range localLayouts {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return notFuture(s, t, now)
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time: write a duration back from now (-30s, -2m, -1h30m), "+
		"an RFC 3339 time (2026-11-23T10:00:00Z), epoch seconds, or now", s)
}

// parseAgo reads a Go duration with an optional sign and returns its size.
func parseAgo(s string) (time.Duration, bool) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, false
	}
	if d < 0 {
		d = -d
	}
	return d, true
}

// notFuture returns t unless it lies after now.
func notFuture(s string, t, now time.Time) (time.Time, error) {
	if t.After(now) {
		return time.Time{}, fmt.Errorf("%q is in the future (it is now %s): a recording can start now or earlier",
			s, now.In(time.Local).Format(time.RFC3339))
	}
	return t, nil
}

// isDigits reports whether s is a non-empty run of ASCII digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
