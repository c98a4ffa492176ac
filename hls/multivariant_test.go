package hls

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// updateGoldens rewrites the rendered goldens under testdata instead of
// comparing with them: go test ./hls -run TestRenderMultivariantGolden -update
var updateGoldens = flag.Bool("update", false, "rewrite the rendered goldens under testdata")

func mustParseMultivariant(t testing.TB, s string) *MultivariantPlaylist {
	t.Helper()
	p, err := ParseMultivariantPlaylist(strings.NewReader(s), 0)
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, s)
	}
	return p
}

// ffmpegMasters are the multivariant playlists under testdata, each with
// the ffmpeg 5.1 arguments that wrote it (after the two lavfi inputs
// testsrc=size=640x360:rate=25 and sine) and what it parses to. The
// arguments are run again by TestFFmpegWritesMultivariantGoldens, so the
// files stay what ffmpeg really writes.
var ffmpegMasters = []struct {
	file string
	args []string
	want MultivariantPlaylist
}{
	{
		// No -b:v: ffmpeg knows no bitrate and writes no variant.
		file: "ffmpeg-master-nobitrate.m3u8",
		args: []string{"-map", "0:v", "-map", "0:v", "-s:v:1", "320x180", "-var_stream_map", "v:0 v:1"},
		want: MultivariantPlaylist{Version: 3},
	},
	{
		file: "ffmpeg-master-bitrate.m3u8",
		args: []string{"-map", "0:v", "-map", "0:v", "-s:v:1", "320x180", "-b:v:0", "800k", "-b:v:1", "2500k", "-var_stream_map", "v:0 v:1"},
		want: MultivariantPlaylist{Version: 3, Variants: []Variant{
			{Bandwidth: 880000, Width: 640, Height: 360, Codecs: "avc1.64001e", URI: "0.m3u8", Line: 3},
			{Bandwidth: 2750000, Width: 320, Height: 180, Codecs: "avc1.640015", URI: "1.m3u8", Line: 6},
		}},
	},
	{
		file: "ffmpeg-master-muxed-audio.m3u8",
		args: []string{"-map", "0:v", "-map", "1:a", "-map", "0:v", "-map", "1:a", "-s:v:0", "1280x720", "-profile:v:0", "high", "-profile:v:1", "main", "-c:a", "aac", "-b:v:0", "2500k", "-b:v:1", "800k", "-b:a", "128k", "-var_stream_map", "v:0,a:0 v:1,a:1"},
		want: MultivariantPlaylist{Version: 3, Variants: []Variant{
			{Bandwidth: 2890800, Width: 1280, Height: 720, Codecs: "avc1.64001f,mp4a.40.2", URI: "0.m3u8", Line: 3},
			{Bandwidth: 1020800, Width: 640, Height: 360, Codecs: "avc1.4d401e,mp4a.40.2", URI: "1.m3u8", Line: 6},
		}},
	},
	{
		file: "ffmpeg-master-audio-group.m3u8",
		args: []string{"-map", "0:v", "-map", "0:v", "-map", "1:a", "-c:a", "aac", "-b:v:0", "800k", "-b:v:1", "2500k", "-b:a", "128k", "-hls_flags", "independent_segments", "-var_stream_map", "a:0,agroup:aud,name:audio,default:yes,language:eng v:0,agroup:aud v:1,agroup:aud"},
		want: MultivariantPlaylist{Version: 6,
			Renditions: []Rendition{{Type: "AUDIO", GroupID: "group_aud", Name: "audio_0", Default: true, Language: "eng", URI: "audio.m3u8", Line: 3}},
			Variants: []Variant{
				{Bandwidth: 1020800, Width: 640, Height: 360, Codecs: "avc1.64001e,mp4a.40.2", Audio: "group_aud", URI: "1.m3u8", Line: 4},
				{Bandwidth: 2890800, Width: 640, Height: 360, Codecs: "avc1.64001e,mp4a.40.2", Audio: "group_aud", URI: "2.m3u8", Line: 7},
			}},
	},
}

func TestParseMultivariantFFmpeg(t *testing.T) {
	for _, tc := range ffmpegMasters {
		t.Run(tc.file, func(t *testing.T) {
			got := mustParseMultivariant(t, readTestdata(t, tc.file))
			if !reflect.DeepEqual(*got, tc.want) {
				t.Fatalf("got  %+v\nwant %+v", *got, tc.want)
			}
		})
	}
}

