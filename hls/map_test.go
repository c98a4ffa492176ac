package hls

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/grafov/m3u8"
)

// TestParseMapFFmpeg reads what ffmpeg 5.1 pushes with -hls_segment_type
// fmp4 (testdata/ffmpeg-fmp4.m3u8, the last push of a run with -method
// POST): every segment follows init.mp4.
func TestParseMapFFmpeg(t *testing.T) {
	p := mustParse(t, readTestdata(t, "ffmpeg-fmp4.m3u8"))
	if p.Version != 7 || p.TargetDuration != 1 || p.MediaSequence != 2 || !p.EndList || len(p.Segments) != 5 {
		t.Fatalf("header = %+v", *p)
	}
	for i, s := range p.Segments {
		if s.Map != "init.mp4" || !strings.HasSuffix(s.URI, ".m4s") || s.Discontinuity {
			t.Errorf("segment %d = %+v", i, s)
		}
	}
}

func TestParseMap(t *testing.T) {
	const head = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n"
	tests := []struct {
		name string
		body string
		maps []string
	}{
		{"a map applies to every segment after it", head + "#EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:2,\na.m4s\n#EXTINF:2,\nb.m4s\n", []string{"init.mp4", "init.mp4"}},
		{"segments before the first map have none", head + "#EXTINF:2,\na.ts\n#EXT-X-MAP:URI=\"i.mp4\"\n#EXTINF:2,\nb.m4s\n", []string{"", "i.mp4"}},
		{"a new map takes over", head + "#EXT-X-MAP:URI=\"1.mp4\"\n#EXTINF:2,\na.m4s\n#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"2.mp4\"\n#EXTINF:2,\nb.m4s\n", []string{"1.mp4", "2.mp4"}},
		{"a quoted URI may hold commas; unknown attributes are ignored", head + "#EXT-X-MAP:X-FOO=1,URI=\"a,b.mp4\",X-BAR=\"q\"\n#EXTINF:2,\na.m4s\n", []string{"a,b.mp4"}},
		{"a map with no segment after it describes nothing", head + "#EXTINF:2,\na.ts\n#EXT-X-MAP:URI=\"i.mp4\"\n", []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustParse(t, tt.body)
			if len(p.Segments) != len(tt.maps) {
				t.Fatalf("%d segments, want %d", len(p.Segments), len(tt.maps))
			}
			for i, want := range tt.maps {
				if got := p.Segments[i].Map; got != want {
					t.Errorf("segment %d: map %q, want %q", i, got, want)
				}
			}
		})
	}
}

func TestParseMapRefuses(t *testing.T) {
	const head = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n"
	for name, c := range map[string]struct{ line, want string }{
		"no attributes":     {"#EXT-X-MAP", "without attributes"},
		"empty value":       {"#EXT-X-MAP:", "without attributes"},
		"no URI":            {`#EXT-X-MAP:X-A="b"`, "without a URI"},
		"unquoted URI":      {"#EXT-X-MAP:URI=init.mp4", "quoted string"},
		"empty URI":         {`#EXT-X-MAP:URI=""`, "non-empty quoted string"},
		"unclosed quote":    {`#EXT-X-MAP:URI="init.mp4`, "has no closing quote"},
		"URI twice":         {`#EXT-X-MAP:URI="a",URI="b"`, "appears twice"},
		"lower-case name":   {`#EXT-X-MAP:uri="a"`, "expected an attribute name (A-Z, 0-9, -)"},
		"trailing comma":    {`#EXT-X-MAP:URI="a",`, "ends with a comma"},
		"junk after quotes": {`#EXT-X-MAP:URI="a"b`, "expected ','"},
		"no equals sign":    {`#EXT-X-MAP:URI`, "has no '=' and value"},
	} {
		_, err := ParseMediaPlaylist(strings.NewReader(head+c.line+"\n#EXTINF:2,\na.m4s\n"), 0)
		var se *SyntaxError
		if !errors.As(err, &se) || se.Line != 3 || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want a syntax error on line 3 saying %q", name, err, c.want)
		}
	}
}

