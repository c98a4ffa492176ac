package cli

import (
	"strings"
	"testing"
)

func TestSourceSetOnDemandFields(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--on-demand"}, `{"on_demand":true}`},
		{[]string{"--on-demand=false"}, `{"on_demand":false}`},
		{[]string{"--no-on-demand"}, `{"on_demand":false}`},
		{[]string{"--on-demand", "--idle", "2m"}, `{"on_demand":true,"idle_seconds":120}`},
		{[]string{"--idle", "0"}, `{"idle_seconds":0}`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			fc := newFake()
			r := runCLI(t, fc, append([]string{"source", "set", "camera-0", "--json"}, tc.args...)...)
			if r.code != 0 {
				t.Fatalf("exit %d:\n%s%s", r.code, r.stdout, r.stderr)
			}
			if u := updateString(lastAuth(t, fc).update); u != tc.want {
				t.Errorf("asked for %s, want %s", u, tc.want)
			}
		})
	}
}

func TestSourceSetIdleRefused(t *testing.T) {
	for _, arg := range []string{"-5s", "500ms", "1.5s"} {
		fc := newFake()
		r := runCLI(t, fc, "source", "set", "camera-0", "--idle="+arg)
		if r.code == 0 || !strings.Contains(r.stderr, "--idle") || !strings.Contains(r.stderr, "whole seconds") {
			t.Errorf("--idle %s: exit %d, stderr %q; want a usage error naming --idle", arg, r.code, r.stderr)
		}
	}
}

func TestSourceShowOnDemand(t *testing.T) {
	fc := newFake()
	r := runCLI(t, fc, "source", "set", "camera-0", "--on-demand", "--idle", "30s")
	wantOK(t, r, `Name:            camera-0
ID:              0b7c1e2a-0000-4000-8000-000000000000
Description:     Lobby, north wall
Segment length:  4s
Edge:            cam-gw-1 (online)
Streaming:       on demand: asleep
On demand:       asleep: the edge buffers and uploads live on the first playlist request, until none for 30s
Last segment:    2s ago
Live segments:   5
Bitrate:         1.2 Mbit/s
Public:          no (with auth on, players need a signed URL: lmx source url camera-0)
Playback:        http://ctl.example:8081/v1/vod/live/camera-0/vid.m3u8
Created:         2025-03-01 10:00:00 (2h ago)
Updated:         2025-03-01 12:00:00 (0s ago)
`)
	// Woken by a player: the edge streams.
	fc.mu.Lock()
	s := &fc.sources[fc.find("camera-0")]
	s.Awake, s.EdgeStreaming = true, true
	fc.mu.Unlock()
	r = runCLI(t, fc, "source", "ls")
	wantOK(t, r, `NAME      ID        EDGE      STREAMING         PUBLIC  LIVE    BITRATE     UPDATED
camera-0  0b7c1e2a  cam-gw-1  on demand: awake  no      2s ago  1.2 Mbit/s  0s ago
camera-1  f3a9c2d1  -         off               no      -       -           3h ago
`)
	if out := runCLI(t, fc, "source", "show", "camera-0").stdout; !strings.Contains(out, "On demand:       awake: uploading live until no player has asked for 30s\n") {
		t.Errorf("show of an awake source:\n%s", out)
	}
}
