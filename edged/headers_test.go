package edged

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestParsePushHeaders(t *testing.T) {
	ok := []struct{ name, prefix, dir string }{
		{"camera-0", "file:///path/to/segments", "/path/to/segments"},
		{"camera-0", "file:///path/to/segments/", "/path/to/segments"},
		{"cam.1", "file://localhost/srv/hls", "/srv/hls"},
		{"cam_2", "/srv/hls/../hls2", "/srv/hls2"},
		{" cam ", " file:///x ", "/x"},
	}
	for _, c := range ok {
		got, err := parsePushHeaders(c.name, c.prefix)
		if err != nil || got.Dir != c.dir || got.Source != strings.TrimSpace(c.name) {
			t.Errorf("parsePushHeaders(%q, %q) = %+v, %v; want dir %q", c.name, c.prefix, got, err, c.dir)
		}
	}
	bad := []struct{ name, prefix, want string }{
		{"", "file:///x", "Video-Source-Name is missing"},
		{"a/b", "file:///x", "Video-Source-Name"},
		{"cam", "", "MPEG-TS-URI-Prefix is missing"},
		{"cam", "http://host/x", "only file://"},
		{"cam", "file://otherhost/x", "must not name a host"},
		{"cam", "relative/dir", "absolute"},
		{"cam", "file:///x?y=1", "query"},
	}
	for _, c := range bad {
		_, err := parsePushHeaders(c.name, c.prefix)
		if !errors.Is(err, ErrBadHeader) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("parsePushHeaders(%q, %q) = %v; want ErrBadHeader mentioning %q", c.name, c.prefix, err, c.want)
		}
	}
}

// FuzzParsePushHeaders checks that any header pair either fails with
// ErrBadHeader or yields a clean absolute directory and a valid name.
func FuzzParsePushHeaders(f *testing.F) {
	f.Add("camera-0", "file:///path/to/segments")
	f.Add("cam", "file://localhost/a/../../b")
	f.Add("", "")
	f.Add("x", "/a/b/")
	f.Fuzz(func(t *testing.T, name, prefix string) {
		got, err := parsePushHeaders(name, prefix)
		if err != nil {
			if !errors.Is(err, ErrBadHeader) {
				t.Fatalf("error does not wrap ErrBadHeader: %v", err)
			}
			return
		}
		if !filepath.IsAbs(got.Dir) || filepath.Clean(got.Dir) != got.Dir {
			t.Fatalf("dir %q is not clean and absolute", got.Dir)
		}
		if strings.ContainsAny(got.Source, "/\\ \x00") || got.Source == "" {
			t.Fatalf("source %q accepted", got.Source)
		}
	})
}
