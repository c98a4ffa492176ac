package hls

import (
	"bytes"
	"testing"

	"github.com/grafov/m3u8"
)

func recordingSegs() []LiveSegment {
	segs := []LiveSegment{seg(0), seg(1), seg(2), seg(3)}
	segs[1].Duration = 2.001 // longest: target 3
	segs[2].Discontinuity = true
	return segs
}

func TestRenderRecordingGolden(t *testing.T) {
	segs := recordingSegs()[:2]
	want := `#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:3
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-PROGRAM-DATE-TIME:2026-11-25T17:44:12.084Z
#EXTINF:2.000,
seg-0.ts
#EXT-X-PROGRAM-DATE-TIME:2026-11-25T17:44:14.084Z
#EXTINF:2.001,
seg-1.ts
#EXT-X-ENDLIST
`
	if got := string(RenderRecording(segs, true)); got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestRenderRecording(t *testing.T) {
	segs := recordingSegs()
	for _, ended := range []bool{false, true} {
		body := RenderRecording(segs, ended)
		p := mustParse(t, string(body))
		wantType, wantMT := PlaylistTypeEvent, m3u8.EVENT
		if ended {
			wantType, wantMT = PlaylistTypeVOD, m3u8.VOD
		}
		if p.PlaylistType != wantType || p.EndList != ended || p.MediaSequence != 0 || p.TargetDuration != 3 ||
			p.Version != 3 || len(p.Segments) != len(segs) {
			t.Fatalf("ended=%v: %+v", ended, p)
		}
		for i, s := range p.Segments {
			if s.URI != segs[i].URI || s.Discontinuity != segs[i].Discontinuity || !s.ProgramDateTime.Equal(segs[i].ProgramDateTime) {
				t.Errorf("ended=%v: segment %d = %+v, want %+v", ended, i, s, segs[i])
			}
		}
		// A recording is not a live playlist, and CheckLive must say so.
		if err := CheckLive(p); err == nil {
			t.Errorf("ended=%v: CheckLive accepted a recording", ended)
		}

		gp, _, err := m3u8.DecodeFrom(bytes.NewReader(body), true)
		if err != nil {
			t.Fatalf("grafov: %v\n%s", err, body)
		}
		g := gp.(*m3u8.MediaPlaylist)
		if g.MediaType != wantMT || g.Closed != ended || g.TargetDuration != 3 || int(g.Count()) != len(segs) {
			t.Fatalf("ended=%v: grafov type %v closed %v target %v count %d", ended, g.MediaType, g.Closed, g.TargetDuration, g.Count())
		}
		if !g.Segments[2].Discontinuity || g.Segments[1].Discontinuity {
			t.Errorf("ended=%v: grafov discontinuities wrong", ended)
		}
	}
}

func TestRenderRecordingEmpty(t *testing.T) {
	for _, ended := range []bool{false, true} {
		p := mustParse(t, string(RenderRecording(nil, ended)))
		if p.TargetDuration != 1 || len(p.Segments) != 0 || p.EndList != ended {
			t.Errorf("ended=%v: %+v", ended, p)
		}
	}
}