// TestFFmpegWritesMultivariantGoldens runs ffmpeg with each golden's
// arguments and compares what it writes with the file, so the goldens (and
// the fuzz seeds made from them) are what the installed ffmpeg writes.
func TestFFmpegWritesMultivariantGoldens(t *testing.T) {
	if testing.Short() {
		t.Skip("runs ffmpeg")
	}
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("ffmpeg not installed (make test-deps)")
	}
	for _, tc := range ffmpegMasters {
		t.Run(tc.file, func(t *testing.T) {
			dir := t.TempDir()
			args := []string{"-hide_banner", "-nostdin", "-loglevel", "error",
				"-f", "lavfi", "-i", "testsrc=size=640x360:rate=25", "-f", "lavfi", "-i", "sine"}
			args = append(args, tc.args...)
			args = append(args, "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-g", "25", "-t", "2",
				"-f", "hls", "-hls_time", "1", "-master_pl_name", "master.m3u8", filepath.Join(dir, "%v.m3u8"))
			if out, err := exec.Command(ffmpeg, args...).CombinedOutput(); err != nil {
				t.Fatalf("ffmpeg: %v\n%s", err, out)
			}
			got, err := os.ReadFile(filepath.Join(dir, "master.m3u8"))
			if err != nil {
				t.Fatal(err)
			}
			if want := readTestdata(t, tc.file); string(got) != want {
				t.Fatalf("ffmpeg wrote\n%s\ntestdata/%s holds\n%s", got, tc.file, want)
			}
		})
	}
}

func TestParseMultivariantAccepts(t *testing.T) {
	cases := map[string]struct {
		in   string
		want MultivariantPlaylist
	}{
		"every modelled attribute, CRLF, blanks, comments, unknown tags and attributes": {
			in: "#EXTM3U\r\n# a comment\r\n#EXT-X-VERSION:7\r\n#EXT-X-INDEPENDENT-SEGMENTS\r\n" +
				"#EXT-X-SESSION-DATA:DATA-ID=\"com.example\",VALUE=\"x\"\r\n" +
				`#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aac",NAME="English, stereo",LANGUAGE="en",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="a/en.m3u8"` + "\r\n" +
				`#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English",FORCED=YES,URI="s/en.m3u8"` + "\r\n" +
				`#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID="cc",NAME="CC1",INSTREAM-ID="CC1"` + "\r\n" +
				`#EXT-X-MEDIA:TYPE=VIDEO,GROUP-ID="cam",NAME="wide"` + "\r\n" +
				"  \r\n" +
				`#EXT-X-STREAM-INF:BANDWIDTH=2890800,AVERAGE-BANDWIDTH=2500000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=1280x720,FRAME-RATE=29.970,AUDIO="aac",VIDEO="cam",SUBTITLES="subs",CLOSED-CAPTIONS="cc",HDCP-LEVEL=NONE,X-FUTURE=0x1F` + "\r\n" +
				"#EXT-X-UNKNOWN-TAG\r\n" +
				"  hi/index.m3u8  \r\n" +
				"#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=1,URI=\"iframes.m3u8\"\r\n" +
				"#EXT-X-STREAM-INF:BANDWIDTH=1,  CLOSED-CAPTIONS=\"cc\"\r\n" +
				"lo.m3u8",
			want: MultivariantPlaylist{Version: 7, IndependentSegments: true,
				Renditions: []Rendition{
					{Type: "AUDIO", GroupID: "aac", Name: "English, stereo", Language: "en", Default: true, Autoselect: true, Channels: "2", URI: "a/en.m3u8", Line: 6},
					{Type: "SUBTITLES", GroupID: "subs", Name: "English", Forced: true, URI: "s/en.m3u8", Line: 7},
					{Type: "CLOSED-CAPTIONS", GroupID: "cc", Name: "CC1", InstreamID: "CC1", Line: 8},
					{Type: "VIDEO", GroupID: "cam", Name: "wide", Line: 9},
				},
				Variants: []Variant{
					{Bandwidth: 2890800, AverageBandwidth: 2500000, Codecs: "avc1.64001f,mp4a.40.2", Width: 1280, Height: 720, FrameRate: 29.97,
						Audio: "aac", Video: "cam", Subtitles: "subs", ClosedCaptions: "cc", URI: "hi/index.m3u8", Line: 11},
					{Bandwidth: 1, ClosedCaptions: "cc", URI: "lo.m3u8", Line: 15},
				}},
		},
		"only #EXTM3U": {in: "#EXTM3U\n", want: MultivariantPlaylist{}},
		"repeated INDEPENDENT-SEGMENTS": {
			in:   "#EXTM3U\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-INDEPENDENT-SEGMENTS\n",
			want: MultivariantPlaylist{IndependentSegments: true},
		},
		"DEFAULT=YES without AUTOSELECT": {
			in:   "#EXTM3U\n" + `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="x",DEFAULT=YES` + "\n",
			want: MultivariantPlaylist{Renditions: []Rendition{{Type: "AUDIO", GroupID: "a", Name: "x", Default: true, Line: 2}}},
		},
		"same NAME in two groups": {
			in: "#EXTM3U\n" + `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="x"` + "\n" + `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="b",NAME="x"` + "\n",
			want: MultivariantPlaylist{Renditions: []Rendition{
				{Type: "AUDIO", GroupID: "a", Name: "x", Line: 2}, {Type: "AUDIO", GroupID: "b", Name: "x", Line: 3}}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := mustParseMultivariant(t, tc.in)
			if !reflect.DeepEqual(*got, tc.want) {
				t.Fatalf("got  %+v\nwant %+v", *got, tc.want)
			}
		})
	}
}

