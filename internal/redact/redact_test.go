package redact

import (
	"strings"
	"testing"
)

func TestURL(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"rtsp://10.0.0.7/stream", "rtsp://10.0.0.7/stream"},
		{"rtsp://admin:hunter2@10.0.0.7:554/stream", "rtsp://admin:xxxxx@10.0.0.7:554/stream"},
		{"rtsp://admin@10.0.0.7/stream", "rtsp://admin@10.0.0.7/stream"},
		{"rtsp://a%40b:p%3Aw@cam/s", "rtsp://a%40b:xxxxx@cam/s"},
		{"http://cam/video.cgi?user=admin&password=hunter2", "http://cam/video.cgi?password=xxxxx&user=admin"},
		{"srt://cam:9000?mode=caller&passphrase=longsecretphrase", "srt://cam:9000?mode=caller&passphrase=xxxxx"},
		{"not a url with @ in it", Mask},
	} {
		if got := URL(c.in); got != c.want {
			t.Errorf("URL(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestLineHidesEveryForm(t *testing.T) {
	raw := "rtsp://admin:p%40ss%20w@10.0.0.7/stream?token=abc123"
	line := `[rtsp @ 0x55] method DESCRIBE failed: 401 Unauthorized rtsp://admin:p%40ss%20w@10.0.0.7/stream?token=abc123 (p@ss w) abc123 rtsp://admin:p@ss w@x`
	got := Line(line, raw)
	for _, s := range []string{"p%40ss", "p@ss w", "abc123"} {
		if strings.Contains(got, s) {
			t.Errorf("Line left %q in %q", s, got)
		}
	}
	if !strings.Contains(got, "401 Unauthorized") || !strings.Contains(got, "admin") {
		t.Errorf("Line hid too much: %q", got)
	}
}

func FuzzURLNeverShowsPassword(f *testing.F) {
	f.Add("rtsp://u:secretpw@h/p")
	f.Add("rtmp://u:longpassword@h:1935/app/key")
	f.Fuzz(func(t *testing.T, raw string) {
		out := URL(raw)
		for _, s := range Secrets(raw) {
			if len(s) >= 4 && strings.Contains(out, s) && !strings.Contains(strings.ReplaceAll(raw, s, ""), s) {
				t.Fatalf("URL(%q) = %q shows secret %q", raw, out, s)
			}
		}
	})
}

func TestText(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"Connection refused", "Connection refused"},
		{"[rtsp @ 0x5] rtsp://admin:hunter2@10.0.0.7:554/s: 401", "[rtsp @ 0x5] rtsp://admin:xxxxx@10.0.0.7:554/s: 401"},
		{"a rtsp://u:p@h b srt://x:y@z?k=v", "a rtsp://u:xxxxx@h b srt://x:xxxxx@z?k=v"},
		{"rtsp://admin@h/s", "rtsp://admin@h/s"},
		{"rtsp://u:p@ss@h/", "rtsp://u:xxxxx@h/"},
		{"ends with ://", "ends with ://"},
	} {
		if got := Text(c.in); got != c.want {
			t.Errorf("Text(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
