package hls

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

// fuzzMaxBytes keeps fuzz inputs small enough to stay fast.
const fuzzMaxBytes = 64 << 10

// FuzzParseMediaPlaylist checks that the parser never panics, fails only
// with its documented errors, and that whatever parses survives a round
// trip: encoding and re-parsing gives the same playlist, and the segments
// fed to a LiveWindow or a recording come out as playlists we parse again.
// The seed corpus is in testdata/fuzz/FuzzParseMediaPlaylist.
func FuzzParseMediaPlaylist(f *testing.F) {
	f.Fuzz(checkParseRoundTrip)
}

// checkParseRoundTrip is the body of FuzzParseMediaPlaylist.
func checkParseRoundTrip(t *testing.T, data []byte) {
	p, err := ParseMediaPlaylist(bytes.NewReader(data), fuzzMaxBytes)
	if err != nil {
		var se *SyntaxError
		var ue *UnsupportedError
		if !errors.Is(err, ErrTooLarge) && !(errors.As(err, &se) && se.Line >= 1) && !(errors.As(err, &ue) && ue.Line >= 1) {
			t.Fatalf("unexpected error %T: %v", err, err)
		}
		return
	}

	enc := p.encode()
	q, err := ParseMediaPlaylist(bytes.NewReader(enc), 0)
	if err != nil {
		t.Fatalf("re-parse of encoded playlist: %v\n%s", err, enc)
	}
	if d := diffPlaylists(p, q); d != "" {
		t.Fatalf("round trip changed the playlist: %s\n%s", d, enc)
	}

	segs := make([]LiveSegment, len(p.Segments))
	for i, s := range p.Segments {
		segs[i] = LiveSegment{URI: s.URI, Map: s.Map, Duration: s.Duration, Discontinuity: s.Discontinuity, ProgramDateTime: s.ProgramDateTime}
	}
	w := NewLiveWindow(LiveConfig{TargetDuration: p.TargetDuration, FirstSequence: p.MediaSequence})
	var prev *MediaPlaylist
	// Each Append re-parses the whole window; a prefix is enough to
	// exercise the window and keeps an execution fast.
	for _, s := range segs[:min(len(segs), 64)] {
		w.Append(s)
		body := w.Playlist()
		lp, err := ParseMediaPlaylist(bytes.NewReader(body), 0)
		if err != nil {
			t.Fatalf("re-parse of live playlist: %v\n%s", err, body)
		}
		// A window we render is live by construction, unless the input
		// had segments longer than its target (counted in Overlong) or
		// durations too short to cover three targets yet.
		if err := CheckLive(lp); err != nil && w.Overlong() == 0 && !errors.Is(err, ErrShortWindow) {
			t.Fatalf("our live playlist breaks a rule: %v\n%s", err, body)
		}
		if err := checkMaps(lp, w.Segments()); err != nil {
			t.Fatalf("live playlist: %v\n%s", err, body)
		}
		if prev != nil {
			if err := CheckLiveTransition(prev, lp); err != nil {
				t.Fatalf("our live playlists break a rule between reloads: %v\n%s", err, body)
			}
		}
		prev = lp
	}
	for _, ended := range []bool{false, true} {
		body := RenderRecording(segs, ended)
		rp, err := ParseMediaPlaylist(bytes.NewReader(body), 0)
		if err != nil {
			t.Fatalf("re-parse of recording: %v\n%s", err, body)
		}
		if len(rp.Segments) != len(segs) || rp.EndList != ended {
			t.Fatalf("recording lists %d segments, want %d", len(rp.Segments), len(segs))
		}
		if err := checkMaps(rp, segs); err != nil {
			t.Fatalf("recording: %v\n%s", err, body)
		}
	}
}

// checkMaps checks that a rendered playlist gives each segment the init
// segment it was rendered with, that a change of init segment comes with
// a discontinuity, and that EXT-X-VERSION is at least 6 where EXT-X-MAP is
// used (RFC 8216 7).
func checkMaps(p *MediaPlaylist, segs []LiveSegment) error {
	if len(p.Segments) != len(segs) {
		return fmt.Errorf("%d segments, rendered from %d", len(p.Segments), len(segs))
	}
	for i, s := range p.Segments {
		if s.Map != segs[i].Map {
			return fmt.Errorf("segment %d: map %q, rendered with %q", i, s.Map, segs[i].Map)
		}
		if s.Map != "" && p.Version < mapVersion {
			return fmt.Errorf("EXT-X-MAP under EXT-X-VERSION %d", p.Version)
		}
		if i > 0 && s.Map != p.Segments[i-1].Map && !s.Discontinuity {
			return fmt.Errorf("segment %d: init segment changes from %q to %q without EXT-X-DISCONTINUITY", i, p.Segments[i-1].Map, s.Map)
		}
	}
	return nil
}

// diffPlaylists describes the first difference between a and b, ignoring
// Segment.Line, or returns "".
func diffPlaylists(a, b *MediaPlaylist) string {
	if a.Version != b.Version || a.TargetDuration != b.TargetDuration || a.MediaSequence != b.MediaSequence ||
		a.DiscontinuitySequence != b.DiscontinuitySequence || a.IndependentSegments != b.IndependentSegments ||
		a.PlaylistType != b.PlaylistType || a.EndList != b.EndList || len(a.Segments) != len(b.Segments) {
		return fmt.Sprintf("header or length: %+v vs %+v", *a, *b)
	}
	for i := range a.Segments {
		x, y := a.Segments[i], b.Segments[i]
		if x.URI != y.URI || x.Map != y.Map || x.Duration != y.Duration || x.Title != y.Title || x.Discontinuity != y.Discontinuity ||
			!x.ProgramDateTime.Equal(y.ProgramDateTime) {
			return fmt.Sprintf("segment %d: %+v vs %+v", i, x, y)
		}
	}
	return ""
}