func TestParseMultivariantErrors(t *testing.T) {
	const si = "#EXT-X-STREAM-INF:"
	cases := map[string]struct {
		in   string
		line int
		msg  string
	}{
		"empty":                    {"", 1, "empty playlist"},
		"no EXTM3U":                {"#EXT-X-VERSION:3\n", 1, "must start with #EXTM3U"},
		"duplicate EXTM3U":         {"#EXTM3U\n#EXTM3U\n", 2, "duplicate #EXTM3U"},
		"duplicate VERSION":        {"#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-VERSION:3\n", 3, "duplicate EXT-X-VERSION (first on line 2)"},
		"bad VERSION":              {"#EXTM3U\n#EXT-X-VERSION:-3\n", 2, `EXT-X-VERSION "-3" is not a positive integer`},
		"INDEPENDENT with value":   {"#EXTM3U\n#EXT-X-INDEPENDENT-SEGMENTS:YES\n", 2, "takes no value"},
		"a media playlist":         {"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\na.ts\n", 2, "EXT-X-TARGETDURATION is a media playlist tag"},
		"media tag among variants": {"#EXTM3U\n" + si + "BANDWIDTH=1\na.m3u8\n#EXTINF:2,\n", 4, "EXTINF is a media playlist tag"},
		"URI without STREAM-INF":   {"#EXTM3U\na.m3u8\n", 2, `URI "a.m3u8" without a preceding EXT-X-STREAM-INF`},
		"STREAM-INF without URI":   {"#EXTM3U\n" + si + "BANDWIDTH=1\n\n# comment\n", 2, "not followed by a URI line"},
		"STREAM-INF after STREAM-INF": {"#EXTM3U\n" + si + "BANDWIDTH=1\n" + si + "BANDWIDTH=2\nb.m3u8\n", 3,
			"EXT-X-STREAM-INF while the EXT-X-STREAM-INF on line 2 still has no URI line"},
		"no BANDWIDTH":          {"#EXTM3U\n" + si + `CODECS="avc1.64001f"` + "\na.m3u8\n", 2, "BANDWIDTH is missing"},
		"BANDWIDTH=0":           {"#EXTM3U\n" + si + "BANDWIDTH=0\na.m3u8\n", 2, "BANDWIDTH=0"},
		"quoted BANDWIDTH":      {"#EXTM3U\n" + si + `BANDWIDTH="1"` + "\na.m3u8\n", 2, `BANDWIDTH="1" is not a decimal integer`},
		"negative BANDWIDTH":    {"#EXTM3U\n" + si + "BANDWIDTH=-1\na.m3u8\n", 2, `BANDWIDTH="-1" is not a decimal integer`},
		"huge BANDWIDTH":        {"#EXTM3U\n" + si + "BANDWIDTH=99999999999999999999\na.m3u8\n", 2, "is above"},
		"bad AVERAGE-BANDWIDTH": {"#EXTM3U\n" + si + "BANDWIDTH=1,AVERAGE-BANDWIDTH=1.5\na.m3u8\n", 2, "AVERAGE-BANDWIDTH"},
		"unquoted CODECS":       {"#EXTM3U\n" + si + "BANDWIDTH=1,CODECS=avc1\na.m3u8\n", 2, "CODECS=avc1 must be a quoted string"},
		"CODECS comma unquoted": {"#EXTM3U\n" + si + "BANDWIDTH=1,CODECS=avc1,mp4a.40.2\na.m3u8\n", 2, "expected an attribute name"},
		"unterminated quote":    {"#EXTM3U\n" + si + `BANDWIDTH=1,CODECS="avc1` + "\na.m3u8\n", 2, "no closing quote"},
		"RESOLUTION bad":        {"#EXTM3U\n" + si + "BANDWIDTH=1,RESOLUTION=1280*720\na.m3u8\n", 2, "not a decimal resolution"},
		"RESOLUTION zero":       {"#EXTM3U\n" + si + "BANDWIDTH=1,RESOLUTION=0x720\na.m3u8\n", 2, "each dimension must be in [1, 16384]"},
		"RESOLUTION huge":       {"#EXTM3U\n" + si + "BANDWIDTH=1,RESOLUTION=99999x720\na.m3u8\n", 2, "each dimension"},
		"FRAME-RATE exponent":   {"#EXTM3U\n" + si + "BANDWIDTH=1,FRAME-RATE=2e1\na.m3u8\n", 2, "not a decimal number"},
		"FRAME-RATE zero":       {"#EXTM3U\n" + si + "BANDWIDTH=1,FRAME-RATE=0.000\na.m3u8\n", 2, "outside"},
		"duplicate attribute":   {"#EXTM3U\n" + si + "BANDWIDTH=1,BANDWIDTH=2\na.m3u8\n", 2, "attribute BANDWIDTH appears twice"},
		"trailing comma":        {"#EXTM3U\n" + si + "BANDWIDTH=1,\na.m3u8\n", 2, "ends with a comma"},
		"lower-case name":       {"#EXTM3U\n" + si + "bandwidth=1\na.m3u8\n", 2, "expected an attribute name"},
		"no value":              {"#EXTM3U\n" + si + "BANDWIDTH\na.m3u8\n", 2, "BANDWIDTH has no '='"},
		"empty value":           {"#EXTM3U\n" + si + "BANDWIDTH=,X=1\na.m3u8\n", 2, "BANDWIDTH has an empty value"},
		"blank in unquoted":     {"#EXTM3U\n" + si + "BANDWIDTH=1 2\na.m3u8\n", 2, "contains ' '"},
		"garbage after quote":   {"#EXTM3U\n" + si + `BANDWIDTH=1,CODECS="a"b` + "\na.m3u8\n", 2, "expected ',' after the value"},
		"empty attribute list":  {"#EXTM3U\n" + si + "\na.m3u8\n", 2, "empty attribute list"},
		"AUDIO group undefined": {"#EXTM3U\n" + si + `BANDWIDTH=1,AUDIO="aac"` + "\na.m3u8\n", 2, `AUDIO="aac" names no EXT-X-MEDIA group of TYPE=AUDIO`},
		"AUDIO group of wrong type": {"#EXTM3U\n" + `#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="aac",NAME="x",URI="s.m3u8"` + "\n" + si + `BANDWIDTH=1,AUDIO="aac"` + "\na.m3u8\n", 3,
			"names no EXT-X-MEDIA group of TYPE=AUDIO"},
		"empty AUDIO":                    {"#EXTM3U\n" + si + `BANDWIDTH=1,AUDIO=""` + "\na.m3u8\n", 2, "AUDIO is empty"},
		"CLOSED-CAPTIONS enum":           {"#EXTM3U\n" + si + `BANDWIDTH=1,CLOSED-CAPTIONS=SOME` + "\na.m3u8\n", 2, "is not one of NONE"},
		"MEDIA without TYPE":             {"#EXTM3U\n" + `#EXT-X-MEDIA:GROUP-ID="a",NAME="x"` + "\n", 2, "TYPE is missing"},
		"MEDIA bad TYPE":                 {"#EXTM3U\n" + `#EXT-X-MEDIA:TYPE=MUSIC,GROUP-ID="a",NAME="x"` + "\n", 2, `TYPE="MUSIC" is not one of`},
		"MEDIA quoted TYPE":              {"#EXTM3U\n" + `#EXT-X-MEDIA:TYPE="AUDIO",GROUP-ID="a",NAME="x"` + "\n", 2, "must not be quoted"},
		"MEDIA DEFAULT maybe":            {"#EXTM3U\n" + `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="x",DEFAULT=MAYBE` + "\n", 2, "DEFAULT"},
		"MEDIA DEFAULT no AUTO":          {"#EXTM3U\n" + `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="x",DEFAULT=YES,AUTOSELECT=NO` + "\n", 2, "DEFAULT=YES needs AUTOSELECT=YES"},
		"MEDIA FORCED audio":             {"#EXTM3U\n" + `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="x",FORCED=YES` + "\n", 2, "FORCED is only for TYPE=SUBTITLES"},
		"MEDIA CC with URI":              {"#EXTM3U\n" + `#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID="a",NAME="x",INSTREAM-ID="CC1",URI="c.m3u8"` + "\n", 2, "must not have a URI"},
		"MEDIA CC no INSTREAM-ID":        {"#EXTM3U\n" + `#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID="a",NAME="x"` + "\n", 2, "needs INSTREAM-ID"},
		"MEDIA INSTREAM-ID audio":        {"#EXTM3U\n" + `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="x",INSTREAM-ID="CC1"` + "\n", 2, "INSTREAM-ID is only for"},
		"MEDIA subtitles no URI":         {"#EXTM3U\n" + `#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="a",NAME="x"` + "\n", 2, "TYPE=SUBTITLES needs a URI"},
		"MEDIA name twice":               {"#EXTM3U\n" + `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="x"` + "\n" + `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="x"` + "\n", 3, `NAME "x" appears twice in AUDIO group "a" (first on line 2)`},
		"MEDIA while STREAM-INF pending": {"#EXTM3U\n" + si + "BANDWIDTH=1\n" + `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="x"` + "\na.m3u8\n", 3, "still has no URI line"},
		"control character":              {"#EXTM3U\n" + si + "BANDWIDTH=1,CODECS=\"a\x01\"\na.m3u8\n", 2, "control character 0x01"},
		"invalid UTF-8":                  {"#EXTM3U\n" + si + "BANDWIDTH=1\na\xff.m3u8\n", 3, "invalid UTF-8"},
		"long value":                     {"#EXTM3U\n" + si + `BANDWIDTH=1,CODECS="` + strings.Repeat("a", 1025) + "\"\na.m3u8\n", 2, "value is 1025 bytes, longer than 1024"},
		"long URI":                       {"#EXTM3U\n" + si + "BANDWIDTH=1\n" + strings.Repeat("a", 1025) + "\n", 3, "variant URI is 1025 bytes"},
		"too many attributes": {"#EXTM3U\n" + si + "BANDWIDTH=1" + func() string {
			var b strings.Builder
			for i := range 40 {
				b.WriteString(",X-" + strconv.Itoa(i) + "=1")
			}
			return b.String()
		}() + "\na.m3u8\n", 2, "more than 32 attributes"},
		"CLOSED-CAPTIONS=NONE on one variant": {"#EXTM3U\n" + si + "BANDWIDTH=1,CLOSED-CAPTIONS=NONE\na.m3u8\n" + si + "BANDWIDTH=2\nb.m3u8\n", 4,
			"CLOSED-CAPTIONS=NONE must be on every variant or none"},
		"CLOSED-CAPTIONS=NONE everywhere, undefined AUDIO": {"#EXTM3U\n" + si + "BANDWIDTH=1,CLOSED-CAPTIONS=NONE\na.m3u8\n" + si + "BANDWIDTH=2,CLOSED-CAPTIONS=NONE,AUDIO=\"x\"\nb.m3u8\n", 4,
			`AUDIO="x" names no`},
		"too many variants": {"#EXTM3U\n" + strings.Repeat(si+"BANDWIDTH=1\na.m3u8\n", 33), 66, "more than 32 variants"},
		"too many renditions": {"#EXTM3U\n" + func() string {
			var b strings.Builder
			for i := range 65 {
				b.WriteString(`#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="` + strconv.Itoa(i) + "\"\n")
			}
			return b.String()
		}(), 66, "more than 64 EXT-X-MEDIA renditions"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p, err := ParseMultivariantPlaylist(strings.NewReader(tc.in), 0)
			var se *SyntaxError
			if !errors.As(err, &se) || !errors.Is(err, ErrSyntax) {
				t.Fatalf("got %+v, %v; want a *SyntaxError", p, err)
			}
			if se.Line != tc.line || !strings.Contains(se.Msg, tc.msg) {
				t.Fatalf("got line %d %q; want line %d containing %q", se.Line, se.Msg, tc.line, tc.msg)
			}
		})
	}
}

