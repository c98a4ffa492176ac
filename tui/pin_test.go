package tui

import (
	"testing"
	"time"

	"github.com/muesli/termenv"

	"github.com/lmx-video/lmx/api"
)

// TestPinnedRecordingState: a stopped pinned recording says so in STATE,
// an active one is recording whatever its pin.
func TestPinnedRecordingState(t *testing.T) {
	st := newStyles(renderer(termenv.Ascii))
	p := newRecordingsPanel(time.UTC)
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	done := api.Recording{ID: "r1", StartTS: now.Add(-time.Hour), EndTS: now.Add(-time.Minute), Active: -1}
	for _, c := range []struct {
		rec  api.Recording
		want string
	}{
		{done, "done"},
		{func() api.Recording { r := done; r.Pinned = true; return r }(), "pin"},
		{api.Recording{ID: "r2", StartTS: now.Add(-time.Minute), Active: 1, Pinned: true}, "● rec"},
	} {
		if got := p.cells(c.rec, now, st)["STATE"].text; got != c.want {
			t.Errorf("pinned %v active %d: STATE %q, want %q", c.rec.Pinned, c.rec.Active, got, c.want)
		}
	}
}
