package hls

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

func mustParse(t testing.TB, s string) *MediaPlaylist {
	t.Helper()
	p, err := ParseMediaPlaylist(strings.NewReader(s), 0)
	if err != nil {
		t.Fatalf("ParseMediaPlaylist: %v\n%s", err, s)
	}
	return p
}

func readTestdata(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func ms(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// The files under testdata/ffmpeg-*.m3u8 were written by ffmpeg 5.1's hls
// muxer (testsrc, libx264, -hls_time 2 -hls_list_size 5 -strftime 1) with
// the flags in their names; see TestParseFFmpeg for what each exercises.
func TestParseFFmpeg(t *testing.T) {
	type seg struct {
		uri  string
		dur  float64
		disc bool
		pdt  string // "" for none
	}
	tests := []struct {
		file    string
		version int
		target  int
		seq     uint64
		endList bool
		segs    []seg
	}{
		{
			// delete_segments+independent_segments+program_date_time+omit_endlist:
			// ffmpeg writes PROGRAM-DATE-TIME after EXTINF, offset as "+0000".
			file: "ffmpeg-pdt.m3u8", version: 6, target: 2, seq: 0,
			segs: []seg{
				{"seg-1795628652.ts", 2, false, "2026-11-25T17:44:12.084Z"},
				{"seg-1795628655.ts", 2, false, "2026-11-25T17:44:14.084Z"},
				{"seg-1795628657.ts", 2, false, "2026-11-25T17:44:16.084Z"},
				{"seg-1795628659.ts", 2, false, "2026-11-25T17:44:18.084Z"},
			},
		},
		{
			// The same output directory restarted with append_list+discont_start:
			// the old window is read back and the restart is a discontinuity.
			file: "ffmpeg-append-list.m3u8", version: 6, target: 2, seq: 3,
			segs: []seg{
				{"seg-1795628659.ts", 2, false, "2026-11-25T17:44:18.084Z"},
				{"seg-1795628660.ts", 2, true, "2026-11-25T17:44:20.250Z"},
				{"seg-1795628663.ts", 2, false, "2026-11-25T17:44:22.250Z"},
				{"seg-1795628665.ts", 2, false, "2026-11-25T17:44:24.250Z"},
				{"seg-1795628667.ts", 1, false, "2026-11-25T17:44:26.250Z"},
			},
		},
		{
			// discont_start on a fresh directory: EXT-X-DISCONTINUITY comes
			// before EXT-X-INDEPENDENT-SEGMENTS, in the header.
			file: "ffmpeg-discont-start.m3u8", version: 6, target: 2, seq: 0,
			segs: []seg{
				{"seg-20261125-1795628505.ts", 2, true, ""},
				{"seg-20261125-1795628505.ts", 2, false, ""},
				{"seg-20261125-1795628505.ts", 2, false, ""},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body := readTestdata(t, tt.file)
			for _, variant := range []struct{ name, body string }{
				{"LF", body},
				{"CRLF", strings.ReplaceAll(body, "\n", "\r\n")},
			} {
				p := mustParse(t, variant.body)
				if p.Version != tt.version || p.TargetDuration != tt.target || p.MediaSequence != tt.seq ||
					p.EndList != tt.endList || !p.IndependentSegments || p.PlaylistType != "" || p.DiscontinuitySequence != 0 {
					t.Errorf("%s: header = %+v", variant.name, *p)
				}
				if len(p.Segments) != len(tt.segs) {
					t.Fatalf("%s: %d segments, want %d", variant.name, len(p.Segments), len(tt.segs))
				}
				for i, want := range tt.segs {
					got := p.Segments[i]
					pdt := ""
					if !got.ProgramDateTime.IsZero() {
						pdt = ms(got.ProgramDateTime)
					}
					if got.URI != want.uri || got.Duration != want.dur || got.Discontinuity != want.disc || pdt != want.pdt {
						t.Errorf("%s: segment %d = %+v, want %+v", variant.name, i, got, want)
					}
					if err := ValidateSegmentURI(got.URI); err != nil {
						t.Errorf("%s: ffmpeg segment name refused: %v", variant.name, err)
					}
				}
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		check func(t *testing.T, p *MediaPlaylist)
	}{
		{
			name: "ffmpeg at the end of a run, with ENDLIST",
			body: "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:2\n" +
				"#EXTINF:2.000000,\nseg-1.ts\n#EXTINF:0.480000,\nseg-2.ts\n#EXT-X-ENDLIST\n",
			check: func(t *testing.T, p *MediaPlaylist) {
				if !p.EndList || len(p.Segments) != 2 || p.Segments[1].Duration != 0.48 || p.Segments[1].Line != 8 {
					t.Errorf("got %+v", p)
				}
			},
		},
		{
			name: "comments, unknown tags and blank lines are ignored",
			body: "\n\n#EXTM3U\n# made by hand\n#EXT-X-ALLOW-CACHE:YES\n#EXT-X-TARGETDURATION:6\n\n" +
				"#EXT-X-GAP-NOTE:x\n#EXTINF:5.5,title, with comma\n#EXT-X-BYTERANGE:100@0\n  a.ts  \n",
			check: func(t *testing.T, p *MediaPlaylist) {
				if len(p.Segments) != 1 || p.Segments[0].URI != "a.ts" || p.Segments[0].Title != "title, with comma" ||
					p.Segments[0].Line != 11 || p.Version != 0 {
					t.Errorf("got %+v", p)
				}
			},
		},
		{
			name: "EXTINF without comma, integer duration, VOD, discontinuity sequence",
			body: "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-DISCONTINUITY-SEQUENCE:7\n" +
				"#EXTINF:10\nx.ts\n#EXT-X-ENDLIST\n",
			check: func(t *testing.T, p *MediaPlaylist) {
				if p.PlaylistType != "VOD" || p.DiscontinuitySequence != 7 || p.Segments[0].Duration != 10 {
					t.Errorf("got %+v", p)
				}
			},
		},
		{
			name: "program date time forms",
			body: "#EXTM3U\n#EXT-X-TARGETDURATION:2\n" +
				"#EXT-X-PROGRAM-DATE-TIME:2024-03-01T10:00:00Z\n#EXTINF:2,\na.ts\n" +
				"#EXT-X-PROGRAM-DATE-TIME:2024-03-01T11:00:02.5+01:00\n#EXTINF:2,\nb.ts\n" +
				"#EXTINF:2,\n#EXT-X-PROGRAM-DATE-TIME:2024-03-01T09:00:04.000-0100\nc.ts\n" +
				"#EXTINF:2,\nd.ts\n",
			check: func(t *testing.T, p *MediaPlaylist) {
				want := []string{"2024-03-01T10:00:00.000Z", "2024-03-01T10:00:02.500Z", "2024-03-01T10:00:04.000Z"}
				for i, w := range want {
					if got := ms(p.Segments[i].ProgramDateTime); got != w {
						t.Errorf("segment %d: %s, want %s", i, got, w)
					}
				}
				if !p.Segments[3].ProgramDateTime.IsZero() {
					t.Errorf("PROGRAM-DATE-TIME leaked to the next segment")
				}
			},
		},
		{
			name: "empty media playlist",
			body: "#EXTM3U\n#EXT-X-TARGETDURATION:2\n",
			check: func(t *testing.T, p *MediaPlaylist) {
				if len(p.Segments) != 0 {
					t.Errorf("got %+v", p)
				}
			},
		},
		{
			name: "duration limits",
			body: "#EXTM3U\n#EXT-X-TARGETDURATION:3600\n#EXTINF:0,\na.ts\n#EXTINF:3600.000,\nb.ts\n#EXTINF:.5,\nc.ts\n",
			check: func(t *testing.T, p *MediaPlaylist) {
				if p.Segments[0].Duration != 0 || p.Segments[1].Duration != 3600 || p.Segments[2].Duration != 0.5 {
					t.Errorf("got %+v", p.Segments)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, mustParse(t, tt.body))
			tt.check(t, mustParse(t, strings.ReplaceAll(tt.body, "\n", "\r\n")))
		})
	}
}

func TestParseErrors(t *testing.T) {
	const head = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n"
	tests := []struct {
		name string
		body string
		line int
		msg  string // substring of the message
	}{
		{"empty body", "", 1, "empty playlist"},
		{"blank body", "\n\n", 2, "empty playlist"},
		{"no EXTM3U", "#EXT-X-TARGETDURATION:2\n", 1, `must start with #EXTM3U, found "#EXT-X-TARGETDURATION:2"`},
		{"BOM", "\ufeff#EXTM3U\n", 1, "must start with #EXTM3U"},
		{"duration not a number", head + "#EXTINF:abc,\na.ts\n", 3, `EXTINF duration "abc" is not a number`},
		{"negative duration", head + "#EXTINF:-1,\na.ts\n", 3, `EXTINF duration "-1" is not a number`},
		{"exponent", head + "#EXTINF:1e3,\na.ts\n", 3, `EXTINF duration "1e3" is not a number`},
		{"NaN", head + "#EXTINF:NaN,\na.ts\n", 3, `"NaN" is not a number`},
		{"Inf", head + "#EXTINF:Inf,\na.ts\n", 3, `"Inf" is not a number`},
		{"empty duration", head + "#EXTINF:,x\na.ts\n", 3, `EXTINF duration "" is not a number`},
		{"two dots", head + "#EXTINF:1.2.3,\na.ts\n", 3, `"1.2.3" is not a number`},
		{"huge", head + "#EXTINF:3600.001,\na.ts\n", 3, `"3600.001" exceeds 3600 seconds`},
		{"overflow", head + "#EXTINF:" + strings.Repeat("9", 400) + ",\na.ts\n", 3, "is not a finite number"},
		{"no duration", head + "#EXTINF\na.ts\n", 3, "EXTINF without a duration"},
		{"EXTINF at end", head + "#EXTINF:2,\n", 3, `EXTINF is not followed by a URI line: "#EXTINF:2,"`},
		{"EXTINF then EXTINF", head + "#EXTINF:2,\n#EXTINF:2,\na.ts\n", 4, "EXTINF while the EXTINF on line 3 still has no URI"},
		{"URI first", head + "a.ts\n", 3, `URI "a.ts" without a preceding EXTINF`},
		{"two URIs", head + "#EXTINF:2,\na.ts\nb.ts\n", 5, `URI "b.ts" without a preceding EXTINF`},
		{"no target", "#EXTM3U\n#EXTINF:2,\na.ts\n", 3, "missing EXT-X-TARGETDURATION"},
		{"bad target", "#EXTM3U\n#EXT-X-TARGETDURATION:2.5\n", 2, `EXT-X-TARGETDURATION "2.5" is not an integer`},
		{"signed target", "#EXTM3U\n#EXT-X-TARGETDURATION:+2\n", 2, `EXT-X-TARGETDURATION "+2"`},
		{"huge target", "#EXTM3U\n#EXT-X-TARGETDURATION:99999999999999999999\n", 2, "EXT-X-TARGETDURATION"},
		{"empty target", "#EXTM3U\n#EXT-X-TARGETDURATION:\n", 2, "EXT-X-TARGETDURATION without a value"},
		{"duplicate target", head + "#EXT-X-TARGETDURATION:2\n", 3, "duplicate EXT-X-TARGETDURATION (first on line 2)"},
		{"bad version", head + "#EXT-X-VERSION:three\n", 3, `EXT-X-VERSION "three" is not a positive integer`},
		{"zero version", head + "#EXT-X-VERSION:0\n", 3, `EXT-X-VERSION "0"`},
		{"bad media sequence", head + "#EXT-X-MEDIA-SEQUENCE:-1\n", 3, `EXT-X-MEDIA-SEQUENCE "-1" is not an unsigned integer`},
		{"media sequence overflow", head + "#EXT-X-MEDIA-SEQUENCE:18446744073709551616\n", 3, "EXT-X-MEDIA-SEQUENCE"},
		{"media sequence late", head + "#EXTINF:2,\na.ts\n#EXT-X-MEDIA-SEQUENCE:1\n", 5, "EXT-X-MEDIA-SEQUENCE after the first segment"},
		{"media sequence inside segment", head + "#EXTINF:2,\n#EXT-X-MEDIA-SEQUENCE:1\na.ts\n", 4, "after the first segment"},
		{"bad discontinuity sequence", head + "#EXT-X-DISCONTINUITY-SEQUENCE:x\n", 3, `EXT-X-DISCONTINUITY-SEQUENCE "x"`},
		{"bad playlist type", head + "#EXT-X-PLAYLIST-TYPE:LIVE\n", 3, `EXT-X-PLAYLIST-TYPE "LIVE" is neither EVENT nor VOD`},
		{"valued ENDLIST", head + "#EXT-X-ENDLIST:YES\n", 3, `EXT-X-ENDLIST takes no value: "#EXT-X-ENDLIST:YES"`},
		{"valued DISCONTINUITY", head + "#EXT-X-DISCONTINUITY:1\n", 3, "EXT-X-DISCONTINUITY takes no value"},
		{"bad date", head + "#EXT-X-PROGRAM-DATE-TIME:yesterday\n", 3, `EXT-X-PROGRAM-DATE-TIME "yesterday" is not an ISO 8601 date-time`},
		{"date out of range", head + "#EXT-X-PROGRAM-DATE-TIME:0000-01-01T00:00:00+01:00\n", 3, "out of range"},
		{"empty date", head + "#EXT-X-PROGRAM-DATE-TIME:\n", 3, "EXT-X-PROGRAM-DATE-TIME without a value"},
		{"duplicate EXTM3U", head + "#EXTM3U\n", 3, "duplicate #EXTM3U (first on line 1)"},
		{"control char", head + "#EXTINF:2,\na\x01.ts\n", 4, `control character 0x01 in "a\x01.ts"`},
		{"NUL", head + "#EXTINF:2,\na\x00.ts\n", 4, "control character 0x00"},
		{"bare CR inside", head + "#EXTINF:2,x\ry\na.ts\n", 3, "control character 0x0d"},
		{"invalid UTF-8", head + "#EXTINF:2,\na\xff.ts\n", 4, "invalid UTF-8"},
		{"long line is cut", head + "#EXTINF:" + strings.Repeat("x", 500) + ",\n", 3, `xxx"…`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseMediaPlaylist(strings.NewReader(tt.body), 0)
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("err = %v, want ErrSyntax", err)
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("err %T is not a *SyntaxError", err)
			}
			if se.Line != tt.line {
				t.Errorf("line = %d, want %d (%v)", se.Line, tt.line, err)
			}
			if want := "line " + strconv.Itoa(tt.line) + ": "; !strings.Contains(err.Error(), want) {
				t.Errorf("message %q does not contain %q", err, want)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("message %q does not contain %q", err, tt.msg)
			}
			if len(err.Error()) > 300 {
				t.Errorf("message is %d bytes long", len(err.Error()))
			}
		})
	}
}

func TestParseTooLarge(t *testing.T) {
	body := readTestdata(t, "ffmpeg-pdt.m3u8")
	n := int64(len(body))
	if _, err := ParseMediaPlaylist(strings.NewReader(body), n); err != nil {
		t.Fatalf("body of exactly maxBytes: %v", err)
	}
	_, err := ParseMediaPlaylist(strings.NewReader(body), n-1)
	if !errors.Is(err, ErrTooLarge) || errors.Is(err, ErrSyntax) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	// The default limit applies when maxBytes is not positive.
	big := "#EXTM3U\n#EXT-X-TARGETDURATION:2\n" + strings.Repeat("# padding\n", DefaultMaxPlaylistBytes/10)
	if _, err := ParseMediaPlaylist(strings.NewReader(big), 0); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("default limit: err = %v, want ErrTooLarge", err)
	}
}

func TestParseReadError(t *testing.T) {
	boom := errors.New("boom")
	_, err := ParseMediaPlaylist(iotest.ErrReader(boom), 0)
	if !errors.Is(err, boom) || errors.Is(err, ErrSyntax) {
		t.Fatalf("err = %v, want the reader's error", err)
	}
	_, err = ParseMediaPlaylist(iotest.OneByteReader(bytes.NewReader([]byte(readTestdata(t, "ffmpeg-pdt.m3u8")))), 0)
	if err != nil {
		t.Fatalf("one byte at a time: %v", err)
	}
}

func TestValidateSegmentURI(t *testing.T) {
	ok := []string{
		"seg-1795628652.ts", "seg-20261125-1795628505.ts", "a.ts", "segment 1.ts", ".hidden.ts",
		"séquence-été.ts", strings.Repeat("a", 255),
	}
	for _, uri := range ok {
		if err := ValidateSegmentURI(uri); err != nil {
			t.Errorf("ValidateSegmentURI(%q) = %v, want nil", uri, err)
		}
	}
	bad := []struct{ uri, msg string }{
		{"", "empty"},
		{strings.Repeat("a", 256), "256 bytes"},
		{".", "directory itself"},
		{"..", `".."`},
		{"a..ts", `".."`},
		{"../etc/passwd", `".."`},
		{"dir/a.ts", "path separator '/'"},
		{"/abs.ts", "path separator '/'"},
		{`dir\a.ts`, `path separator '\\'`},
		{"http://evil/a.ts", "contains ':'"},
		{"file:a.ts", "contains ':'"},
		{"C:a.ts", "contains ':'"},
		{"a.ts?x=1", `'?'`},
		{"a.ts#frag", `'#'`},
		{"a\x00.ts", "control character 0x00"},
		{"a\n.ts", "control character 0x0a"},
		{"a\x7f.ts", "control character 0x7f"},
		{"a\xff.ts", "not valid UTF-8"},
	}
	for _, tt := range bad {
		err := ValidateSegmentURI(tt.uri)
		if !errors.Is(err, ErrBadSegmentURI) {
			t.Errorf("ValidateSegmentURI(%q) = %v, want ErrBadSegmentURI", tt.uri, err)
			continue
		}
		if !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("ValidateSegmentURI(%q) = %q, want it to mention %q", tt.uri, err, tt.msg)
		}
	}
}