func TestParseMultivariantTooLarge(t *testing.T) {
	body := "#EXTM3U\n" + strings.Repeat("# padding\n", 100)
	if _, err := ParseMultivariantPlaylist(strings.NewReader(body), int64(len(body))); err != nil {
		t.Fatalf("exactly the limit: %v", err)
	}
	_, err := ParseMultivariantPlaylist(strings.NewReader(body), int64(len(body)-1))
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("one byte over the limit: got %v, want ErrTooLarge", err)
	}
	big := strings.NewReader("#EXTM3U\n" + strings.Repeat("#", DefaultMaxMultivariantBytes))
	if _, err := ParseMultivariantPlaylist(big, 0); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("default limit: got %v, want ErrTooLarge", err)
	}
}

func TestAttributeList(t *testing.T) {
	l, err := parseAttributeList(`CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=1920x1080,IV=0x0123456789abcdefABCDEF0123456789,TYPE=AUDIO,FRAME-RATE=23.976,NAME="a=b, \"c"`)
	if err == nil {
		t.Fatalf("a quote inside a quoted string parsed: %+v", l)
	}
	l, err = parseAttributeList(`CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=1920x1080,IV=0x0123456789abcdefABCDEF0123456789,TYPE=AUDIO,FRAME-RATE=23.976,NAME="a=b, c",EMPTY=""`)
	if err != nil {
		t.Fatal(err)
	}
	want := attrList{
		{name: "CODECS", value: "avc1.64001f,mp4a.40.2", quoted: true},
		{name: "RESOLUTION", value: "1920x1080"},
		{name: "IV", value: "0x0123456789abcdefABCDEF0123456789"},
		{name: "TYPE", value: "AUDIO"},
		{name: "FRAME-RATE", value: "23.976"},
		{name: "NAME", value: "a=b, c", quoted: true},
		{name: "EMPTY", value: "", quoted: true},
	}
	if !reflect.DeepEqual(l, want) {
		t.Fatalf("got  %+v\nwant %+v", l, want)
	}
	if w, h, err := want[1].resolution(); err != nil || w != 1920 || h != 1080 {
		t.Fatalf("resolution: %d %d %v", w, h, err)
	}
	if f, err := want[4].decimalFloat(); err != nil || f != 23.976 {
		t.Fatalf("decimalFloat: %v %v", f, err)
	}
	if _, err := want[0].enumerated(); err == nil {
		t.Fatal("a quoted string read as an enumerated string")
	}
	if _, err := want[6].nonEmptyQuoted(); err == nil {
		t.Fatal(`"" accepted as a non-empty quoted string`)
	}
	for _, bad := range []string{"1920x", "x1080", "1920x1080x1", "+1920x1080", "1920X1080"} {
		if _, _, err := (attribute{name: "RESOLUTION", value: bad}).resolution(); err == nil {
			t.Errorf("resolution %q accepted", bad)
		}
	}
	for _, bad := range []string{"1.2.3", ".", "-1", "1e3", "Inf", "NaN", "0x10"} {
		if _, err := (attribute{name: "F", value: bad}).decimalFloat(); err == nil {
			t.Errorf("decimal float %q accepted", bad)
		}
	}
}

