package cli

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/lmx-video/lmx/api"
)

// lastCall is the last recording call the fake saw.
func lastCall(t *testing.T, fc *fakeClient) recCall {
	t.Helper()
	if len(fc.recCalls) == 0 {
		t.Fatal("no recording call")
	}
	return fc.recCalls[len(fc.recCalls)-1]
}

func TestRecStart(t *testing.T) {
	fc := recFake()
	r := runCLI(t, fc, "rec", "start", "camera-0")
	if r.code != 0 || r.stdout != recNew+"\n" {
		t.Fatalf("exit %d, stdout %q, stderr:\n%s", r.code, r.stdout, r.stderr)
	}
	wantStderr := `recording camera-0 from 2025-03-01 12:00:00 (0s ago)
playback: http://ctl.example:8081/v1/vod/recording/` + recNew + `/vid.m3u8
stop it with: lmx rec stop ` + recNew + `
`
	if r.stderr != wantStderr {
		t.Errorf("stderr:\n%s\nwant:\n%s", r.stderr, wantStderr)
	}
	if c := lastCall(t, fc); c.ref != "camera-0" || c.new != (api.NewRecording{}) {
		t.Errorf("asked for %+v, want a recording of camera-0 from now (start_time_epoch 0)", c)
	}
}

func TestRecStartSince(t *testing.T) {
	now := testNow.Unix()
	for _, tc := range []struct {
		args []string
		want int64
	}{
		{[]string{"--since", "-30s"}, now - 30},
		{[]string{"--since=-30s"}, now - 30},
		{[]string{"--since", "-2m", "--alias", "x"}, now - 120},
		{[]string{"--since", "45s"}, now - 45},
		{[]string{"--since", "2025-03-01T11:00:00Z"}, now - 3600},
		{[]string{"--since", "2025-03-01 11:59:00"}, now - 60},
		{[]string{"--since", "1740830000"}, 1740830000},
		{[]string{"--since", "now"}, 0},
		{[]string{"--since-epoch", "1740830000"}, 1740830000},
		{[]string{"--since-epoch", "0"}, 0},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			fc := recFake()
			r := runCLI(t, fc, append([]string{"rec", "start", "camera-0"}, tc.args...)...)
			if r.code != 0 || r.stdout != recNew+"\n" {
				t.Fatalf("exit %d, stdout %q, stderr:\n%s", r.code, r.stdout, r.stderr)
			}
			if got := lastCall(t, fc).new.StartTimeEpoch; got != tc.want {
				t.Errorf("start_time_epoch %d, want %d", got, tc.want)
			}
		})
	}
}

func TestRecStartSinceStderr(t *testing.T) {
	r := runCLI(t, recFake(), "rec", "start", "camera-0", "--since", "-30s")
	if !strings.HasPrefix(r.stderr, "recording camera-0 from 2025-03-01 11:59:30 (30s ago)\n") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

func TestRecStartAliasDescriptionJSON(t *testing.T) {
	fc := recFake()
	r := runCLI(t, fc, "rec", "start", "camera-0", "--alias", "door", "--description", "Opened at night", "--json")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	var got api.Recording
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("not a JSON object: %v\n%s", err, r.stdout)
	}
	if got.ID != recNew || got.Alias != "door" || !got.IsActive() {
		t.Errorf("got %+v", got)
	}
	if c := lastCall(t, fc).new; c.Alias != "door" || c.Description != "Opened at night" {
		t.Errorf("asked for %+v", c)
	}
}

func TestRecStartErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--since", "yesterday"}, 1, `--since: "yesterday" is not a time: write a duration back from now (-30s, -2m, -1h30m), an RFC 3339 time (2026-11-23T10:00:00Z), epoch seconds, or now`},
		{[]string{"--since", "+1m"}, 1, `--since: "+1m" is in the future: a duration counts back from now, write -1m`},
		{[]string{"--since", "2025-03-01T12:30:00Z"}, 1, `--since: "2025-03-01T12:30:00Z" is in the future (it is now 2025-03-01T12:00:00Z): a recording can start now or earlier`},
		{[]string{"--since", "30"}, 1, `--since: "30" read as epoch seconds is 1970-01-01T00:00:30Z: for 30 seconds ago write -30s`},
		{[]string{"--since-epoch=-5"}, 1, `--since-epoch -5: epoch seconds can't be negative`},
		{[]string{"--since-epoch", "1740830460"}, 1, `--since-epoch: "1740830460" is in the future (it is now 2025-03-01T12:00:00Z): a recording can start now or earlier`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			fc := recFake()
			wantErr(t, runCLI(t, fc, append([]string{"rec", "start", "camera-0"}, tc.args...)...), tc.code, tc.msg)
			if len(fc.recCalls) != 0 {
				t.Errorf("called the server: %+v", fc.recCalls)
			}
		})
	}
}

func TestRecStartUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--since", "-30s", "--since-epoch", "1740830000"}, "lmx: --since and --since-epoch can't be used together\n"},
		{[]string{"--since", "--json"}, "lmx: --since: expected time value but got \"--json\" (long flag); perhaps try --since=\"--json\"?\n"},
		{[]string{"--since"}, "lmx: --since: expected time value but got \"EOL\" (<EOL>)\n"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := runCLI(t, nil, append([]string{"rec", "start", "camera-0"}, tc.args...)...)
			if r.code != 2 || !strings.HasPrefix(r.stderr, "Usage: lmx rec start <source>") || !strings.HasSuffix(r.stderr, tc.msg) {
				t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
			}
		})
	}
}

func TestRecStartServerErrors(t *testing.T) {
	wantErr(t, runCLI(t, recFake(), "rec", "start", "nope"), 1, `source "nope" not found: see lmx source ls`)

	fc := recFake()
	fc.err = &api.StatusError{Status: http.StatusBadRequest, Message: "start_time_epoch 1740900000 is in the future", Detail: "recordings start now or in the past (what the edge still buffers)"}
	wantErr(t, runCLI(t, fc, "rec", "start", "camera-0"), 1,
		`starting a recording of "camera-0": start_time_epoch 1740900000 is in the future (recordings start now or in the past (what the edge still buffers))`)
}

func TestRecStop(t *testing.T) {
	fc := recFake()
	wantOK(t, runCLI(t, fc, "rec", "stop", recActive),
		"stopped "+recActive+" (camera-0): 1m32s in 23 segments, 12 MiB, playback "+recPlayback(recActive)+"\n")
	if fc.recordings[1].IsActive() {
		t.Error("still active")
	}

	fc = recFake()
	r := runCLI(t, fc, "rec", "stop", recActive, "--json")
	var got api.Recording
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || r.code != 0 {
		t.Fatalf("exit %d, %v:\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	if got.ID != recActive || got.IsActive() || got.EndTS.IsZero() {
		t.Errorf("got %+v", got)
	}
}

func TestRecStopNoPlayback(t *testing.T) {
	fc := recFake()
	wantOK(t, runCLI(t, fc, "rec", "stop", recEmpty), "stopped "+recEmpty+" (camera-1): 0s in 0 segments, 0 B\n")
}

func TestRecStopErrors(t *testing.T) {
	wantErr(t, runCLI(t, recFake(), "rec", "stop", "nope"), 1, `recording "nope" not found: see lmx rec ls`)
	fc := recFake()
	fc.err = &api.StatusError{Status: http.StatusConflict, Message: "recording already stopped"}
	wantErr(t, runCLI(t, fc, "rec", "stop", recStopped), 1, `stopping recording "`+recStopped+`": recording already stopped`)
}

const recTable = `ID                                    SOURCE    ALIAS        STATE      STARTED              DURATION  SEGMENTS  SIZE
0190f3a2-0000-7000-8000-00000000000a  camera-0  door opened  recording  2025-03-01 11:58:30  1m32s     23        12 MiB
0190f3a1-0000-7000-8000-00000000000b  camera-0  delivery     stopped    2025-03-01 10:00:00  9m44s     146       80 MiB
0190f3a0-0000-7000-8000-00000000000c  camera-1  -            stopped    2025-02-28 10:00:00  0s        0         0 B
`

func TestRecLs(t *testing.T) {
	fc := recFake()
	wantOK(t, runCLI(t, fc, "rec", "ls"), recTable)
	if c := lastCall(t, fc); c.ref != "" || c.active {
		t.Errorf("asked for %+v", c)
	}
}

func TestRecLsFiltered(t *testing.T) {
	fc := recFake()
	wantOK(t, runCLI(t, fc, "rec", "ls", "--source", "camera-0", "--active"),
		`ID                                    SOURCE    ALIAS        STATE      STARTED              DURATION  SEGMENTS  SIZE
0190f3a2-0000-7000-8000-00000000000a  camera-0  door opened  recording  2025-03-01 11:58:30  1m32s     23        12 MiB
`)
	if c := lastCall(t, fc); c.ref != "camera-0" || !c.active {
		t.Errorf("asked for %+v", c)
	}
}

func TestRecLsEmpty(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "no recordings yet: start one with lmx rec start SOURCE\n"},
		{[]string{"--active"}, "no active recordings: start one with lmx rec start SOURCE\n"},
		{[]string{"--source", "camera-1"}, "no recordings of camera-1 yet: start one with lmx rec start camera-1\n"},
		{[]string{"--source", "camera-1", "--active"}, "no active recordings of camera-1: start one with lmx rec start camera-1\n"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			wantOK(t, runCLI(t, newFake(), append([]string{"rec", "ls"}, tc.args...)...), tc.want)
		})
	}
	wantOK(t, runCLI(t, newFake(), "rec", "ls", "--json"), "[]\n")
}

