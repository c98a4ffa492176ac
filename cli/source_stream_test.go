package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/lmx-video/lmx/api"
)

// streamFake is newFake with camera-0 off and confirmed off.
func streamFake(confirmAfter int) *fakeClient {
	fc := newFake()
	fc.sources[1].Streaming = api.StreamingOff
	fc.sources[1].EdgeStreaming = false
	fc.confirmAfter = confirmAfter
	return fc
}

func TestStreamOnConfirmed(t *testing.T) {
	fc := streamFake(3)
	r := runCLI(t, fc, "source", "stream", "on", "camera-0")
	wantOK(t, r, `camera-0: streaming (edge cam-gw-1)
playback: http://ctl.example:8081/v1/vod/live/camera-0/vid.m3u8
`)
	if fc.polls != 3 {
		t.Errorf("polled %d times, want 3", fc.polls)
	}
}

func TestStreamOnAlreadyConfirmed(t *testing.T) {
	fc := streamFake(0)
	wantOK(t, runCLI(t, fc, "source", "stream", "on", "camera-0"), `camera-0: streaming (edge cam-gw-1)
playback: http://ctl.example:8081/v1/vod/live/camera-0/vid.m3u8
`)
	if fc.polls != 0 {
		t.Errorf("polled %d times though the answer already confirmed", fc.polls)
	}
}

func TestStreamOnJSON(t *testing.T) {
	r := runCLI(t, streamFake(2), "source", "stream", "on", "camera-0", "--json")
	var got api.Source
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || r.code != 0 {
		t.Fatalf("exit %d, %v:\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	if !got.IsStreaming() || !got.EdgeStreaming {
		t.Errorf("got %+v", got)
	}
}

func TestStreamOnTimeout(t *testing.T) {
	fc := streamFake(-1)
	r := runCLI(t, fc, "source", "stream", "on", "camera-0", "--timeout", "20ms")
	wantErr(t, r, 1, `edge "cam-gw-1" did not confirm streaming within 20ms: is it online? see lmx edge ls`)
	if fc.polls == 0 {
		t.Error("never polled")
	}
}

func TestStreamOnNoEdge(t *testing.T) {
	r := runCLI(t, streamFake(-1), "source", "stream", "on", "camera-1", "--timeout", "10ms")
	if r.code != 1 {
		t.Errorf("exit %d", r.code)
	}
	for _, want := range []string{
		`lmx: no edge has pushed source "camera-1" yet`,
		`Video-Source-Name: camera-1\r\n`,
		`-method POST http://EDGE:9080/v1/playlist`,
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
}

func TestStreamOff(t *testing.T) {
	fc := newFake()
	fc.confirmAfter = 1
	wantOK(t, runCLI(t, fc, "source", "stream", "off", "camera-0"), "camera-0: not streaming (edge cam-gw-1)\n")
	if fc.sources[1].IsStreaming() {
		t.Error("streaming still on")
	}
}

func TestStreamOffNoEdge(t *testing.T) {
	// Nothing streams a source no edge has, so off is confirmed at once.
	fc := newFake()
	fc.confirmAfter = -1
	wantOK(t, runCLI(t, fc, "source", "stream", "off", "camera-1"), "camera-1: not streaming\n")
}

func TestStreamOffTimeout(t *testing.T) {
	fc := newFake()
	fc.confirmAfter = -1
	wantErr(t, runCLI(t, fc, "source", "stream", "off", "camera-0", "--timeout", "10ms"), 1,
		`edge "cam-gw-1" did not confirm streaming off within 10ms: is it online? see lmx edge ls`)
}

func TestStreamOnInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fc := streamFake(-1)
	fc.onCall = func(method string) {
		if method == "GetSource" {
			cancel() // Ctrl-C while waiting
		}
	}
	r := runWith(ctx, testEnv(t, fc), "source", "stream", "on", "camera-0", "--timeout", "1h")
	wantErr(t, r, 1, "interrupted")
}

func TestStreamOnLogsWhileWaiting(t *testing.T) {
	r := runCLI(t, streamFake(1), "--log-level", "debug", "--log-format", "json", "source", "stream", "on", "camera-0")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var rec map[string]any
	line, _, _ := strings.Cut(r.stderr, "\n")
	if err := json.Unmarshal([]byte(line), &rec); err != nil {
		t.Fatalf("stderr is not a JSON log: %v\n%s", err, r.stderr)
	}
	if rec["msg"] != "waiting for edge to confirm" || rec["edge"] != "cam-gw-1" {
		t.Errorf("log record %v", rec)
	}
}