// ladder is what lmx renders for a two-rung ABR source once the segments
// have been probed.
var ladder = []Variant{
	{Bandwidth: 2890800, AverageBandwidth: 2400000, Codecs: "avc1.64001f,mp4a.40.2", Width: 1280, Height: 720, FrameRate: 25, URI: "0/vid.m3u8"},
	{Bandwidth: 1020800, Codecs: "avc1.4d401e,mp4a.40.2", Width: 640, Height: 360, FrameRate: 30000.0 / 1001, URI: "1/vid.m3u8?grant=a,b"},
	{Bandwidth: 96000, Codecs: "mp4a.40.2", URI: "audio/vid.m3u8"},
}

// TestRenderMultivariantGolden compares rendered playlists with the files
// under testdata (go test ./hls -run TestRenderMultivariantGolden -update
// rewrites them), and checks each parses back to what was rendered.
func TestRenderMultivariantGolden(t *testing.T) {
	groups := &MultivariantPlaylist{
		IndependentSegments: true,
		Renditions: []Rendition{
			{Type: RenditionAudio, GroupID: "aud", Name: "English", Language: "en", Default: true, Autoselect: true, Channels: "2", URI: "a/en.m3u8"},
			{Type: RenditionAudio, GroupID: "aud", Name: "Deutsch", Language: "de", Autoselect: true, URI: "a/de.m3u8"},
			{Type: RenditionClosedCaptions, GroupID: "cc", Name: "English", InstreamID: "SERVICE1"},
		},
		Variants: []Variant{
			{Bandwidth: 2890800, Codecs: "avc1.64001f,mp4a.40.2", Width: 1280, Height: 720, Audio: "aud", ClosedCaptions: "cc", URI: "hi.m3u8"},
			{Bandwidth: 1020800, Codecs: "avc1.4d401e,mp4a.40.2", Width: 640, Height: 360, Audio: "aud", ClosedCaptions: "cc", URI: "lo.m3u8"},
		},
	}
	cases := []struct {
		file string
		pl   *MultivariantPlaylist
	}{
		{"lmx-multivariant-ladder.m3u8", &MultivariantPlaylist{IndependentSegments: true, Variants: ladder}},
		{"lmx-multivariant-empty.m3u8", &MultivariantPlaylist{}},
		{"lmx-multivariant-groups.m3u8", groups},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			got, err := RenderMultivariantPlaylist(tc.pl)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tc.file)
			if *updateGoldens {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if want := readTestdata(t, tc.file); string(got) != want {
				t.Fatalf("got\n%s\nwant (%s)\n%s", got, path, want)
			}
			back := mustParseMultivariant(t, string(got))
			if d := diffMultivariant(tc.pl, back); d != "" {
				t.Fatalf("parsed back differently: %s", d)
			}
		})
	}
	// RenderMultivariant is the variant-only form.
	got, err := RenderMultivariant(ladder, true)
	if err != nil {
		t.Fatal(err)
	}
	if want := readTestdata(t, "lmx-multivariant-ladder.m3u8"); string(got) != want {
		t.Fatalf("RenderMultivariant: got\n%s\nwant\n%s", got, want)
	}
}

