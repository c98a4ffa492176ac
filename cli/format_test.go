package cli

import (
	"testing"
	"time"

	"github.com/lmx-video/lmx/api"
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
		if got := shortDuration(d); got != want {
			t.Errorf("shortDuration(%v) = %q, want %q", d, got, want)
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
		if got := age(tc.t, now); got != tc.want {
			t.Errorf("age(%v) = %q, want %q", tc.t, got, tc.want)
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
		if got := bitrate(bps); got != want {
			t.Errorf("bitrate(%d) = %q, want %q", bps, got, want)
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
		if got := byteSize(n); got != want {
			t.Errorf("byteSize(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestShortID(t *testing.T) {
	for id, want := range map[string]string{
		"":                                     "-",
		"abc":                                  "abc",
		"0b7c1e2a-5d4f-4e8a-9c1b-2f3e4d5c6b7a": "0b7c1e2a",
	} {
		if got := shortID(id); got != want {
			t.Errorf("shortID(%q) = %q, want %q", id, got, want)
		}
	}
}

func TestStreamingState(t *testing.T) {
	for _, tc := range []struct {
		streaming int
		edge      bool
		want      string
	}{
		{api.StreamingOn, true, "on"},
		{api.StreamingOn, false, "on (pending)"},
		{api.StreamingOff, false, "off"},
		{api.StreamingOff, true, "off (pending)"},
	} {
		s := api.Source{Streaming: tc.streaming, EdgeStreaming: tc.edge}
		if got := streamingState(s); got != tc.want {
			t.Errorf("streaming %d, edge %v: %q, want %q", tc.streaming, tc.edge, got, tc.want)
		}
	}
}

func TestEdgeState(t *testing.T) {
	now := testNow
	for _, tc := range []struct {
		e    api.Edge
		want string
	}{
		{api.Edge{Online: true, StartedAt: now.Add(-5 * time.Minute), FirstSeen: now.Add(-time.Hour)}, "online 5m"},
		{api.Edge{Online: true, FirstSeen: now.Add(-3 * time.Hour)}, "online 3h"},
		{api.Edge{Online: true}, "online"},
		{api.Edge{LastSeen: now.Add(-2 * time.Hour)}, "offline 2h"},
		{api.Edge{}, "offline"},
	} {
		if got := edgeState(tc.e, now); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.e, got, tc.want)
		}
	}
}

func TestEdgeLabel(t *testing.T) {
	for _, tc := range []struct {
		s    api.Source
		want string
	}{
		{api.Source{}, "-"},
		{api.Source{Edge: "gw", EdgeOnline: true}, "gw"},
		{api.Source{RRTarget: "gw", EdgeOnline: true}, "gw"}, // a LiveMix server fills only rr_target
		{api.Source{Edge: "gw"}, "gw (offline)"},
	} {
		if got := edgeLabel(tc.s); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.s, got, tc.want)
		}
	}
}

func TestTimestamp(t *testing.T) {
	if got := timestamp(time.Time{}, testNow); got != "-" {
		t.Errorf("zero: %q", got)
	}
	if got, want := timestamp(testNow.Add(-26*time.Hour), testNow), "2025-02-28 10:00:00 (26h ago)"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
}
