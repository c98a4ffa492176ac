package days

import (
	"errors"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	for s, want := range map[string]time.Duration{
		"0": 0, "1s": time.Second, "90m": 90 * time.Minute, "12h": 12 * time.Hour, "7d": 7 * Day,
		"2w": 2 * Week, "1w2d3h": Week + 2*Day + 3*time.Hour, "1d12h": 36 * time.Hour, "1.5d": 36 * time.Hour,
		" 7d ": 7 * Day, "10s": 10 * time.Second, "500ms": 500 * time.Millisecond,
	} {
		if got, err := Parse(s); err != nil || got != want {
			t.Errorf("Parse(%q) = %s, %v; want %s", s, got, err, want)
		}
	}
	for s, want := range map[string]error{
		"": ErrSyntax, "d": ErrSyntax, "soon": ErrSyntax, "30days": ErrSyntax, "1d-2h": ErrSyntax,
		"1e9d": ErrSyntax, "NaNd": ErrSyntax, "Infd": ErrSyntax, "1h-": ErrSyntax, "2d1w": ErrSyntax,
		"-1h": ErrRange, "-1d": ErrRange, "40000d": ErrRange, "6000w": ErrRange,
	} {
		if got, err := Parse(s); !errors.Is(err, want) {
			t.Errorf("Parse(%q) = %s, %v; want %v", s, got, err, want)
		}
	}
}

func TestFormatRoundTrips(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0", time.Hour: "1h", 90 * time.Minute: "1h30m", 10 * time.Second: "10s", 7 * Day: "1w",
		10 * Day: "10d", 36 * time.Hour: "1d12h", 14 * Day: "2w", Day + time.Minute: "1d1m",
	} {
		got := Format(d)
		if got != want {
			t.Errorf("Format(%s) = %q, want %q", d, got, want)
		}
		if back, err := Parse(got); err != nil || back != d {
			t.Errorf("Parse(Format(%s)) = %s, %v", d, back, err)
		}
	}
}

func TestDurationText(t *testing.T) {
	var d Duration
	if err := d.UnmarshalText([]byte("7d")); err != nil || d.D() != 7*Day {
		t.Fatalf("7d: %s, %v", d, err)
	}
	if b, _ := d.MarshalText(); string(b) != "1w" {
		t.Errorf("MarshalText = %q", b)
	}
	if err := d.UnmarshalText([]byte("often")); !errors.Is(err, ErrSyntax) {
		t.Errorf("often: %v", err)
	}
}