// TestMultivariantRoundTrip renders every ffmpeg golden after parsing it
// and parses the result back to the same playlist.
func TestMultivariantRoundTrip(t *testing.T) {
	for _, tc := range ffmpegMasters {
		p := mustParseMultivariant(t, readTestdata(t, tc.file))
		out, err := RenderMultivariantPlaylist(p)
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		if d := diffMultivariant(p, mustParseMultivariant(t, string(out))); d != "" {
			t.Fatalf("%s: %s\n%s", tc.file, d, out)
		}
	}
}

func TestRenderMultivariantRefuses(t *testing.T) {
	ok := Variant{Bandwidth: 1, URI: "a.m3u8"}
	with := func(f func(*Variant)) []Variant { v := ok; f(&v); return []Variant{ok, v} }
	cases := map[string]struct {
		pl  *MultivariantPlaylist
		msg string
	}{
		"no bandwidth":        {&MultivariantPlaylist{Variants: with(func(v *Variant) { v.Bandwidth = 0 })}, "variant 1 (URI \"a.m3u8\"): BANDWIDTH 0: RFC 8216 requires a positive peak bit rate"},
		"huge bandwidth":      {&MultivariantPlaylist{Variants: with(func(v *Variant) { v.Bandwidth = 1 << 60 })}, "is above"},
		"negative average":    {&MultivariantPlaylist{Variants: with(func(v *Variant) { v.AverageBandwidth = -1 })}, "AVERAGE-BANDWIDTH -1"},
		"half a resolution":   {&MultivariantPlaylist{Variants: with(func(v *Variant) { v.Width = 640 })}, "give both dimensions or neither"},
		"huge resolution":     {&MultivariantPlaylist{Variants: with(func(v *Variant) { v.Width, v.Height = 1<<20, 1 })}, "each dimension"},
		"negative frame rate": {&MultivariantPlaylist{Variants: with(func(v *Variant) { v.FrameRate = -25 })}, "FRAME-RATE -25"},
		"tiny frame rate":     {&MultivariantPlaylist{Variants: with(func(v *Variant) { v.FrameRate = 0.0001 })}, "FRAME-RATE 0.0001"},
		"quote in CODECS":     {&MultivariantPlaylist{Variants: with(func(v *Variant) { v.Codecs = `avc1",X="y` })}, `CODECS "avc1\",X=\"y" contains '"'`},
		"newline in CODECS":   {&MultivariantPlaylist{Variants: with(func(v *Variant) { v.Codecs = "avc1\n#EXT-X-ENDLIST" })}, "contains '\\n'"},
		"empty URI":           {&MultivariantPlaylist{Variants: with(func(v *Variant) { v.URI = "" })}, "empty URI"},
		"URI is a comment":    {&MultivariantPlaylist{Variants: with(func(v *Variant) { v.URI = "#a" })}, "starts with '#'"},
		"URI with newline":    {&MultivariantPlaylist{Variants: with(func(v *Variant) { v.URI = "a.m3u8\n#EXTINF:1," })}, "control character 0x0a"},
		"URI with blanks":     {&MultivariantPlaylist{Variants: with(func(v *Variant) { v.URI = " a.m3u8" })}, "blanks around it"},
		"URI not UTF-8":       {&MultivariantPlaylist{Variants: with(func(v *Variant) { v.URI = "a\xff" })}, "not valid UTF-8"},
		"URI too long":        {&MultivariantPlaylist{Variants: with(func(v *Variant) { v.URI = strings.Repeat("a", 1025) })}, "longer than 1024"},
		"undefined group":     {&MultivariantPlaylist{Variants: with(func(v *Variant) { v.Audio = "aud" })}, `AUDIO="aud" names no EXT-X-MEDIA group`},
		"CC both":             {&MultivariantPlaylist{Variants: with(func(v *Variant) { v.NoClosedCaptions, v.ClosedCaptions = true, "cc" })}, "both NONE and group"},
		"CC NONE on one":      {&MultivariantPlaylist{Variants: with(func(v *Variant) { v.NoClosedCaptions = true })}, "variant 1 (URI \"a.m3u8\"): CLOSED-CAPTIONS=NONE must be on every variant or none"},
		"too many variants":   {&MultivariantPlaylist{Variants: make([]Variant, 33)}, "33 variants, more than 32"},
		"too many renditions": {&MultivariantPlaylist{Renditions: make([]Rendition, 65)}, "65 renditions, more than 64"},
		"bad type":            {&MultivariantPlaylist{Renditions: []Rendition{{Type: "MUSIC", GroupID: "a", Name: "x"}}}, `TYPE "MUSIC"`},
		"no group id":         {&MultivariantPlaylist{Renditions: []Rendition{{Type: RenditionAudio, Name: "x"}}}, "GROUP-ID and NAME are required"},
		"quote in name":       {&MultivariantPlaylist{Renditions: []Rendition{{Type: RenditionAudio, GroupID: "a", Name: `x"`}}}, "NAME"},
		"name twice": {&MultivariantPlaylist{Renditions: []Rendition{
			{Type: RenditionAudio, GroupID: "a", Name: "x"}, {Type: RenditionAudio, GroupID: "a", Name: "x"}}}, "rendition 1 (AUDIO \"x\"): NAME \"x\" appears twice"},
		"CC with URI": {&MultivariantPlaylist{Renditions: []Rendition{{Type: RenditionClosedCaptions, GroupID: "a", Name: "x", InstreamID: "CC1", URI: "c.m3u8"}}}, "must not have a URI"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			out, err := RenderMultivariantPlaylist(tc.pl)
			if !errors.Is(err, ErrBadVariant) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("got %q, %v; want ErrBadVariant containing %q", out, err, tc.msg)
			}
		})
	}
	if _, err := RenderMultivariant([]Variant{{Bandwidth: 1, URI: "a.m3u8", Audio: "aud"}}, false); !errors.Is(err, ErrBadVariant) {
		t.Fatalf("RenderMultivariant wrote a variant naming an audio group it does not write: %v", err)
	}
}