func TestRecLsJSON(t *testing.T) {
	r := runCLI(t, recFake(), "rec", "ls", "--json")
	var got []api.Recording
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || r.code != 0 {
		t.Fatalf("exit %d, %v:\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	if len(got) != 3 || got[0].ID != recActive || got[2].ID != recEmpty || got[0].SourceName != "camera-0" {
		t.Errorf("got %+v", got)
	}
}

func TestRecLsErrors(t *testing.T) {
	wantErr(t, runCLI(t, recFake(), "rec", "ls", "--source", "nope"), 1, `source "nope" not found: see lmx source ls`)
	wantErr(t, runCLI(t, &fakeClient{err: api.ErrUnreachable}, "rec", "ls"), 1, "control node not reachable")
	r := runCLI(t, nil, "rec", "ls", "--json", "--watch")
	if r.code != 2 || !strings.HasSuffix(r.stderr, "lmx: --json and --watch can't be used together\n") {
		t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

func TestRecLsWatch(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fc := recFake()
	lists := 0
	fc.onCall = func(string) {
		lists++
		if lists == 2 {
			cancel()
		}
	}
	r := runWith(ctx, testEnv(t, fc), "rec", "ls", "-w")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	frame := "Every 1ms: lmx rec ls  12:00:00\n\n"
	if want := frame + recTable + "\n" + frame; !strings.HasPrefix(r.stdout, want) {
		t.Errorf("stdout:\n%q\nwant prefix:\n%q", r.stdout, want)
	}
}

func TestRecShowStopped(t *testing.T) {
	wantOK(t, runCLI(t, recFake(), "rec", "show", recStopped), `ID:           0190f3a1-0000-7000-8000-00000000000b
Source:       camera-0 (0b7c1e2a-0000-4000-8000-000000000000)
Alias:        delivery
Description:  Truck at the north gate
State:        stopped
Start:        2025-03-01 10:00:00 (2h ago)
End:          2025-03-01 10:10:00 (1h ago)
First media:  2025-03-01 10:00:00 (2h ago)
Last media:   2025-03-01 10:10:00 (1h ago)
Duration:     9m44s
Segments:     146
Size:         80 MiB (83886080 bytes)
Gaps:         2025-03-01 10:05:00 – 10:05:12 (12 s)
              2025-03-01 10:08:00 – 10:08:04 (4.5 s)
Playback:     http://ctl.example:8081/v1/vod/recording/0190f3a1-0000-7000-8000-00000000000b/vid.m3u8
Play with:    ffplay http://ctl.example:8081/v1/vod/recording/0190f3a1-0000-7000-8000-00000000000b/vid.m3u8
`)
}

func TestRecShowActive(t *testing.T) {
	wantOK(t, runCLI(t, recFake(), "rec", "show", recActive), `ID:           0190f3a2-0000-7000-8000-00000000000a
Source:       camera-0 (0b7c1e2a-0000-4000-8000-000000000000)
Alias:        door opened
Description:  -
State:        recording
Start:        2025-03-01 11:58:30 (1m ago)
End:          - (still recording)
First media:  2025-03-01 11:58:30 (1m ago)
Last media:   2025-03-01 11:59:58 (2s ago)
Duration:     1m32s
Segments:     23
Size:         12 MiB (12582912 bytes)
Gaps:         none
Playback:     http://ctl.example:8081/v1/vod/recording/0190f3a2-0000-7000-8000-00000000000a/vid.m3u8
Play with:    ffplay http://ctl.example:8081/v1/vod/recording/0190f3a2-0000-7000-8000-00000000000a/vid.m3u8
`)
}

func TestRecShowEmpty(t *testing.T) {
	// A LiveMix server sends no source name, media times or playback URL.
	fc := recFake()
	fc.recordings[0].SourceName = ""
	wantOK(t, runCLI(t, fc, "rec", "show", recEmpty), `ID:           0190f3a0-0000-7000-8000-00000000000c
Source:       f3a9c2d1-0000-4000-8000-000000000001
Alias:        -
Description:  -
State:        stopped
Start:        2025-02-28 10:00:00 (26h ago)
End:          2025-02-28 11:00:00 (25h ago)
First media:  -
Last media:   -
Duration:     0s
Segments:     0
Size:         0 B
Gaps:         none
Playback:     -
Play with:    -
`)
}

func TestRecShowJSON(t *testing.T) {
	r := runCLI(t, recFake(), "rec", "show", recStopped, "--json")
	var got api.Recording
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || r.code != 0 {
		t.Fatalf("exit %d, %v:\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	if got.ID != recStopped || len(got.Gaps) != 2 || got.Gaps[1].Seconds != 4.5 {
		t.Errorf("got %+v", got)
	}
}

func TestRecNotFound(t *testing.T) {
	for _, args := range [][]string{
		{"rec", "stop", "nope"},
		{"rec", "show", "nope"},
		{"rec", "rm", "nope"},
		{"rec", "rm", "nope", "--force"},
		{"rec", "export", "nope", "-o", "/nonexistent-dir/clip.ts"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			wantErr(t, runCLI(t, recFake(), args...), 1, `recording "nope" not found: see lmx rec ls`)
		})
	}
}

func TestRecRm(t *testing.T) {
	fc := recFake()
	wantOK(t, runCLI(t, fc, "rec", "rm", recStopped), "removed recording "+recStopped+"\n")
	if len(fc.recordings) != 2 || fc.findRec(recStopped) >= 0 {
		t.Errorf("recordings left: %+v", fc.recordings)
	}
	if c := lastCall(t, fc); c.force {
		t.Error("asked with force")
	}
}

func TestRecRmActive(t *testing.T) {
	fc := recFake()
	// As lmx's control node answers, with the advice in its detail: it is
	// not repeated.
	fc.onCall = func(string) {
		fc.err = &api.StatusError{Status: http.StatusConflict, Message: "recording " + recActive + " is still recording",
			Detail: "stop it first with `lmx rec stop " + recActive + "` or pass --force"}
	}
	wantErr(t, runCLI(t, fc, "rec", "rm", recActive), 1,
		"recording "+recActive+" is still recording: stop it first with `lmx rec stop "+recActive+"` or pass --force")

	// A server with a message of its own (the fake's, here).
	fc = recFake()
	wantErr(t, runCLI(t, fc, "rec", "rm", recActive), 1,
		"recording "+recActive+" is still recording: stop it first with `lmx rec stop "+recActive+"` or pass --force")
	if len(fc.recordings) != 3 {
		t.Error("deleted anyway")
	}

	// A bare 409.
	fc = &fakeClient{err: &api.StatusError{Status: http.StatusConflict}}
	wantErr(t, runCLI(t, fc, "rec", "rm", "r1"), 1,
		"recording r1 is still recording: stop it first with `lmx rec stop r1` or pass --force")
}

func TestRecRmForce(t *testing.T) {
	fc := recFake()
	wantOK(t, runCLI(t, fc, "rec", "rm", recActive, "--force"), "removed recording "+recActive+"\n")
	if c := lastCall(t, fc); !c.force {
		t.Error("asked without force")
	}
	if fc.findRec(recActive) >= 0 {
		t.Error("not deleted")
	}
}

func TestRecMissingArguments(t *testing.T) {
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"rec", "start"}, `lmx: expected "<source>"` + "\n"},
		{[]string{"rec", "stop"}, `lmx: expected "<id>"` + "\n"},
		{[]string{"rec", "export", "r1"}, "lmx: missing flags: --output=FILE\n"},
	} {
		r := runCLI(t, nil, tc.args...)
		if r.code != 2 || !strings.HasSuffix(r.stderr, tc.msg) {
			t.Errorf("%v: exit %d, stderr:\n%s", tc.args, r.code, r.stderr)
		}
	}
}