// TestLiveWindowMap: the live playlist of fMP4 segments is version 6,
// names the init segment before the first listed segment (also once the
// segment that brought it slid out), and a new one after a discontinuity
// the window adds itself where the init segment changes.
func TestLiveWindowMap(t *testing.T) {
	w := NewLiveWindow(LiveConfig{FirstSequence: 10, Size: 3})
	for i := range 5 {
		s := seg(i)
		s.URI = strings.Replace(s.URI, ".ts", ".m4s", 1)
		s.Map = "init-a.mp4"
		if i >= 3 {
			s.Map = "init-b.mp4"
		}
		w.Append(s)
	}
	want := `#EXTM3U
#EXT-X-VERSION:6
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:12
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="init-a.mp4"
#EXT-X-PROGRAM-DATE-TIME:2026-11-25T17:44:16.084Z
#EXTINF:2.000,
seg-2.m4s
#EXT-X-DISCONTINUITY
#EXT-X-MAP:URI="init-b.mp4"
#EXT-X-PROGRAM-DATE-TIME:2026-11-25T17:44:18.084Z
#EXTINF:2.000,
seg-3.m4s
#EXT-X-PROGRAM-DATE-TIME:2026-11-25T17:44:20.084Z
#EXTINF:2.000,
seg-4.m4s
`
	if got := string(w.Playlist()); got != want {
		t.Fatalf("playlist:\n%s\nwant:\n%s", got, want)
	}
	// Another reader agrees on the map of each segment.
	pl, _, err := m3u8.DecodeFrom(bytes.NewReader(w.Playlist()), true)
	if err != nil {
		t.Fatal(err)
	}
	mp := pl.(*m3u8.MediaPlaylist)
	if mp.Map == nil || mp.Map.URI != "init-a.mp4" {
		t.Errorf("grafov/m3u8 reads the playlist's first map as %+v", mp.Map)
	}
	if s := mp.Segments[1]; s == nil || s.Map == nil || s.Map.URI != "init-b.mp4" || !s.Discontinuity {
		t.Errorf("grafov/m3u8 reads the second segment as %+v", s)
	}
	// The discontinuity slides out like any other.
	w.Append(LiveSegment{URI: "seg-5.m4s", Map: "init-b.mp4", Duration: 2})
	w.Append(LiveSegment{URI: "seg-6.m4s", Map: "init-b.mp4", Duration: 2})
	p := mustParse(t, string(w.Playlist()))
	if p.DiscontinuitySequence != 1 || p.Segments[0].Map != "init-b.mp4" || !strings.Contains(string(w.Playlist()), `#EXT-X-MAP:URI="init-b.mp4"`) {
		t.Errorf("after the change slid out:\n%s", w.Playlist())
	}
}

// TestRenderRecordingMap: a recording across an ffmpeg restart with other
// parameters has both init segments, the second after a discontinuity;
// one of MPEG-TS segments stays version 3 with no map.
func TestRenderRecordingMap(t *testing.T) {
	segs := []LiveSegment{seg(0), seg(1), seg(2)}
	for i := range segs {
		segs[i].Map = "init-a.mp4"
	}
	segs[2].Map = "init-b.mp4"
	body := RenderRecording(segs, true)
	p := mustParse(t, string(body))
	if p.Version != 6 || p.Segments[0].Map != "init-a.mp4" || p.Segments[1].Map != "init-a.mp4" || p.Segments[2].Map != "init-b.mp4" {
		t.Fatalf("recording:\n%s", body)
	}
	if p.Segments[1].Discontinuity || !p.Segments[2].Discontinuity {
		t.Errorf("discontinuities: %v %v, want false true\n%s", p.Segments[1].Discontinuity, p.Segments[2].Discontinuity, body)
	}
	if n := strings.Count(string(body), "#EXT-X-MAP"); n != 2 {
		t.Errorf("%d EXT-X-MAP tags, want 2\n%s", n, body)
	}
	ts := RenderRecording([]LiveSegment{seg(0)}, true)
	if !bytes.Contains(ts, []byte("#EXT-X-VERSION:3\n")) || bytes.Contains(ts, []byte("EXT-X-MAP")) {
		t.Errorf("MPEG-TS recording:\n%s", ts)
	}
}