// diffMultivariant describes the first difference between a and b that a
// render and parse may not make, or returns "": Version and Line are not
// compared, FRAME-RATE is compared as written (three decimals).
func diffMultivariant(a, b *MultivariantPlaylist) string {
	if a.IndependentSegments != b.IndependentSegments || len(a.Variants) != len(b.Variants) || len(a.Renditions) != len(b.Renditions) {
		return "header or lengths differ"
	}
	for i := range a.Renditions {
		x, y := a.Renditions[i], b.Renditions[i]
		x.Line, y.Line = 0, 0
		if x != y {
			return "rendition " + strconv.Itoa(i) + " differs"
		}
	}
	for i := range a.Variants {
		x, y := a.Variants[i], b.Variants[i]
		x.Line, y.Line = 0, 0
		if strconv.FormatFloat(x.FrameRate, 'f', 3, 64) != strconv.FormatFloat(y.FrameRate, 'f', 3, 64) {
			return "variant " + strconv.Itoa(i) + " FRAME-RATE differs"
		}
		x.FrameRate, y.FrameRate = 0, 0
		if x != y {
			return "variant " + strconv.Itoa(i) + " differs"
		}
	}
	return ""
}

// FuzzParseMultivariantPlaylist checks that the parser never panics, fails
// only with its documented errors, and that whatever parses renders (the
// renderer accepts all the parser does) and parses back to the same
// playlist, and that a second render is byte for byte the first. The seed
// corpus is in testdata/fuzz/FuzzParseMultivariantPlaylist.
func FuzzParseMultivariantPlaylist(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParseMultivariantPlaylist(bytes.NewReader(data), fuzzMaxBytes)
		if err != nil {
			var se *SyntaxError
			if !errors.Is(err, ErrTooLarge) && !(errors.As(err, &se) && se.Line >= 1) {
				t.Fatalf("unexpected error %T: %v", err, err)
			}
			return
		}
		out, err := RenderMultivariantPlaylist(p)
		if err != nil {
			t.Fatalf("a parsed playlist does not render: %v", err)
		}
		q, err := ParseMultivariantPlaylist(bytes.NewReader(out), 0)
		if err != nil {
			t.Fatalf("re-parse of rendered playlist: %v\n%s", err, out)
		}
		if d := diffMultivariant(p, q); d != "" {
			t.Fatalf("round trip changed the playlist: %s\n%s", d, out)
		}
		again, err := RenderMultivariantPlaylist(q)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("second render differs (%v):\n%s\nfirst:\n%s", err, again, out)
		}
	})
}
