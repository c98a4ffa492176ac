package cli

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/lmx-video/lmx/api"
)

func TestSourceLs(t *testing.T) {
	r := runCLI(t, newFake(), "source", "ls")
	wantOK(t, r, `NAME      ID        EDGE      STREAMING  PUBLIC  LIVE    BITRATE     UPDATED
camera-0  0b7c1e2a  cam-gw-1  on         no      2s ago  1.2 Mbit/s  5m ago
camera-1  f3a9c2d1  -         off        no      -       -           3h ago
`)
}

func TestSourceLsStates(t *testing.T) {
	fc := newFake()
	fc.sources[1].EdgeStreaming = false // on, not yet confirmed
	fc.sources[1].EdgeOnline = false
	r := runCLI(t, fc, "source", "ls", "--name", "camera-0")
	wantOK(t, r, `NAME      ID        EDGE                STREAMING     PUBLIC  LIVE    BITRATE     UPDATED
camera-0  0b7c1e2a  cam-gw-1 (offline)  on (pending)  no      2s ago  1.2 Mbit/s  5m ago
`)
	if got := fc.listedName; len(got) != 1 || got[0] != "camera-0" {
		t.Errorf("ListSources name = %q, want camera-0", got)
	}
}

func TestSourceLsEmpty(t *testing.T) {
	wantOK(t, runCLI(t, &fakeClient{}, "source", "ls"),
		"no sources yet: create one with lmx source add NAME\n")
	wantOK(t, runCLI(t, newFake(), "source", "ls", "--name", "nope"),
		"no source named \"nope\": see lmx source ls\n")
}

func TestSourceLsJSON(t *testing.T) {
	r := runCLI(t, newFake(), "source", "ls", "--json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var got []api.Source
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("not a JSON list: %v\n%s", err, r.stdout)
	}
	if len(got) != 2 || got[1].Name != "camera-0" || got[1].BitrateBPS != 1_234_567 {
		t.Errorf("got %+v", got)
	}
	if !strings.Contains(r.stdout, "\n  {\n    \"id\"") {
		t.Errorf("JSON is not indented:\n%s", r.stdout)
	}

	// No sources is an empty list, not null, so `jq '.[]'` works.
	wantOK(t, runCLI(t, &fakeClient{}, "source", "ls", "--json"), "[]\n")
}

func TestSourceLsJSONAndWatchIsUsageError(t *testing.T) {
	r := runCLI(t, nil, "source", "ls", "--json", "--watch")
	if r.code != 2 || !strings.HasSuffix(r.stderr, "lmx: --json and --watch can't be used together\n") {
		t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

func TestSourceLsWatch(t *testing.T) {
	for _, terminal := range []bool{false, true} {
		t.Run(map[bool]string{false: "pipe", true: "terminal"}[terminal], func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			fc := newFake()
			lists := 0
			fc.onCall = func(string) {
				lists++
				if lists == 2 {
					// The control node goes away for one frame, then
					// Ctrl-C arrives.
					fc.err = api.ErrUnreachable
				}
				if lists == 3 {
					cancel()
				}
			}
			e := testEnv(t, fc)
			e.isTerminal = func(io.Writer) bool { return terminal }
			r := runWith(ctx, e, "source", "ls", "--watch")
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
			}
			frame := "Every 1ms: lmx source ls  12:00:00\n\n"
			if terminal {
				frame = clearScreen + frame
			}
			table := `NAME      ID        EDGE      STREAMING  PUBLIC  LIVE    BITRATE     UPDATED
camera-0  0b7c1e2a  cam-gw-1  on         no      2s ago  1.2 Mbit/s  5m ago
camera-1  f3a9c2d1  -         off        no      -       -           3h ago
`
			sep := "\n"
			if terminal {
				sep = ""
			}
			want := frame + table + sep + frame + "lmx: control node not reachable\n"
			if !strings.HasPrefix(r.stdout, want) {
				t.Errorf("stdout:\n%q\nwant prefix:\n%q", r.stdout, want)
			}
		})
	}
}

func TestSourceShow(t *testing.T) {
	r := runCLI(t, newFake(), "source", "show", "camera-0")
	wantOK(t, r, `Name:            camera-0
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
`)
}

