package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/lmx-video/lmx/api"
)

func TestRecPinUnpin(t *testing.T) {
	fc := recFake()
	wantOK(t, runCLI(t, fc, "rec", "pin", recStopped), "pinned "+recStopped+" (camera-0): retention never deletes it\n")
	if c := lastCall(t, fc); c.method != "PinRecording" || c.ref != recStopped || !c.active {
		t.Errorf("asked for %+v", c)
	}
	// The table gains a KEPT column once retention has something to say.
	r := runCLI(t, fc, "rec", "ls")
	if !strings.Contains(r.stdout, "KEPT") || !strings.Contains(r.stdout, "pinned") {
		t.Errorf("rec ls:\n%s", r.stdout)
	}
	want := "unpinned " + recStopped + " (camera-0): kept until " + localStamp(fc.recordings[fc.findRec(recStopped)].EndTS.Add(7*24*time.Hour)) + ", and may go sooner for --retain-size\n"
	wantOK(t, runCLI(t, fc, "rec", "unpin", recStopped), want)
	wantOK(t, runCLI(t, fc, "rec", "unpin", recActive), "unpinned "+recActive+" (camera-0): still recording; retention counts from its stop\n")
	wantErr(t, runCLI(t, fc, "rec", "pin", "nope"), 1, `recording "nope" not found: see lmx rec ls`)
}

func TestRecKept(t *testing.T) {
	exp := time.Date(2025, 3, 8, 10, 0, 0, 0, time.Local)
	for _, tc := range []struct {
		r    api.Recording
		want string
	}{
		{api.Recording{}, "-"},
		{api.Recording{Continuous: true}, "continuous"},
		{api.Recording{Continuous: true, Pinned: true}, "continuous, pinned"},
		{api.Recording{ExpiresAt: exp}, "until 2025-03-08 10:00:00"},
	} {
		if got := recKept(tc.r); got != tc.want {
			t.Errorf("recKept(%+v) = %q, want %q", tc.r, got, tc.want)
		}
	}
}

func TestSourceSetRecordAndRetain(t *testing.T) {
	fc := newFake()
	r := runCLI(t, fc, "source", "set", "camera-0", "--record", "always", "--record-chunk", "1h", "--retain", "7d")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	u := lastAuth(t, fc).update
	if u.Record == nil || *u.Record != api.RecordAlways || u.RecordChunkSeconds == nil || *u.RecordChunkSeconds != 3600 ||
		u.RetainSeconds == nil || *u.RetainSeconds != 7*24*3600 || u.Public != nil {
		t.Errorf("asked for %s", updateString(u))
	}
	for args, want := range map[string]int64{"--retain forever": api.RetainForever, "--retain default": 0, "--retain 2w": 14 * 24 * 3600} {
		if r := runCLI(t, fc, append([]string{"source", "set", "camera-0"}, strings.Fields(args)...)...); r.code != 0 {
			t.Fatalf("%s: exit %d: %s", args, r.code, r.stderr)
		}
		if u := lastAuth(t, fc).update; u.RetainSeconds == nil || *u.RetainSeconds != want || u.Record != nil {
			t.Errorf("%s: asked for %s", args, updateString(u))
		}
	}
	for args, msg := range map[string]string{
		"--record sometimes":  `--record "sometimes": want always or off`,
		"--record-chunk 1s":   `"1s": a chunk is between 10s and 1d`,
		"--retain soon":       `"soon" is not a retention`,
		"--record-chunk 1m3x": `"1m3x" is not a chunk length`,
	} {
		r := runCLI(t, nil, append([]string{"source", "set", "camera-0"}, strings.Fields(args)...)...)
		if r.code != 2 || !strings.Contains(r.stderr, msg) {
			t.Errorf("%s: exit %d, stderr:\n%s", args, r.code, r.stderr)
		}
	}
}
