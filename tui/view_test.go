package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/muesli/termenv"

	"github.com/lmx-video/lmx/api"
)

// The goldens are the screen without escapes (ansi.Strip) at a frozen
// clock over the fixtures. Regenerate them with
//
//	go test ./tui -update
//
// (the -update flag is golden's, which teatest uses too).

// withHistory gives the sources three minutes of heartbeats, five seconds
// apart, with cam-door silent for a while, so the sparklines show.
func withHistory(h *harness) *harness {
	for i := range 36 {
		at := t0.Add(-time.Duration(175-5*i) * time.Second)
		bps := 2_000_000 + int64(i%6)*150_000
		if i >= 24 && i < 28 {
			bps = 400_000 // a dip: the camera's scene went dark
		}
		h.m.sources.spark.add("cam-lobby", at, bps)
		if i < 12 || i > 20 {
			h.m.sources.spark.add("cam-door", at, 1_100_000)
		}
	}
	h.send(event("hello", map[string]any{"version": "v0.5.0", "time": t0}))
	h.fake.calls = nil
	return h
}

func requireGolden(t *testing.T, h *harness) {
	t.Helper()
	view := h.m.View()
	if got := len(strings.Split(view, "\n")); got != h.m.height {
		t.Fatalf("view has %d lines, want %d", got, h.m.height)
	}
	golden.RequireEqual(t, []byte(ansi.Strip(view)+"\n"))
}

func TestGolden80x24(t *testing.T) {
	requireGolden(t, withHistory(newHarness(t, 80, 24)))
}

func TestGolden160x48(t *testing.T) {
	requireGolden(t, withHistory(newHarness(t, 160, 48)))
}

func TestGoldenPrompt80x24(t *testing.T) {
	h := withHistory(newHarness(t, 80, 24))
	h.keys("down", "r", "enter")
	h.typeText("delivery")
	requireGolden(t, h)
}

func TestGoldenAddSource80x24(t *testing.T) {
	h := withHistory(newHarness(t, 80, 24))
	h.keys("a")
	h.typeText("cam-gate")
	h.keys("tab")
	h.typeText("Gate, east side")
	requireGolden(t, h)
}

func TestGoldenFilterField80x24(t *testing.T) {
	h := withHistory(newHarness(t, 80, 24))
	h.keys("/")
	h.typeText("lobby")
	requireGolden(t, h)
}

func TestGoldenHelpFiltered80x24(t *testing.T) {
	h := withHistory(newHarness(t, 80, 24))
	h.keys("/")
	h.typeText("door")
	h.keys("enter", "3", "?")
	requireGolden(t, h)
}

func TestGoldenReconnecting80x24(t *testing.T) {
	h := withHistory(newHarness(t, 80, 24))
	h.clock.Add(7 * time.Second)
	h.send(connMsg{state: connReconnecting, retryIn: 4 * time.Second,
		err: fmt.Errorf("%w at http://127.0.0.1:8080: dial tcp 127.0.0.1:8080: connect: connection refused", api.ErrUnreachable)})
	requireGolden(t, h)
}

func TestGoldenStarting80x24(t *testing.T) {
	h := &harness{t: t, fake: newFake(), clock: &testClock{t: t0}}
	h.m = New(h.fake, Options{Server: "http://127.0.0.1:8080", Now: h.clock.Now, Location: time.UTC,
		Renderer: renderer(termenv.Ascii), Output: &strings.Builder{}, Debounce: -1})
	t.Cleanup(h.m.cancel)
	h.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	requireGolden(t, h)
}

// TestColourFollowsProfile: colour appears when the profile allows it,
// never with Ascii or NoColor, and the text is the same either way, so
// nothing depends on colour to be read.
func TestColourFollowsProfile(t *testing.T) {
	view := func(p termenv.Profile, noColor bool) string {
		h := withHistory(newHarness(t, 80, 24, func(o *Options) {
			o.Renderer = renderer(p)
			o.NoColor = noColor
		}))
		h.keys("s") // a status line too
		return h.m.View()
	}
	plain := view(termenv.Ascii, false)
	if strings.Contains(plain, "\x1b") {
		t.Fatalf("Ascii profile drew escapes:\n%q", plain)
	}
	if v := view(termenv.TrueColor, true); strings.Contains(v, "\x1b") {
		t.Fatalf("NoColor drew escapes on a colour terminal:\n%q", v)
	}
	for _, p := range []termenv.Profile{termenv.ANSI, termenv.ANSI256, termenv.TrueColor} {
		v := view(p, false)
		for _, sgr := range []string{
			"\x1b[32m",  // green: online, streaming on, live
			"\x1b[31m",  // red: offline, recording
			"\x1b[7m",   // reverse: the selected row
			"\x1b[1;94", // bold bright blue: the focused panel
		} {
			if !strings.Contains(v, sgr) {
				t.Errorf("profile %v: no %q in the view", p, sgr)
			}
		}
		if got := ansi.Strip(v); got != plain {
			t.Errorf("profile %v: text differs from the colourless view:\n%s\n---\n%s", p, got, plain)
		}
	}
}

func TestEmptySystem(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.send(edgesMsg{seq: 1, edges: nil})
	h.send(sourcesMsg{seq: 1, sources: nil})
	h.send(recordingsMsg{seq: 1, recordings: nil})
	scr := h.screen()
	for _, want := range []string{
		"no edges yet: start one with lmx edged",
		"no sources yet",
		"no recordings yet",
	} {
		if !strings.Contains(scr, want) {
			t.Errorf("empty system lacks %q:\n%s", want, scr)
		}
	}
	// Actions on nothing say so, and call nothing.
	h.keys("s", "r", "c")
	h.wantCalls()
	h.wantStatus("no source selected")
}

// TestAddFirstSource: on an empty system the Sources panel says how to
// begin, and a does it.
func TestAddFirstSource(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.send(sourcesMsg{seq: 1, sources: nil})
	if !strings.Contains(h.screen(), "no sources yet: press a to add one") {
		t.Fatalf("empty Sources panel does not say how to begin:\n%s", h.screen())
	}
	if !strings.Contains(h.screen(), "a add source") {
		t.Fatalf("short help lacks a:\n%s", h.screen())
	}
	h.fake.sources = nil
	h.keys("a")
	h.typeText("cam-0")
	h.keys("enter")
	if got := h.selectedSource(); got != "cam-0" {
		t.Fatalf("selected = %q, want cam-0", got)
	}
}

// TestGoldenEventActor80x24: another operator's change, with who made it,
// in the status line.
func TestGoldenEventActor80x24(t *testing.T) {
	h := withHistory(newHarness(t, 80, 24))
	h.clock.Add(noticeHold)
	h.send(event("source.streaming", api.EventPayload{Source: "cam-door", Edge: "gw-lobby", Detail: "off", Actor: "ci-bot"}))
	requireGolden(t, h)
}
