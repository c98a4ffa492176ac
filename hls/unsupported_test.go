package hls

import (
	"errors"
	"strings"
	"testing"
)

// TestParseRefusesFormsNotCarried: multivariant playlists and an fMP4 init
// section inside a larger file are refused with an error naming the line, the form and what
// to push instead, not taken and served as something no player decodes.
func TestParseRefusesFormsNotCarried(t *testing.T) {
	for name, c := range map[string]struct {
		body       string
		line       int
		wantInText []string
	}{
		"fmp4 in one file (ffmpeg -hls_flags single_file)": {
			body:       "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-MAP:URI=\"vid.mp4\",BYTERANGE=\"720@0\"\n#EXTINF:2.000000,\n#EXT-X-BYTERANGE:9000@720\nvid.mp4\n",
			line:       5,
			wantInText: []string{"EXT-X-MAP", "BYTERANGE", "single_file"},
		},
		"multivariant (ffmpeg -master_pl_name)": {
			body:       "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-STREAM-INF:BANDWIDTH=1140800,RESOLUTION=640x360,CODECS=\"avc1.64001e\"\nvid_0.m3u8\n",
			line:       3,
			wantInText: []string{"EXT-X-STREAM-INF", "multivariant", "/v1/playlist/%v"},
		},
		"alternative renditions": {
			body:       "#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",NAME=\"en\",URI=\"a.m3u8\"\n",
			line:       2,
			wantInText: []string{"EXT-X-MEDIA", "multivariant"},
		},
	} {
		_, err := ParseMediaPlaylist(strings.NewReader(c.body), 1<<20)
		var ue *UnsupportedError
		if !errors.Is(err, ErrUnsupported) || !errors.As(err, &ue) || errors.Is(err, ErrSyntax) {
			t.Errorf("%s: err = %v, want an *UnsupportedError (and not a syntax error)", name, err)
			continue
		}
		if ue.Line != c.line {
			t.Errorf("%s: line %d, want %d", name, ue.Line, c.line)
		}
		for _, w := range c.wantInText {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not say %q", name, err, w)
			}
		}
	}
}
