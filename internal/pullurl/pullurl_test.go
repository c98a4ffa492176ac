package pullurl

import (
	"errors"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	for _, ok := range []string{
		"rtsp://admin:pw@10.0.0.7:554/stream",
		"rtsps://cam.example/s",
		"rtmp://127.0.0.1:1935/live/cam",
		"srt://127.0.0.1:9000?mode=caller",
		"https://cam.example/live/index.m3u8",
	} {
		if err := Validate(ok); err != nil {
			t.Errorf("Validate(%q) = %v", ok, err)
		}
		if ProtocolWhitelist(ok) == "" {
			t.Errorf("ProtocolWhitelist(%q) is empty", ok)
		}
	}
	for _, bad := range []string{
		"", "file:///etc/passwd", "concat:a|b", "subfile:,,start,0,end,0,,:/etc/passwd",
		"/etc/passwd", "rtsp:///stream", "pipe:0", "gopher://x/",
		"rtsp://u:secretpw@cam/\nx", "rtsp://cam/" + strings.Repeat("a", MaxLen),
	} {
		err := Validate(bad)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("Validate(%q) = %v, want ErrInvalid", bad, err)
		}
		if err != nil && strings.Contains(err.Error(), "secretpw") {
			t.Errorf("error shows the password: %v", err)
		}
	}
	for _, p := range strings.Split(ProtocolWhitelist("https://x/y.m3u8"), ",") {
		if p == "file" || p == "concat" || p == "subfile" || p == "pipe" {
			t.Errorf("whitelist has %q", p)
		}
	}
}
