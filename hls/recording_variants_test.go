package hls

import (
	"errors"
	"strings"
	"testing"
)

func TestRenderRecordingMultivariant(t *testing.T) {
	got := string(RenderRecordingMultivariant([]RecordingVariant{
		{URI: "0/vid.m3u8", Bandwidth: 800000, AverageBandwidth: 600000, Resolution: "640x360", Codecs: "avc1.64001e,mp4a.40.2"},
		{URI: "1/vid.m3u8", Bandwidth: 0}, // no media time: BANDWIDTH is still written
		{URI: "2/vid.m3u8", Bandwidth: 9, Resolution: "wide", Codecs: "avc1\"\n#EXT-X-ENDLIST"}, // unsafe values are left out
	}))
	want := "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n" +
		"#EXT-X-STREAM-INF:BANDWIDTH=800000,AVERAGE-BANDWIDTH=600000,CODECS=\"avc1.64001e,mp4a.40.2\",RESOLUTION=640x360\n0/vid.m3u8\n" +
		"#EXT-X-STREAM-INF:BANDWIDTH=1\n1/vid.m3u8\n" +
		"#EXT-X-STREAM-INF:BANDWIDTH=9\n2/vid.m3u8\n"
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if !IsMultivariant([]byte(got)) || IsMultivariant([]byte("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\n0.ts\n")) {
		t.Error("IsMultivariant tells the two forms apart wrongly")
	}
	// The media-playlist parser still refuses it: a multivariant playlist
	// is read with ParseRecordingMultivariant.
	if _, err := ParseMediaPlaylist(strings.NewReader(got), 0); !errors.Is(err, ErrUnsupported) {
		t.Errorf("ParseMediaPlaylist: %v, want ErrUnsupported", err)
	}

	vs, err := ParseRecordingMultivariant(strings.NewReader(got), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 3 || vs[0] != (RecordingVariant{URI: "0/vid.m3u8", Bandwidth: 800000, AverageBandwidth: 600000, Resolution: "640x360", Codecs: "avc1.64001e,mp4a.40.2"}) ||
		vs[1] != (RecordingVariant{URI: "1/vid.m3u8", Bandwidth: 1}) || vs[2].URI != "2/vid.m3u8" {
		t.Errorf("parsed %+v", vs)
	}
}

func TestParseRecordingMultivariantErrors(t *testing.T) {
	for name, c := range map[string]struct{ body, msg string }{
		"not m3u":      {"<html>", "playlist must start with #EXTM3U"},
		"empty":        {"", "empty playlist"},
		"no bandwidth": {"#EXTM3U\n#EXT-X-STREAM-INF:RESOLUTION=1x1\na.m3u8\n", "line 2: EXT-X-STREAM-INF: BANDWIDTH is missing"},
		"bad":          {"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=-3\na.m3u8\n", `BANDWIDTH="-3" is not a decimal integer`},
		"no uri":       {"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=3\n", "line 2: EXT-X-STREAM-INF is not followed by a URI line"},
		"two infs":     {"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=3\n#EXT-X-STREAM-INF:BANDWIDTH=4\nb\n", "the EXT-X-STREAM-INF on line 2 still has no URI line"},
		"stray uri":    {"#EXTM3U\na.m3u8\n", `line 2: URI "a.m3u8" without a preceding EXT-X-STREAM-INF`},
	} {
		_, err := ParseRecordingMultivariant(strings.NewReader(c.body), 0)
		if !errors.Is(err, ErrSyntax) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: %v, want a syntax error with %q", name, err, c.msg)
		}
	}
	if _, err := ParseRecordingMultivariant(strings.NewReader("#EXTM3U\n"+strings.Repeat("#x\n", 100)), 50); !errors.Is(err, ErrTooLarge) {
		t.Errorf("over the limit: %v", err)
	}
}
