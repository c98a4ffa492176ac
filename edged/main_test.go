package edged

import (
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// shellSplit is how bash splits line into words.
func shellSplit(t *testing.T, line string) []string {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash to split the command with")
	}
	out, err := exec.Command(bash, "-c", "set -- "+line+"\nprintf '%s\\0' \"$@\"").Output()
	if err != nil {
		t.Fatalf("bash: %v", err)
	}
	return strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
}

// TestFFmpegCommandIsFFmpegArgs checks that the command RunMain prints runs
// exactly the ffmpeg the demo runs: bash splits it back into FFmpegArgs.
func TestFFmpegCommandIsFFmpegArgs(t *testing.T) {
	for _, tt := range []struct{ source, dir, url string }{
		{"camera-0", "/var/lib/lmx/segments", "http://127.0.0.1:9080/v1/playlist"},
		{"cam_1", "/srv/my segments/it's $HOME `x` \"q\" \\", "http://[::1]:9080/v1/playlist"},
		{"c", "/tmp/ünï\tcode", "http://edge.lan:1/v1/playlist?a=b&c=d"},
	} {
		line := FFmpegCommand(tt.source, tt.dir, tt.url)
		want := append([]string{"ffmpeg"}, FFmpegArgs(tt.source, tt.dir, tt.url, LiveTestPattern())...)
		if got := shellSplit(t, line); !reflect.DeepEqual(got, want) {
			t.Errorf("bash splits\n%s\ninto %q\nwant %q", line, got, want)
		}
	}
}

func TestFFmpegCommandLines(t *testing.T) {
	got := FFmpegCommand("camera-0", "/segs", "http://127.0.0.1:9080/v1/playlist")
	want := `ffmpeg -hide_banner -loglevel error -re -f lavfi -i testsrc=size=1280x720:rate=25 \
  -c:v libx264 -preset veryfast -tune zerolatency -pix_fmt yuv420p -g 50 -keyint_min 50 -sc_threshold 0 -an \
  -strftime 1 -f hls -hls_time 2 -hls_list_size 5 -hls_flags delete_segments+independent_segments \
  -hls_segment_filename /segs/camera-0-%s.ts \
  -headers $'Video-Source-Name: camera-0\r\nMPEG-TS-URI-Prefix: file:///segs\r\n' \
  -method POST http://127.0.0.1:9080/v1/playlist`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	// The input is an argument: a different one changes only the input.
	args := FFmpegArgs("s", "/d", "u", []string{"-i", "rtsp://cam/1"})
	if i := slices.Index(args, "-i"); i < 0 || args[i+1] != "rtsp://cam/1" || slices.Contains(args, "lavfi") {
		t.Errorf("FFmpegArgs with an RTSP input: %q", args)
	}
}
