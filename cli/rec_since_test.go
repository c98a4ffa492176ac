package cli

import (
	"strings"
	"testing"
	"time"
)

func TestParseSince(t *testing.T) {
	now := testNow // 2025-03-01T12:00:00Z, epoch 1740830400; time.Local is UTC in tests
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		in   string
		want time.Time // zero: now, left to the server
		err  string    // a part of the error, when one is expected
	}{
		// Now, in every spelling.
		{in: ""},
		{in: "now"},
		{in: " NOW "},
		{in: "0"},
		{in: "-0s"},
		{in: "0s"},

		// Durations count back, with or without the minus.
		{in: "-30s", want: now.Add(-30 * time.Second)},
		{in: "30s", want: now.Add(-30 * time.Second)},
		{in: "-2m", want: now.Add(-2 * time.Minute)},
		{in: "2m", want: now.Add(-2 * time.Minute)},
		{in: "-1h30m", want: now.Add(-90 * time.Minute)},
		{in: "-1.5s", want: now.Add(-1500 * time.Millisecond)},
		{in: "-500ms", want: now.Add(-500 * time.Millisecond)},
		{in: "+30s", err: `"+30s" is in the future: a duration counts back from now, write -30s`},
		{in: "-30", err: `"-30" is not a time`},
		{in: "30 s", err: `"30 s" is not a time`},

		// RFC 3339, any offset, fractions.
		{in: "2025-03-01T11:00:00Z", want: at("2025-03-01T11:00:00Z")},
		{in: "2025-03-01T13:00:00+02:00", want: at("2025-03-01T11:00:00Z")},
		{in: "2025-03-01T11:59:59.25Z", want: at("2025-03-01T11:59:59.25Z")},
		{in: "2025-03-01T12:00:00Z", want: now},
		{in: "2025-03-01T12:00:01Z", err: `"2025-03-01T12:00:01Z" is in the future (it is now 2025-03-01T12:00:00Z)`},
		{in: "2026-11-23T10:00:00Z", err: "is in the future"},
		{in: "2025-02-30T10:00:00Z", err: "is not a time"},

		// Local time, as tables print it.
		{in: "2025-03-01 11:00:00", want: at("2025-03-01T11:00:00Z")},
		{in: "2025-03-01T11:00:00", want: at("2025-03-01T11:00:00Z")},
		{in: "2025-03-01 11:00", err: "is not a time"},

		// Epoch seconds.
		{in: "1740830370", want: now.Add(-30 * time.Second)},
		{in: "1740830400", want: now},
		{in: "1740830401", err: "is in the future"},
		{in: "30", err: `"30" read as epoch seconds is 1970-01-01T00:00:30Z: for 30 seconds ago write -30s`},
		{in: "99999999999999999999", err: "too large for epoch seconds"},

		// Nonsense says what is accepted.
		{in: "yesterday", err: `"yesterday" is not a time: write a duration back from now (-30s, -2m, -1h30m), an RFC 3339 time (2026-11-23T10:00:00Z), epoch seconds, or now`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseSince(tc.in, now)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("parseSince(%q) = %v, %v; want an error with %q", tc.in, got, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseSince(%q): %v", tc.in, err)
			}
			if !got.Equal(tc.want) || got.IsZero() != tc.want.IsZero() {
				t.Errorf("parseSince(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseSinceLocalZone(t *testing.T) {
	// A zone-less time is the local time of this machine.
	old := time.Local
	defer func() { time.Local = old }()
	time.Local = time.FixedZone("CET", 3600)
	got, err := parseSince("2025-03-01 11:00:00", testNow)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