func TestSourceShowJSON(t *testing.T) {
	r := runCLI(t, newFake(), "source", "show", "f3a9c2d1-0000-4000-8000-000000000001", "--json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var got api.Source
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("not a JSON object: %v\n%s", err, r.stdout)
	}
	if got.Name != "camera-1" {
		t.Errorf("got %+v", got)
	}
}

func TestSourceNotFound(t *testing.T) {
	for _, args := range [][]string{
		{"source", "show", "nope"},
		{"source", "rm", "nope"},
		{"source", "stream", "on", "nope"},
		{"source", "stream", "off", "nope"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			wantErr(t, runCLI(t, newFake(), args...), 1, `source "nope" not found: see lmx source ls`)
		})
	}
}

func TestSourceAdd(t *testing.T) {
	fc := &fakeClient{}
	r := runCLI(t, fc, "source", "add", "camera-2", "--description", "Dock")
	wantOK(t, r, `created source camera-2 (id 0b7c1e2a)
next: push it to an edge with ffmpeg (header Video-Source-Name: camera-2), then run lmx source stream on camera-2
`)
	want := api.NewSource{Name: "camera-2", Description: "Dock", SegmentLen: 4}
	if len(fc.created) != 1 || !reflect.DeepEqual(fc.created[0], want) {
		t.Errorf("created %+v, want %+v", fc.created, want)
	}
}

func TestSourceAddJSON(t *testing.T) {
	fc := &fakeClient{}
	r := runCLI(t, fc, "source", "add", "camera-2", "--segment-len", "2", "--json")
	var got api.Source
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || r.code != 0 {
		t.Fatalf("exit %d, %v:\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	if got.Name != "camera-2" || got.SegmentLength != 2 {
		t.Errorf("got %+v", got)
	}
}

func TestSourceAddRejected(t *testing.T) {
	fc := &fakeClient{err: &api.StatusError{Status: http.StatusBadRequest, Message: `invalid name "a b"`, Detail: "use letters, digits, '-', '_' and '.'"}}
	wantErr(t, runCLI(t, fc, "source", "add", "a b"), 1,
		`creating source "a b": invalid name "a b" (use letters, digits, '-', '_' and '.')`)
}

func TestSourceRm(t *testing.T) {
	fc := newFake()
	wantOK(t, runCLI(t, fc, "source", "rm", "camera-1"), "removed source camera-1\n")
	if len(fc.sources) != 1 || fc.sources[0].Name != "camera-0" {
		t.Errorf("sources left: %+v", fc.sources)
	}
}

func TestSourceAddOnDemand(t *testing.T) {
	fc := &fakeClient{}
	r := runCLI(t, fc, "source", "add", "cam", "--pull", "rtsp://u:pw@10.0.0.7/s", "--on-demand", "--idle", "2m")
	if r.code != 0 {
		t.Fatalf("exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	if len(fc.created) != 1 || !fc.created[0].OnDemand || fc.created[0].IdleSeconds != 120 {
		t.Errorf("created %+v, want on demand with idle 120 s", fc.created)
	}
	fc = &fakeClient{}
	r = runCLI(t, fc, "source", "add", "cam", "--record", "Always", "--record-chunk", "15m", "--retain", "1w")
	if r.code != 0 {
		t.Fatalf("exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	if c := fc.created[0]; c.Record != "always" || c.RecordChunkSeconds != 900 || c.RetainSeconds != 7*24*3600 {
		t.Errorf("created %+v, want record always, 900 s chunks, 1 week", c)
	}
	fc = &fakeClient{}
	if runCLI(t, fc, "source", "add", "cam", "--retain", "forever"); fc.created[0].RetainSeconds != api.RetainForever {
		t.Errorf("--retain forever sent %d", fc.created[0].RetainSeconds)
	}
	for args, want := range map[string][]string{
		"source add: --idle is for on-demand sources: add --on-demand": {"source", "add", "cam", "--idle", "30s"},
		"source add: --idle 1.5s: give whole seconds, at least 1s":     {"source", "add", "cam", "--on-demand", "--idle", "1500ms"},
	} {
		fc := &fakeClient{}
		r := runCLI(t, fc, want...)
		if r.code != 2 || !strings.Contains(r.stderr, "lmx: "+args) || len(fc.created) != 0 {
			t.Errorf("%v: exit %d, stderr %q, created %v", want, r.code, r.stderr, fc.created)
		}
	}
}
