package hls

import (
	"errors"
	"strings"
	"testing"
)

// live builds a live playlist of 2 s segments named by their sequence.
func live(seq uint64, n int, mods ...func(*MediaPlaylist)) *MediaPlaylist {
	p := &MediaPlaylist{Version: 3, TargetDuration: 2, MediaSequence: seq, IndependentSegments: true}
	for i := range n {
		p.Segments = append(p.Segments, Segment{URI: "s" + strings.Repeat("x", int(seq)+i) + ".ts", Duration: 2})
	}
	for _, m := range mods {
		m(p)
	}
	return p
}

func TestCheckLive(t *testing.T) {
	tests := []struct {
		name  string
		p     *MediaPlaylist
		msg   string // "" for no error
		short bool
	}{
		{"fine", live(0, 5), "", false},
		{"exactly three targets", live(0, 3), "", false},
		{"2.49 rounds to 2", live(0, 5, func(p *MediaPlaylist) { p.Segments[1].Duration = 2.49 }), "", false},
		{"nil", nil, "no playlist", false},
		{"playlist type", live(0, 5, func(p *MediaPlaylist) { p.PlaylistType = "EVENT" }), "EXT-X-PLAYLIST-TYPE:EVENT", false},
		{"endlist", live(0, 5, func(p *MediaPlaylist) { p.EndList = true }), "EXT-X-ENDLIST", false},
		{"overlong", live(7, 5, func(p *MediaPlaylist) { p.Segments[2].Duration = 2.5 }),
			`segment 2 ("sxxxxxxxxx.ts", sequence 9): EXTINF 2.5 rounds to 3 s, above EXT-X-TARGETDURATION 2`, false},
		{"short", live(0, 2), "2 segments cover 4.000 s, less than 3 × EXT-X-TARGETDURATION 2 = 6 s", true},
		{"short by a millisecond", live(0, 3, func(p *MediaPlaylist) { p.Segments[0].Duration = 1.999 }), "cover 5.999 s", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckLive(tt.p)
			checkErr(t, err, tt.msg)
			if errors.Is(err, ErrShortWindow) != tt.short {
				t.Errorf("ErrShortWindow = %v, want %v", !tt.short, tt.short)
			}
		})
	}
}

func TestCheckLiveTransition(t *testing.T) {
	disc := func(i int) func(*MediaPlaylist) {
		return func(p *MediaPlaylist) { p.Segments[i].Discontinuity = true }
	}
	ds := func(n uint64) func(*MediaPlaylist) {
		return func(p *MediaPlaylist) { p.DiscontinuitySequence = n }
	}
	tests := []struct {
		name      string
		prev, cur *MediaPlaylist
		msg       string
	}{
		{"same", live(3, 5), live(3, 5), ""},
		{"grew at startup", live(0, 1), live(0, 2), ""},
		{"slid by one", live(3, 5), live(4, 5), ""},
		{"slid by two at once", live(3, 5), live(5, 5), ""},
		{"slid past the whole window", live(3, 5), live(20, 5), ""},
		{"discontinuity slid out", live(3, 5, disc(0), disc(1)), live(4, 5, disc(0), ds(1)), ""},
		{"nil", nil, live(0, 3), "no playlist"},
		{"media sequence back", live(4, 5), live(3, 5), "EXT-X-MEDIA-SEQUENCE went back from 4 to 3"},
		{"target changed", live(3, 5), live(4, 5, func(p *MediaPlaylist) { p.TargetDuration = 3 }),
			"EXT-X-TARGETDURATION changed from 2 to 3"},
		{"segment replaced", live(3, 5), live(4, 5, func(p *MediaPlaylist) { p.Segments[1].URI = "other.ts" }),
			`segment with sequence 5 is "sxxxxx.ts" in prev but "other.ts" in cur`},
		{"segments lost", live(3, 5), live(4, 3),
			"EXT-X-MEDIA-SEQUENCE rose by 1 but cur lists 3 segments, fewer than the 4 of prev still expected"},
		{"discontinuity sequence back", live(3, 5, ds(2)), live(4, 5, ds(1)),
			"EXT-X-DISCONTINUITY-SEQUENCE went back from 2 to 1"},
		{"discontinuity sequence not raised", live(3, 5, disc(0)), live(4, 5),
			"EXT-X-DISCONTINUITY-SEQUENCE is 0, want 1 (0 + 1 discontinuities that slid out)"},
		{"discontinuity sequence raised for nothing", live(3, 5), live(4, 5, ds(1)),
			"EXT-X-DISCONTINUITY-SEQUENCE is 1, want 0"},
		{"removed below three targets", live(3, 3), live(4, 3, func(p *MediaPlaylist) { p.Segments[2].Duration = 1 }),
			"1 segments were removed although the window covers only 5.000 s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErr(t, CheckLiveTransition(tt.prev, tt.cur), tt.msg)
		})
	}
}

func checkErr(t *testing.T, err error, msg string) {
	t.Helper()
	if msg == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if !errors.Is(err, ErrLiveRule) {
		t.Fatalf("err = %v, want ErrLiveRule", err)
	}
	if !strings.Contains(err.Error(), msg) {
		t.Fatalf("err = %q, want it to contain %q", err, msg)
	}
}
