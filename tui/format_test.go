package tui

import (
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/muesli/termenv"
)

func TestParseSince(t *testing.T) {
	now := t0
	for _, tc := range []struct {
		in   string
		want time.Time
		err  string
	}{
		{in: "", want: time.Time{}},
		{in: "now", want: time.Time{}},
		{in: "NOW", want: time.Time{}},
		{in: "0", want: time.Time{}},
		{in: "-30s", want: now.Add(-30 * time.Second)},
		{in: "30s", want: now.Add(-30 * time.Second)},
		{in: "10m", want: now.Add(-10 * time.Minute)},
		{in: " -1h30m ", want: now.Add(-90 * time.Minute)},
		{in: "-0s", want: time.Time{}},
		{in: "2026-11-25T11:00:00Z", want: now.Add(-time.Hour)},
		{in: "2026-11-25T12:00:00+01:00", want: now.Add(-time.Hour)},
		{in: "2026-11-25 11:59:00", want: now.Add(-time.Minute)},
		{in: "1795428000", want: time.Unix(1795428000, 0)},
		{in: "+30s", err: "in the future"},
		{in: "2026-11-25T13:00:00Z", err: "in the future"},
		{in: "1900000000", err: "in the future"},
		{in: "30", err: "for 30 seconds ago write -30s"},
		{in: "yesterday", err: "not a time"},
		{in: "99999999999999999999", err: "too large"},
	} {
		got, err := parseSince(tc.in, now, time.UTC)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseSince(%q) = %v, %v; want error containing %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("parseSince(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestFormat(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{elapsed(0), "0s"},
		{elapsed(45*time.Second + 900*time.Millisecond), "45s"},
		{elapsed(4*time.Minute + 5*time.Second), "4m05s"},
		{elapsed(62 * time.Minute), "1h02m"},
		{elapsed(76 * time.Hour), "3d04h"},
		{elapsed(-time.Second), "0s"},
		{shortDuration(90 * time.Second), "1m"},
		{shortDuration(47 * time.Hour), "47h"},
		{shortDuration(50 * time.Hour), "2d"},
		{age(time.Time{}, t0), "-"},
		{age(t0.Add(time.Second), t0), "0s ago"},
		{staleness(t0.Add(-3*time.Second), t0), "3s"},
		{bitrate(0), "-"},
		{bitrate(950), "950 bit/s"},
		{bitrate(2_400_000), "2.4 Mbit/s"},
		{bitrate(12_400_000), "12 Mbit/s"},
		{byteSize(0), "0 B"},
		{byteSize(19_084_000), "18 MiB"},
		{byteSize(1536), "1.5 KiB"},
		{shortID("9d2c7a41-0000"), "9d2c7a41"},
		{shortID(""), "-"},
		{clock(t0.Add(-time.Hour), t0, time.UTC), "11:00:00"},
		{clock(t0.Add(-26*time.Hour), t0, time.UTC), "Nov 24 10:00"},
		{clock(time.Time{}, t0, time.UTC), "-"},
		{tableTime(t0.Add(-26*time.Hour), t0, time.UTC), "Nov 24"},
		{tableTime(t0.Add(-time.Hour), t0, time.UTC), "11:00:00"},
		{hostOf("http://127.0.0.1:8080"), "127.0.0.1:8080"},
		{hostOf("weird"), "weird"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestSparkline(t *testing.T) {
	s := newSparklines()
	if got := s.render("cam", 6, t0); got != "······" {
		t.Fatalf("no history = %q, want all no-report marks", got)
	}
	// sparkSpan over 6 cells: 30 s a cell. Rising bitrate, a silent cell,
	// a zero.
	bucket := sparkSpan / 6
	base := t0.Truncate(bucket)
	s.add("cam", base.Add(-5*bucket), 1_000_000)
	s.add("cam", base.Add(-4*bucket), 2_000_000)
	s.add("cam", base.Add(-4*bucket+time.Second), 4_000_000) // mean 3 Mbit/s
	s.add("cam", base.Add(-2*bucket), 0)
	s.add("cam", base.Add(-bucket), 6_000_000)
	got := s.render("cam", 6, base)
	// Cells: 1M ▃, 3M ▅, none ·, 0 ▁, 6M █, newest (empty, still filling) repeats █.
	if want := "▃▅·▁██"; got != want {
		t.Fatalf("render = %q, want %q", got, want)
	}
	if w := len([]rune(s.render("cam", 30, base))); w != 30 {
		t.Fatalf("width 30 rendered %d cells", w)
	}
	if s.render("cam", 0, base) != "" {
		t.Fatal("zero width should render nothing")
	}
}

// TestSparklineHold: on a wide screen cells are shorter than a heartbeat;
// a steady stream must not look like it stutters, while a real silence
// still shows.
func TestSparklineHold(t *testing.T) {
	s := newSparklines()
	for at := t0.Add(-sparkSpan); !at.After(t0); at = at.Add(5 * time.Second) {
		if at.After(t0.Add(-100*time.Second)) && at.Before(t0.Add(-60*time.Second)) {
			continue // 40 s without a report
		}
		s.add("cam", at, 2_000_000)
	}
	got := s.render("cam", 40, t0) // 4.5 s a cell
	if strings.Count(got, "·") < 4 || strings.Count(got, "·") > 7 {
		t.Fatalf("render = %q: want the 40 s silence, less the 15 s hold, as no-report cells", got)
	}
	left, _, _ := strings.Cut(got, "·")
	if strings.Trim(got[len(left):], "·█") != "" || strings.Trim(left, "█") != "" {
		t.Fatalf("render = %q: want full cells around one gap", got)
	}
}

func TestSparklineKeepsBoundedHistory(t *testing.T) {
	s := newSparklines()
	for i := range 2000 {
		s.add("cam", t0.Add(time.Duration(i)*100*time.Millisecond), int64(i))
	}
	h := s.m["cam"]
	if len(h) > sparkMaxSamples {
		t.Fatalf("kept %d samples, max %d", len(h), sparkMaxSamples)
	}
	s.add("cam", t0.Add(time.Hour), 1)
	if got := len(s.m["cam"]); got != 1 {
		t.Fatalf("kept %d samples older than %s", got-1, sparkKeep)
	}
}

func TestTextField(t *testing.T) {
	st := newStyles(renderer(termenv.Ascii))
	f := newTextField("name", 10, 8)
	f.Focus()
	if got := f.View(st); got != "_name    " {
		t.Fatalf("empty focused = %q", got)
	}
	typ := func(s string) {
		for _, r := range s {
			f = f.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
		}
	}
	typ("door bell")
	if f.Value() != "door bell" {
		t.Fatalf("value %q", f.Value())
	}
	typ("xyz") // limit 10
	if f.Value() != "door bellx" {
		t.Fatalf("limit: %q", f.Value())
	}
	f = f.Update(tea.KeyMsg{Type: tea.KeyCtrlW})
	if f.Value() != "door " {
		t.Fatalf("ctrl+w: %q", f.Value())
	}
	f = f.Update(tea.KeyMsg{Type: tea.KeyLeft})
	f = f.Update(tea.KeyMsg{Type: tea.KeyBackspace})
	if f.Value() != "doo " {
		t.Fatalf("backspace after left: %q", f.Value())
	}
	f = f.Update(tea.KeyMsg{Type: tea.KeyHome})
	f = f.Update(tea.KeyMsg{Type: tea.KeyDelete})
	if f.Value() != "oo " {
		t.Fatalf("delete at home: %q", f.Value())
	}
	if got := f.View(st); got != "|oo      " {
		t.Fatalf("cursor at start = %q", got)
	}
	f = f.Update(tea.KeyMsg{Type: tea.KeyEnd})
	f = f.Update(tea.KeyMsg{Type: tea.KeyCtrlU})
	if f.Value() != "" {
		t.Fatalf("ctrl+u at end: %q", f.Value())
	}
	if f.SetValue("past the limit"); f.Value() != "past the l" {
		t.Fatalf("SetValue over the limit: %q", f.Value())
	}
	long := newTextField("", 0, 8)
	long.Focus()
	long.SetValue("a long value past the width")
	if got := long.View(st); got != "e width_ " {
		t.Fatalf("scrolled view = %q, want the end of the value and the cursor", got)
	}
}
