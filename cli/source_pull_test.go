package cli

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lmx-video/lmx/api"
)

// pulledFake is newFake with camera-0 pulled by cam-gw-1, whose ffmpeg is
// in backoff after three restarts.
func pulledFake() *fakeClient {
	fc := newFake()
	s := &fc.sources[1]
	s.PullURL = "rtsp://admin:xxxxx@10.0.0.7:554/stream"
	s.Pull = &api.PullState{State: api.PullBackoff, Since: testNow.Add(-20 * time.Second), Restarts: 3,
		LastError: "rtsp://admin:xxxxx@10.0.0.7:554/stream: Connection refused", Video: "h264",
		Warnings: []string{"audio pcm_alaw dropped (-an): HLS players do not play G.711"}}
	return fc
}

func TestSourceAddPull(t *testing.T) {
	fc := &fakeClient{}
	r := runCLI(t, fc, "source", "add", "camera-2", "--pull", "rtsp://admin:hunter2@10.0.0.7:554/stream", "--edge", "cam-gw-1")
	wantOK(t, r, `created source camera-2 (id 0b7c1e2a)
edge cam-gw-1 pulls rtsp://admin:xxxxx@10.0.0.7:554/stream and streams it
next: lmx source show camera-2 (the pull's state), lmx source url camera-2 (watch it)
`)
	want := api.NewSource{Name: "camera-2", SegmentLen: 4, PullURL: "rtsp://admin:hunter2@10.0.0.7:554/stream", Edge: "cam-gw-1"}
	if len(fc.created) != 1 || !reflect.DeepEqual(fc.created[0], want) {
		t.Errorf("created %+v, want %+v", fc.created, want)
	}
}

func TestSourceAddPullRefused(t *testing.T) {
	fc := &fakeClient{err: statusErr(400, "pull_url: 2 edges are online (cam-gw-1, cam-gw-2): say which one pulls the camera")}
	wantErr(t, runCLI(t, fc, "source", "add", "camera-2", "--pull", "rtsp://10.0.0.7/stream"), 1,
		`creating source "camera-2": pull_url: 2 edges are online (cam-gw-1, cam-gw-2): say which one pulls the camera`)
}

func TestSourceSetPull(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want *string
	}{
		{[]string{"--pull", "srt://10.0.0.8:9000?passphrase=abc"}, ptr("srt://10.0.0.8:9000?passphrase=abc")},
		{[]string{"--no-pull"}, ptr("")},
	} {
		fc := newFake()
		r := runCLI(t, fc, append([]string{"source", "set", "camera-0"}, tc.args...)...)
		if r.code != 0 {
			t.Fatalf("%q: exit %d: %s", tc.args, r.code, r.stderr)
		}
		u := lastAuth(t, fc).update
		if u.PullURL == nil || *u.PullURL != *tc.want || u.Public != nil || u.Edge != nil {
			t.Errorf("%q: asked for %s", tc.args, updateString(u))
		}
		if strings.Contains(r.stdout, "passphrase=abc") {
			t.Errorf("%q: the passphrase is shown:\n%s", tc.args, r.stdout)
		}
	}
	r := runCLI(t, nil, "source", "set", "camera-0", "--pull", "rtsp://x/y", "--no-pull")
	if r.code != 2 || !strings.Contains(r.stderr, "--pull") || !strings.Contains(r.stderr, "--no-pull") {
		t.Errorf("--pull with --no-pull: exit %d, %s", r.code, r.stderr)
	}
	r = runCLI(t, nil, "source", "set", "camera-0", "--pull", " ")
	if r.code != 2 || !strings.HasSuffix(r.stderr, "--pull needs a URL: --no-pull stops pulling\n") {
		t.Errorf("--pull with no URL: exit %d, %s", r.code, r.stderr)
	}
}

func ptr(s string) *string { return &s }

func TestSourceShowPull(t *testing.T) {
	wantOK(t, runCLI(t, pulledFake(), "source", "show", "camera-0"), `Name:            camera-0
ID:              0b7c1e2a-0000-4000-8000-000000000000
Description:     Lobby, north wall
Segment length:  4s
Edge:            cam-gw-1 (online)
Streaming:       on
Last segment:    2s ago
Live segments:   5
Bitrate:         1.2 Mbit/s
Public:          no (with auth on, players need a signed URL: lmx source url camera-0)
Playback:        http://ctl.example:8081/v1/vod/live/camera-0/vid.m3u8
Created:         2025-03-01 10:00:00 (2h ago)
Updated:         2025-03-01 11:55:00 (5m ago)
Pull URL:        rtsp://admin:xxxxx@10.0.0.7:554/stream
Pull:            backoff ×3 since 2025-03-01 11:59:40 (20s ago)
Restarts:        3
Last error:      rtsp://admin:xxxxx@10.0.0.7:554/stream: Connection refused
Codecs:          h264
Warnings:        audio pcm_alaw dropped (-an): HLS players do not play G.711
`)
	fc := pulledFake()
	fc.sources[1].Pull = nil
	r := runCLI(t, fc, "source", "show", "camera-0")
	if !strings.Contains(r.stdout, "Pull:            pending (the edge has not reported its ffmpeg yet)\n") {
		t.Errorf("before the edge reports:\n%s", r.stdout)
	}
}

func TestSourceLsPull(t *testing.T) {
	wantOK(t, runCLI(t, pulledFake(), "source", "ls"), `NAME      ID        EDGE      STREAMING  PULL        PUBLIC  LIVE    BITRATE     UPDATED
camera-0  0b7c1e2a  cam-gw-1  on         backoff ×3  no      2s ago  1.2 Mbit/s  5m ago
camera-1  f3a9c2d1  -         off        -           no      -       -           3h ago
`)
}

// TestSourceRmPushed: a source still pushed is refused with the control
// node's message and what to do; --force removes it and says that pushes
// of the name are refused from now on.
func TestSourceRmPushed(t *testing.T) {
	fc := newFake()
	fc.pushed = map[string]bool{"camera-0": true}
	wantErr(t, runCLI(t, fc, "source", "rm", "camera-0"), 1,
		`removing source "camera-0": source "camera-0" is still being pushed by edge "cam-gw-1" (last segment 1s ago): removed now, its next push would register it again (stop the push, or `+"`lmx source rm camera-0 --force`"+`)`)
	if len(fc.sources) != 2 {
		t.Fatal("a refused rm removed the source")
	}
	wantOK(t, runCLI(t, fc, "source", "rm", "camera-0", "--force"),
		"removed source camera-0; pushes of camera-0 are refused until lmx source add camera-0\n")
	if len(fc.sources) != 1 || !slices.Equal(fc.forced, []bool{false, true}) {
		t.Errorf("sources %+v, force asked %v", fc.sources, fc.forced)
	}
}
