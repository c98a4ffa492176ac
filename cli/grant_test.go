package cli

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/lmx-video/lmx/api"
)

func TestSourceURL(t *testing.T) {
	fc := newFake()
	r := runCLI(t, fc, "source", "url", "camera-0")
	// Just the URL on stdout, so ffplay "$(lmx source url camera-0)" works.
	wantOut(t, r, "http://ctl.example:8081/v1/vod/live/camera-0/vid.m3u8?grant=g1.sig\n",
		"plays until 2025-03-01 14:00:00 (in 2h)\n")
	if c := lastAuth(t, fc); c.method != "SourceGrant" || c.ref != "camera-0" || c.ttl != 0 {
		t.Errorf("asked for %+v, want the server's default lifetime", c)
	}

	r = runCLI(t, fc, "source", "url", "camera-0", "--ttl", "30m")
	wantOut(t, r, "http://ctl.example:8081/v1/vod/live/camera-0/vid.m3u8?grant=g1.sig\n",
		"plays until 2025-03-01 12:30:00 (in 30m)\n")
	if c := lastAuth(t, fc); c.ttl != 30*time.Minute {
		t.Errorf("ttl %s", c.ttl)
	}
}

func TestSourceURLJSON(t *testing.T) {
	r := runCLI(t, newFake(), "source", "url", "camera-0", "--ttl", "1d", "--json")
	var got api.Grant
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, %v:\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	if got.URL != "http://ctl.example:8081/v1/vod/live/camera-0/vid.m3u8?grant=g1.sig" || !got.ExpiresAt.Equal(testNow.Add(24*time.Hour)) {
		t.Errorf("got %+v", got)
	}
}

func TestSourceURLNotFound(t *testing.T) {
	wantErr(t, runCLI(t, newFake(), "source", "url", "nope"), 1, `source "nope" not found: see lmx source ls`)
}

func TestRecURL(t *testing.T) {
	fc := recFake()
	r := runCLI(t, fc, "rec", "url", recStopped, "--ttl", "7d")
	wantOut(t, r, recPlayback(recStopped)+"?grant=g1.sig\n", "plays until 2025-03-08 12:00:00 (in 7d)\n")
	if c := lastAuth(t, fc); c.method != "RecordingGrant" || c.ref != recStopped || c.ttl != 7*24*time.Hour {
		t.Errorf("asked for %+v", c)
	}
	r = runCLI(t, fc, "rec", "url", recStopped, "--json")
	var got api.Grant
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || got.URL != recPlayback(recStopped)+"?grant=g1.sig" {
		t.Errorf("%v: %+v", err, got)
	}
	wantErr(t, runCLI(t, fc, "rec", "url", "nope"), 1, `recording "nope" not found: see lmx rec ls`)
}

// TestExpiryRounds: a grant's expiry is whole seconds, a little under the
// TTL asked; "in 2h" is what the user asked for, not "in 1h".
func TestExpiryRounds(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 600_000_000, time.UTC)
	if got := expiry(now.Add(2*time.Hour).Truncate(time.Second), now); got != "in 2h" {
		t.Errorf("expiry 2 h less 0.6 s away = %q, want \"in 2h\"", got)
	}
}
