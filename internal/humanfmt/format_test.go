package humanfmt

import (
	"testing"
	"time"
)

func TestShortDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		-time.Second:                          "0s",
		0:                                     "0s",
		999 * time.Millisecond:                "0s",
		45 * time.Second:                      "45s",
		59*time.Second + 999*time.Millisecond: "59s",
		time.Minute:                           "1m",
		5*time.Minute + 59*time.Second:        "5m",
		2 * time.Hour:                         "2h",
		47 * time.Hour:                        "47h",
		48 * time.Hour:                        "2d",
		400 * 24 * time.Hour:                  "400d",
	} {
		if got := ShortDuration(d); got != want {
			t.Errorf("ShortDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestAge(t *testing.T) {
	now := testNow
	for _, tc := range []struct {
		t    time.Time
		want string
	}{
		{time.Time{}, "-"},
		{now.Add(-2 * time.Second), "2s ago"},
		{now.Add(-90 * time.Minute), "1h ago"},
		{now.Add(3 * time.Second), "0s ago"}, // another machine's clock runs ahead
	} {
		if got := Age(tc.t, now); got != tc.want {
			t.Errorf("Age(%v) = %q, want %q", tc.t, got, tc.want)
		}
	}
}

func TestBitrate(t *testing.T) {
	for bps, want := range map[int64]string{
		-1:            "-",
		0:             "-",
		800:           "800 bit/s",
		8_500:         "8.5 kbit/s",
		512_000:       "512 kbit/s",
		1_200_000:     "1.2 Mbit/s",
		1_234_567:     "1.2 Mbit/s",
		9_960_000:     "10 Mbit/s",
		12_000_000:    "12 Mbit/s",
		2_500_000_000: "2.5 Gbit/s",
	} {
		if got := Bitrate(bps); got != want {
			t.Errorf("Bitrate(%d) = %q, want %q", bps, got, want)
		}
	}
}

func TestByteSize(t *testing.T) {
	for n, want := range map[int64]string{
		-5:         "0 B",
		0:          "0 B",
		1023:       "1023 B",
		1536:       "1.5 KiB",
		18_874_368: "18 MiB",
		5 << 30:    "5.0 GiB",
		3 << 40:    "3.0 TiB",
		2048 << 40: "2048 TiB",
	} {
		if got := ByteSize(n); got != want {
			t.Errorf("ByteSize(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestShortID(t *testing.T) {
	for id, want := range map[string]string{
		"":                                     "-",
		"abc":                                  "abc",
		"0b7c1e2a-5d4f-4e8a-9c1b-2f3e4d5c6b7a": "0b7c1e2a",
	} {
		if got := ShortID(id); got != want {
			t.Errorf("ShortID(%q) = %q, want %q", id, got, want)
		}
	}
}

var testNow = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
