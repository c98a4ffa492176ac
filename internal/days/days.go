// Package days parses and prints durations the way operators write
// lifetimes and retention: Go durations (90m, 12h) plus days and weeks
// (7d, 2w, 1d12h), for flags of both the control node and the CLI.
package days

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Max keeps days from overflowing a time.Duration (about 292 years).
const Max = 100 * 365 * 24 * time.Hour

// Day and Week are the units Go's time package has no name for.
const (
	Day  = 24 * time.Hour
	Week = 7 * Day
)

// Errors of Parse.
var (
	// ErrSyntax: not a duration at all.
	ErrSyntax = errors.New("not a duration: write one such as 90m, 12h, 7d, 2w or 1d12h")
	// ErrRange: negative, or longer than Max.
	ErrRange = errors.New("out of range: between 0 and 100 years")
)

// Parse reads "2w", "7d", "1d12h", "1.5d", "12h", "90m" or "0". Weeks come
// before days, days before the Go duration that may follow ("1w2d3h").
func Parse(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty: %w", ErrSyntax)
	}
	if s == "0" {
		return 0, nil
	}
	if strings.HasPrefix(s, "-") {
		return 0, fmt.Errorf("%q is negative: %w", s, ErrRange)
	}
	var d time.Duration
	rest := s
	for _, u := range []struct {
		sep  string
		unit time.Duration
	}{{"w", Week}, {"d", Day}} {
		num, after, ok := strings.Cut(rest, u.sep)
		if !ok {
			continue
		}
		n, err := strconv.ParseFloat(num, 64)
		if err != nil || !(n >= 0) || strings.ContainsAny(num, "+-eEnNiI") {
			return 0, fmt.Errorf("%q: %w", s, ErrSyntax)
		}
		if n*float64(u.unit) > float64(Max) {
			return 0, fmt.Errorf("%q is longer than 100 years: %w", s, ErrRange)
		}
		d += time.Duration(n * float64(u.unit))
		rest = after
	}
	if rest != "" {
		if strings.ContainsAny(rest, "+-") {
			return 0, fmt.Errorf("%q: %w", s, ErrSyntax)
		}
		r, err := time.ParseDuration(rest)
		if err != nil {
			return 0, fmt.Errorf("%q: %w", s, ErrSyntax)
		}
		d += r
	}
	if d > Max || d < 0 {
		return 0, fmt.Errorf("%q is longer than 100 years: %w", s, ErrRange)
	}
	return d, nil
}

// Format prints d the shortest way Parse reads back: whole weeks and days
// as "2w" and "7d" style prefixes, the rest as a Go duration ("1d12h").
// Weeks are used only when d is a whole number of them, so a retention of
// ten days reads "10d", not "1w3d".
func Format(d time.Duration) string {
	if d == 0 {
		return "0"
	}
	if d < 0 {
		return "-" + Format(-d)
	}
	if d%Week == 0 {
		return fmt.Sprintf("%dw", d/Week)
	}
	var b strings.Builder
	if n := d / Day; n > 0 {
		fmt.Fprintf(&b, "%dd", n)
		d -= n * Day
	}
	if d > 0 {
		s := d.String()
		// time.Duration prints 1h0m0s; the trailing zero units say nothing.
		if strings.HasSuffix(s, "m0s") {
			s = strings.TrimSuffix(s, "0s")
		}
		if strings.HasSuffix(s, "h0m") {
			s = strings.TrimSuffix(s, "0m")
		}
		b.WriteString(s)
	}
	return b.String()
}

// Duration is a time.Duration that flag parsers (kong, via
// encoding.TextUnmarshaler) and config files read with Parse.
type Duration time.Duration

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := Parse(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalText implements encoding.TextMarshaler, as Format prints.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// String prints the duration as Format does.
func (d Duration) String() string { return Format(time.Duration(d)) }

// D is the duration as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }
