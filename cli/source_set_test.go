package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/lmx-video/lmx/api"
)

func TestSourceSetPublic(t *testing.T) {
	fc := newFake()
	r := runCLI(t, fc, "source", "set", "camera-0", "--public")
	wantOK(t, r, `Name:            camera-0
ID:              0b7c1e2a-0000-4000-8000-000000000000
Description:     Lobby, north wall
Segment length:  4s
Edge:            cam-gw-1 (online)
Streaming:       on
Last segment:    2s ago
Live segments:   5
Bitrate:         1.2 Mbit/s
Public:          yes (anyone may play it)
Playback:        http://ctl.example:8081/v1/vod/live/camera-0/vid.m3u8
Created:         2025-03-01 10:00:00 (2h ago)
Updated:         2025-03-01 12:00:00 (0s ago)
`)
	u := lastAuth(t, fc).update
	if u.Public == nil || !*u.Public || u.Edge != nil || u.Description != nil {
		t.Errorf("asked for %s", updateString(u))
	}

	wantOK(t, runCLI(t, fc, "source", "ls"), `NAME      ID        EDGE      STREAMING  PUBLIC  LIVE    BITRATE     UPDATED
camera-0  0b7c1e2a  cam-gw-1  on         yes     2s ago  1.2 Mbit/s  0s ago
camera-1  f3a9c2d1  -         off        no      -       -           3h ago
`)
}

// updateString shows what a SourceUpdate sets.
func updateString(u api.SourceUpdate) string {
	b, _ := json.Marshal(u)
	return string(b)
}

func TestSourceSetFields(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--no-public"}, `{"public":false}`},
		{[]string{"--public", "--edge", "cam-gw-2"}, `{"public":true,"edge":"cam-gw-2"}`},
		{[]string{"--description", ""}, `{"description":""}`},
		{[]string{"--description", "Dock", "--edge=cam-gw-1"}, `{"edge":"cam-gw-1","description":"Dock"}`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			fc := newFake()
			r := runCLI(t, fc, append([]string{"source", "set", "camera-0", "--json"}, tc.args...)...)
			var got api.Source
			if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || r.code != 0 {
				t.Fatalf("exit %d, %v:\n%s%s", r.code, err, r.stdout, r.stderr)
			}
			if u := updateString(lastAuth(t, fc).update); u != tc.want {
				t.Errorf("asked for %s, want %s", u, tc.want)
			}
			if got.Name != "camera-0" {
				t.Errorf("got %+v", got)
			}
		})
	}
}

func TestSourceSetNothingIsUsageError(t *testing.T) {
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{nil, "lmx: source set: nothing to change: pass --public, --no-public, --edge, --feeds, --prefer, --no-prefer, --description, --pull, --no-pull, --on-demand, --idle, --record, --record-chunk or --retain\n"},
		{[]string{"--json"}, "lmx: source set: nothing to change: pass --public, --no-public, --edge, --feeds, --prefer, --no-prefer, --description, --pull, --no-pull, --on-demand, --idle, --record, --record-chunk or --retain\n"},
		{[]string{"--edge", ""}, "lmx: source set: --edge needs an edge name: a source always has one once pushed\n"},
	} {
		r := runCLI(t, nil, append([]string{"source", "set", "camera-0"}, tc.args...)...)
		if r.code != 2 || r.stdout != "" || !strings.HasPrefix(r.stderr, "Usage: lmx source set <source>") || !strings.HasSuffix(r.stderr, tc.msg) {
			t.Errorf("%q: exit %d, stdout %q, stderr:\n%s", tc.args, r.code, r.stdout, r.stderr)
		}
	}
}

func TestSourceSetErrors(t *testing.T) {
	wantErr(t, runCLI(t, newFake(), "source", "set", "nope", "--public"), 1, `source "nope" not found: see lmx source ls`)
	wantErr(t, runCLI(t, newFake(), "source", "set", "camera-0", "--edge", "cam-gw-9"), 1, `changing source "camera-0": no edge named "cam-gw-9"`)
}
