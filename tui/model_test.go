package tui

import (
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/broker"
)

// screen is the view without escapes.
func (h *harness) screen() string { return ansi.Strip(h.m.View()) }

// statusText is the status line's text, unwrapped.
func (h *harness) statusText() string { return h.m.status.text }

func (h *harness) wantStatus(substr string) {
	h.t.Helper()
	if !strings.Contains(h.statusText(), substr) {
		h.t.Fatalf("status line = %q, want it to contain %q", h.statusText(), substr)
	}
}

func (h *harness) wantCalls(want ...string) {
	h.t.Helper()
	if got := h.fake.called(); !slices.Equal(got, want) {
		h.t.Fatalf("client calls:\n got %q\nwant %q", got, want)
	}
}

func (h *harness) selectedSource() string {
	s, _ := h.m.sources.selected()
	return s.Name
}

func TestFocusKeys(t *testing.T) {
	h := newHarness(t, 80, 24)
	if h.m.focus != panelSources {
		t.Fatalf("starts on panel %d, want Sources", h.m.focus)
	}
	steps := []struct {
		key  string
		want panelID
	}{
		{"tab", panelRecordings}, {"tab", panelEdges}, {"tab", panelSources},
		{"shift+tab", panelEdges}, {"shift+tab", panelRecordings},
		{"1", panelEdges}, {"2", panelSources}, {"3", panelRecordings},
	}
	for _, s := range steps {
		h.keys(s.key)
		if h.m.focus != s.want {
			t.Fatalf("after %s focus = %d, want %d", s.key, h.m.focus, s.want)
		}
	}
	if !strings.Contains(h.screen(), "▶ [3] Recordings") {
		t.Fatalf("focused title not marked:\n%s", h.screen())
	}
}

func TestNavigationKeepsSelectionAcrossRefetch(t *testing.T) {
	h := newHarness(t, 80, 24)
	if got := h.selectedSource(); got != "cam-door" {
		t.Fatalf("first selected = %s, want cam-door (sorted by name)", got)
	}
	h.keys("down")
	if got := h.selectedSource(); got != "cam-lobby" {
		t.Fatalf("after down = %s", got)
	}
	h.keys("j", "j")
	if got := h.selectedSource(); got != "cam-yard" {
		t.Fatalf("after j j = %s (clamped at the end)", got)
	}
	h.keys("k", "g")
	if got := h.selectedSource(); got != "cam-door" {
		t.Fatalf("after g = %s", got)
	}
	h.keys("G")
	// A new source sorted before the selection must not move it.
	srcs := append(fixtureSources(), api.Source{ID: "00000000-new", Name: "cam-attic"})
	h.send(sourcesMsg{seq: 1, sources: srcs})
	if got := h.selectedSource(); got != "cam-yard" {
		t.Fatalf("after refetch = %s, want the same source", got)
	}
	if !strings.Contains(h.screen(), "› cam-yard") {
		t.Fatalf("selected row not marked:\n%s", h.screen())
	}
}

func TestToggleStreamingOnWaitsForEdge(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.keys("s") // cam-door is selected and off
	h.wantCalls("SetStreaming " + idDoor + " true")
	h.wantStatus("cam-door: streaming on asked; waiting for edge gw-lobby to confirm")
	if !strings.Contains(h.screen(), "starting") {
		t.Fatalf("source should read starting until the edge confirms:\n%s", h.screen())
	}
	h.m.lastSlow = h.clock.Now() // no heartbeat refetch in this test
	h.send(event("edge.status", lobbyStatus(true, 2_400_000, 1_200_000, t0)))
	h.wantStatus("cam-door: edge gw-lobby confirms streaming on")
	if n := len(h.fake.called()); n != 1 {
		t.Fatalf("edge.status should update in place, without fetching: %q", h.fake.called())
	}
	src, _ := h.m.sources.find(idDoor, "")
	if !src.EdgeStreaming || src.BitrateBPS != 1_200_000 {
		t.Fatalf("cam-door after status: %+v", src)
	}
}

func TestToggleStreamingOff(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.keys("down", "s") // cam-lobby, on
	h.wantCalls("SetStreaming " + idLobby + " false")
	h.wantStatus("streaming off asked")
	if !strings.Contains(h.screen(), "stopping") {
		t.Fatalf("source should read stopping:\n%s", h.screen())
	}
}

func TestToggleStreamingEdgeOffline(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.keys("G", "s") // cam-yard, on, edge offline: off is true at once
	h.wantStatus("cam-yard: streaming off")
	h.keys("s")
	h.wantCalls("SetStreaming "+idYard+" false", "SetStreaming "+idYard+" true")
	h.wantStatus("cam-yard: streaming on is set; edge gw-yard is offline and applies it when it reconnects")
}

func TestToggleStreamingError(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.fake.errs["SetStreaming"] = &api.StatusError{Status: 409, Message: "source is being deleted"}
	h.keys("s")
	h.wantStatus("could not turn streaming on for cam-door: source is being deleted")
	if h.m.status.level != levelError || !strings.Contains(h.screen(), "✗ could not") {
		t.Fatalf("error not shown as one:\n%s", h.screen())
	}
}

func TestToggleStreamingNeedsSourcesPanel(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.keys("1", "s")
	h.wantCalls()
	h.wantStatus("press 2 for Sources")
}

func TestAddSource(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.keys("a")
	if !h.m.adding {
		t.Fatal("a did not open the source prompt")
	}
	if got := h.m.addPrompt.fields[fieldSegment].Value(); got != "2" {
		t.Fatalf("segment defaults to %q, want 2", got)
	}
	if !strings.Contains(h.screen(), "Add a source") {
		t.Fatalf("prompt not drawn:\n%s", h.screen())
	}
	h.typeText("cam-gate")
	h.keys("tab")
	h.typeText("Gate, east side")
	h.keys("tab", "ctrl+u")
	h.typeText("4")
	h.keys("enter")
	if h.m.adding {
		t.Fatal("prompt still open after submit")
	}
	h.wantCalls(`CreateSource name="cam-gate" desc="Gate, east side" seg=4`, "ListSources ")
	h.wantStatus("source cam-gate created: push to it with Video-Source-Name: cam-gate")
	if h.m.status.level != levelInfo {
		t.Fatalf("status level %d, want info", h.m.status.level)
	}
	if got := h.selectedSource(); got != "cam-gate" {
		t.Fatalf("selected = %s, want the new source", got)
	}
	// The refetch keeps it selected, and the next key acts on it.
	h.send(sourcesMsg{seq: 99, sources: h.fake.sources})
	if got := h.selectedSource(); got != "cam-gate" {
		t.Fatalf("selected after refetch = %s, want the new source", got)
	}
	h.keys("s")
	if got := h.fake.called(); got[len(got)-1] != "SetStreaming "+idNew+" true" {
		t.Fatalf("s after adding: calls %q", got)
	}
}

func TestAddSourceDefaults(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.keys("a")
	h.typeText(" cam-gate ")
	h.keys("enter") // from the name field: the rest is optional
	h.wantCalls(`CreateSource name="cam-gate" desc="" seg=2`, "ListSources ")
	// An emptied segment length is the default too.
	h = newHarness(t, 80, 24)
	h.keys("a")
	h.typeText("cam-gate")
	h.keys("up", "ctrl+u", "enter")
	h.wantCalls(`CreateSource name="cam-gate" desc="" seg=2`, "ListSources ")
}

func TestAddSourceRefusesBadInputLocally(t *testing.T) {
	for _, tc := range []struct {
		name, seg string
		field     int
		want      string
	}{
		{"", "2", fieldName, "name: required"},
		{"cam gate", "2", fieldName, "name: only letters, digits, '-', '_' and '.' are allowed"},
		{".hidden", "2", fieldName, "name: must not start with '.'"},
		{"cam-gate", "61", fieldSegment, `segment: "61" is not a whole number of seconds from 0 to 60`},
		{"cam-gate", "-1", fieldSegment, "segment: "},
		{"cam-gate", "2s", fieldSegment, "segment: "},
	} {
		t.Run(tc.name+"/"+tc.seg, func(t *testing.T) {
			h := newHarness(t, 80, 24)
			h.keys("a")
			h.typeText(tc.name)
			h.keys("shift+tab", "ctrl+u")
			h.typeText(tc.seg)
			h.keys("enter")
			h.wantCalls()
			if !h.m.adding {
				t.Fatal("an invalid prompt should stay open")
			}
			p := h.m.addPrompt
			if !strings.HasPrefix(p.err, tc.want) || p.field != tc.field {
				t.Fatalf("err %q on field %d, want %q on field %d", p.err, p.field, tc.want, tc.field)
			}
			scr := h.screen()
			if !strings.Contains(scr, tc.want) {
				t.Fatalf("error not shown in the prompt:\n%s", scr)
			}
			// Editing the field clears the error.
			h.keys("backspace")
			if h.m.addPrompt.err != "" {
				t.Fatal("editing the refused field should clear its error")
			}
		})
	}
	// Longer than the server allows cannot be typed: the field stops at 64.
	h := newHarness(t, 80, 24)
	h.keys("a")
	h.typeText(strings.Repeat("x", 65))
	if got := len(h.m.addPrompt.fields[fieldName].Value()); got != 64 {
		t.Fatalf("name field holds %d characters, want 64", got)
	}
}

func TestAddSourceServerError(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.keys("a")
	h.typeText("cam-door") // exists
	h.keys("enter")
	h.wantCalls(`CreateSource name="cam-door" desc="" seg=2`)
	h.wantStatus(`could not create source cam-door: source "cam-door": conflict: name already exists`)
	if h.m.status.level != levelError || h.m.adding {
		t.Fatalf("error not shown as one, or prompt left open:\n%s", h.screen())
	}
	h.fake.errs["CreateSource"] = fmt.Errorf("%w at http://127.0.0.1:8080: connection refused", api.ErrUnreachable)
	h.keys("a")
	h.typeText("cam-gate")
	h.keys("enter")
	h.wantStatus("could not create source cam-gate: it does not answer (is lmx controld running there?)")
	if len(h.m.sources.all) != 3 {
		t.Fatal("a failed create should change no rows")
	}
}

func TestAddSourceEsc(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.keys("a")
	h.typeText("q") // typed into the field, not quitting
	if h.quit {
		t.Fatal("q in the prompt quit the dashboard")
	}
	h.keys("esc")
	if h.m.adding {
		t.Fatal("esc should close the prompt")
	}
	h.wantCalls()
	h.wantStatus("no source added")
}

func TestAddSourceNeedsSourcesPanel(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.keys("3", "a")
	if h.m.adding {
		t.Fatal("a opened the prompt outside Sources")
	}
	h.wantStatus("press 2 for Sources, then a")
}

func TestAddSourceUnderFilter(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.keys("/")
	h.typeText("yard")
	h.keys("enter", "a")
	h.typeText("cam-gate")
	h.keys("enter")
	if h.m.sources.filter != "" {
		t.Fatalf("filter %q hides the new source", h.m.sources.filter)
	}
	if got := h.selectedSource(); got != "cam-gate" {
		t.Fatalf("selected = %s, want the new source", got)
	}
}

func TestStartRecordingPrompt(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.keys("r")
	if !h.m.prompting || h.m.prompt.source.Name != "cam-door" {
		t.Fatalf("prompt not open for cam-door")
	}
	if got := h.m.prompt.since.Value(); got != "-30s" {
		t.Fatalf("since defaults to %q, want -30s", got)
	}
	if !strings.Contains(h.screen(), "Start a recording of cam-door") {
		t.Fatalf("prompt not drawn:\n%s", h.screen())
	}
	h.keys("ctrl+u")
	h.typeText("-2m")
	h.keys("enter") // to alias
	h.typeText("door bell")
	h.keys("enter")
	if h.m.prompting {
		t.Fatal("prompt still open after submit")
	}
	want := fmt.Sprintf("StartRecording %s alias=%q epoch=%d", idDoor, "door bell", t0.Add(-2*time.Minute).Unix())
	if got := h.fake.called(); len(got) == 0 || got[0] != want {
		t.Fatalf("calls = %q, want first %q", got, want)
	}
	h.wantStatus(`recording e1e2e3e4 "door bell" of cam-door from 11:58:00`)
	rec, ok := h.m.recs.selected()
	if !ok || rec.ID != "e1e2e3e4-0000-4000-8000-0000000000b1" {
		t.Fatalf("new recording not selected: %+v", rec)
	}
	// The source's recording indicator is refetched.
	if h.fake.count("ListSources") != 1 {
		t.Fatalf("sources not refetched after start: %q", h.fake.called())
	}
}

func TestStartRecordingSinceForms(t *testing.T) {
	for _, tc := range []struct {
		since string
		epoch int64
	}{
		{"-30s", t0.Add(-30 * time.Second).Unix()},
		{"10m", t0.Add(-10 * time.Minute).Unix()},
		{"2026-11-25T11:55:00Z", t0.Add(-5 * time.Minute).Unix()},
		{fmt.Sprint(t0.Add(-time.Hour).Unix()), t0.Add(-time.Hour).Unix()},
		{"now", 0},
		{"", 0},
	} {
		t.Run(tc.since, func(t *testing.T) {
			h := newHarness(t, 80, 24)
			h.keys("r", "ctrl+u")
			h.typeText(tc.since)
			h.keys("enter", "enter")
			want := fmt.Sprintf("StartRecording %s alias=%q epoch=%d", idDoor, "", tc.epoch)
			if got := h.fake.called(); len(got) == 0 || got[0] != want {
				t.Fatalf("calls = %q, want %q", got, want)
			}
		})
	}
}

func TestStartRecordingPromptRefusesBadSince(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.keys("r", "ctrl+u")
	h.typeText("yesterday")
	h.keys("enter")
	if !h.m.prompting || h.m.prompt.err == "" {
		t.Fatal("a bad since should keep the prompt open with an error")
	}
	if !strings.Contains(h.screen(), "not a time") {
		t.Fatalf("error not shown in the prompt:\n%s", h.screen())
	}
	h.keys("esc")
	if h.m.prompting {
		t.Fatal("esc should close the prompt")
	}
	h.wantCalls()
	h.wantStatus("no recording started")
}

func TestStartRecordingFromRecordingsPanel(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.keys("3", "r") // the selected recording is cam-lobby's
	if !h.m.prompting || h.m.prompt.source.ID != idLobby {
		t.Fatalf("prompt source = %+v, want cam-lobby", h.m.prompt.source)
	}
	h.keys("q") // typed into the field, not quitting
	if h.quit {
		t.Fatal("q in the prompt quit the dashboard")
	}
}

func TestStartRecordingError(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.fake.errs["StartRecording"] = &api.StatusError{Status: 400, Message: "start_time_epoch is older than the edge's buffer", Detail: "the edge keeps 120s"}
	h.keys("r", "enter", "enter")
	h.wantStatus("could not start a recording of cam-door: start_time_epoch is older than the edge's buffer (the edge keeps 120s)")
}

func TestStopRecording(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.keys("3", "x") // the active one is first
	h.wantCalls("StopRecording "+idRecLive, `ListSources `)
	h.wantStatus(`stopped recording 9d2c7a41 "delivery" of cam-lobby: 4m05s`)
	rec, _ := h.m.recs.selected()
	if rec.IsActive() {
		t.Fatal("recording still shown active")
	}
}

func TestStopRecordingAlreadyStopped(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.keys("3", "down", "x")
	h.wantCalls()
	h.wantStatus("already ended at 10:55:00")
}

func TestStopRecordingNeedsRecordingsPanel(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.keys("x")
	h.wantCalls()
	h.wantStatus("press 3 for Recordings")
}

func TestStopRecordingError(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.fake.errs["StopRecording"] = fmt.Errorf("%w at http://127.0.0.1:8080: dial tcp: connection refused", api.ErrUnreachable)
	h.keys("3", "x")
	h.wantStatus(`could not stop recording 9d2c7a41 "delivery" of cam-lobby: it does not answer (is lmx controld running there?)`)
}

func TestCopySourceURL(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.keys("down", "c")
	url := "http://127.0.0.1:8081/v1/vod/live/cam-lobby/vid.m3u8"
	want := "\x1b]52;c;" + base64.StdEncoding.EncodeToString([]byte(url)) + "\x07"
	if h.out.String() != want {
		t.Fatalf("terminal got %q, want the OSC 52 escape %q", h.out.String(), want)
	}
	h.wantStatus("cam-lobby live: " + url + " · sent to clipboard (OSC 52)")
	if strings.Contains(h.statusText(), "copied") {
		t.Fatal(`never claim "copied": the terminal does not say`)
	}
	// The whole URL is on screen, to select by hand.
	if !strings.Contains(h.screen(), url) {
		t.Fatalf("URL not on screen:\n%s", h.screen())
	}
}

func TestCopyRecordingURLWraps(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.keys("3", "c")
	url := "http://127.0.0.1:8081/v1/vod/recording/" + idRecLive + "/vid.m3u8"
	h.wantStatus("recording 9d2c7a41: " + url)
	if !strings.Contains(strings.ReplaceAll(h.screen(), "\n", ""), url) {
		t.Fatalf("URL not on screen (wrapped):\n%s", h.screen())
	}
	if got := len(strings.Split(h.m.View(), "\n")); got != 24 {
		t.Fatalf("view has %d lines with a wrapped status, want 24", got)
	}
}

func TestCopyWithoutURL(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.keys("3", "G", "c") // the old recording has no URL
	if h.out.Len() != 0 {
		t.Fatal("wrote to the terminal without a URL")
	}
	h.wantStatus("gave no playback URL")
	h.keys("1", "c")
	h.wantStatus("edges have no playback URL")
}

func TestFilter(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.keys("/")
	if !h.m.filtering {
		t.Fatal("/ did not open the filter")
	}
	h.typeText("yard")
	scr := h.screen()
	if !strings.Contains(scr, "cam-yard") || strings.Contains(scr, "cam-lobby") || !strings.Contains(scr, "gw-yard") || strings.Contains(scr, "gw-lobby ") {
		t.Fatalf("filter yard:\n%s", scr)
	}
	if !strings.Contains(scr, "no recording matches \"yard\"") {
		t.Fatalf("empty recordings under a filter should say so:\n%s", scr)
	}
	h.keys("enter")
	if h.m.filtering || h.m.sources.filter != "yard" {
		t.Fatal("enter should keep the filter and close the field")
	}
	if !strings.Contains(h.screen(), `filter "yard"`) {
		t.Fatalf("kept filter not shown in the header:\n%s", h.screen())
	}
	// Actions apply to the filtered rows.
	h.keys("s")
	h.wantCalls("SetStreaming " + idYard + " false")
	h.keys("esc")
	if h.m.sources.filter != "" || len(h.m.sources.rows) != 3 {
		t.Fatal("esc should clear the filter")
	}
	// esc in the field clears too.
	h.keys("/")
	h.typeText("lob")
	h.keys("esc")
	if h.m.filtering || h.m.sources.filter != "" {
		t.Fatal("esc in the field should clear the filter")
	}
}

func TestHelpToggle(t *testing.T) {
	h := newHarness(t, 80, 24)
	if strings.Contains(h.screen(), "page down") {
		t.Fatal("full help shown before ?")
	}
	h.keys("?")
	scr := h.screen()
	for _, want := range []string{"page down", "reload all", "x stop", "a add source", "edges/sources/recordings"} {
		if !strings.Contains(scr, want) {
			t.Fatalf("full help lacks %q:\n%s", want, scr)
		}
	}
	if got := len(strings.Split(h.m.View(), "\n")); got != 24 {
		t.Fatalf("view has %d lines with full help, want 24", got)
	}
	h.keys("?")
	if strings.Contains(h.screen(), "page down") {
		t.Fatal("? should hide the full help again")
	}
}

func TestRefreshKey(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.keys("ctrl+r")
	for _, m := range []string{"ListEdges", "ListSources", "ListRecordings"} {
		if h.fake.count(m) != 1 {
			t.Fatalf("ctrl+r: %s not called once: %q", m, h.fake.called())
		}
	}
}

func TestQuit(t *testing.T) {
	for _, k := range []string{"q", "ctrl+c"} {
		t.Run(k, func(t *testing.T) {
			h := newHarness(t, 80, 24)
			h.keys(k)
			if !h.quit {
				t.Fatalf("%s did not quit", k)
			}
			if h.m.ctx.Err() == nil {
				t.Fatal("quitting should stop the event follower")
			}
		})
	}
	// ctrl+c quits from the prompt and the filter too.
	h := newHarness(t, 80, 24)
	h.keys("r", "ctrl+c")
	if !h.quit {
		t.Fatal("ctrl+c in the prompt did not quit")
	}
}

func TestEventsRefetchOnlyWhatTheyAffect(t *testing.T) {
	for _, tc := range []struct {
		kind string
		want []string
	}{
		{"source.streaming", []string{"ListSources "}},
		{"source.added", []string{"ListEdges", "ListSources "}},
		{"recording.started", []string{`ListRecordings "" false`, "ListSources "}},
		{"recording.stopped", []string{`ListRecordings "" false`, "ListSources "}},
		{"edge.offline", []string{"ListEdges", "ListSources "}},
		{"segment.dropped", nil},
		{"segment.ingested", nil},
		{"hello", []string{"ListEdges", `ListRecordings "" false`, "ListSources "}},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			h := newHarness(t, 80, 24)
			h.send(event(tc.kind, api.EventPayload{Kind: tc.kind, Source: "cam-door", Edge: "gw-lobby"}))
			got := h.fake.called()
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("calls = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestEventsAreDebounced(t *testing.T) {
	h := newHarness(t, 80, 24, func(o *Options) { o.Debounce = time.Hour })
	var cmds int
	for _, kind := range []string{"source.streaming", "source.added", "recording.started"} {
		next, cmd := h.m.Update(event(kind, api.EventPayload{Kind: kind}))
		h.m = next.(Model)
		if cmd != nil {
			cmds++ // the debounce timer, not run here
		}
	}
	h.wantCalls()
	if cmds != 1 {
		t.Fatalf("a burst of events armed %d timers, want 1", cmds)
	}
	h.send(flushMsg{})
	got := h.fake.called()
	slices.Sort(got)
	if want := []string{"ListEdges", `ListRecordings "" false`, "ListSources "}; !slices.Equal(got, want) {
		t.Fatalf("flush fetched %q, want each list once: %q", got, want)
	}
}

func TestEdgeStatusUpdatesInPlace(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.m.lastSlow = t0
	h.clock.Add(3 * time.Second)
	h.send(event("edge.status", lobbyStatus(false, 3_100_000, 900_000, h.clock.Now())))
	h.wantCalls() // nothing fetched
	scr := h.screen()
	if !strings.Contains(scr, "3.1 Mbit/s") {
		t.Fatalf("bitrate not updated:\n%s", scr)
	}
	e, _ := h.m.edges.selected()
	if !e.LastSeen.Equal(h.clock.Now()) {
		t.Fatalf("edge last seen %v, want the status's arrival", e.LastSeen)
	}
	// The Last Will marks the edge and its sources offline.
	will := lobbyStatus(false, 0, 0, h.clock.Now())
	will.Online = false
	h.send(event("edge.status", will))
	src, _ := h.m.sources.find(idLobby, "")
	if src.EdgeOnline || src.EdgeStreaming {
		t.Fatalf("source of an offline edge: %+v", src)
	}
	if !strings.Contains(h.screen(), "✗ gw-lobby") {
		t.Fatalf("offline edge not marked on its sources:\n%s", h.screen())
	}
}

func TestHeartbeatRefetchesViewersAtMostEverySlowRefresh(t *testing.T) {
	h := newHarness(t, 80, 24)
	st := lobbyStatus(false, 2_400_000, 1_000_000, t0)
	h.send(event("edge.status", st))
	// cam-lobby streams and a recording is active: both lists, once.
	if h.fake.count("ListSources") != 1 || h.fake.count("ListRecordings") != 1 {
		t.Fatalf("first heartbeat: %q", h.fake.called())
	}
	h.clock.Add(2 * time.Second)
	h.send(event("edge.status", st))
	if len(h.fake.called()) != 2 {
		t.Fatalf("heartbeat within %s refetched: %q", slowRefresh, h.fake.called())
	}
	h.clock.Add(slowRefresh)
	h.send(event("edge.status", st))
	if h.fake.count("ListSources") != 2 {
		t.Fatalf("heartbeat after %s did not refetch: %q", slowRefresh, h.fake.called())
	}
}

func TestEdgeStatusWithNewSourceRefetches(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.m.lastSlow = t0
	st := lobbyStatus(false, 1, 1, t0)
	st.Sources = append(st.Sources, broker.SourceStatus{Name: "cam-new"})
	h.send(event("edge.status", st))
	h.wantCalls("ListSources ")
}

func TestReconnectingAndBack(t *testing.T) {
	h := newHarness(t, 80, 24)
	down := fmt.Errorf("%w at http://127.0.0.1:8080: connection refused", api.ErrUnreachable)
	h.send(connMsg{state: connReconnecting, err: down, retryIn: 2 * time.Second})
	scr := h.screen()
	if !strings.Contains(scr, "○ reconnecting…") {
		t.Fatalf("header does not say reconnecting:\n%s", scr)
	}
	h.wantStatus("lost the control node at http://127.0.0.1:8080: it does not answer (is lmx controld running there?); trying again in 2s")
	// A fetch failing the same way adds nothing.
	h.send(sourcesMsg{seq: 5, err: down})
	h.wantStatus("lost the control node")
	// The panels keep the last known state.
	if !strings.Contains(scr, "cam-lobby") {
		t.Fatalf("panels emptied while reconnecting:\n%s", scr)
	}
	h.send(connMsg{state: connLive})
	h.send(event("hello", map[string]any{"version": "v0.5.0"}))
	if !strings.Contains(h.screen(), "● live") {
		t.Fatalf("header not live again:\n%s", h.screen())
	}
	h.wantStatus("reconnected to http://127.0.0.1:8080")
	got := h.fake.called()
	slices.Sort(got)
	if want := []string{"ListEdges", `ListRecordings "" false`, "ListSources "}; !slices.Equal(got, want) {
		t.Fatalf("hello after a reconnect refetched %q, want everything", got)
	}
	if h.m.serverVersion != "v0.5.0" {
		t.Fatalf("server version %q", h.m.serverVersion)
	}
}

func TestFetchErrorsInPlainWords(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.send(edgesMsg{seq: 1, err: &api.StatusError{Status: 500, Message: "database is locked"}})
	h.wantStatus("could not list the edges: database is locked")
	if len(h.m.edges.all) != 2 {
		t.Fatal("a failed fetch should keep the rows shown")
	}
}

func TestStaleFetchIgnored(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.send(sourcesMsg{seq: 7, sources: fixtureSources()[:1]})
	h.send(sourcesMsg{seq: 6, sources: fixtureSources()})
	if n := len(h.m.sources.all); n != 1 {
		t.Fatalf("an older answer replaced a newer one: %d sources", n)
	}
}

func TestNoticesDoNotHideFreshResults(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.keys("s")
	h.send(event("segment.dropped", api.EventPayload{Source: "cam-yard", Edge: "gw-yard", Detail: "upload failed"}))
	h.wantStatus("streaming on asked")
	h.clock.Add(noticeHold)
	h.send(event("segment.dropped", api.EventPayload{Source: "cam-yard", Edge: "gw-yard", Detail: "upload failed"}))
	h.wantStatus("a segment of cam-yard was dropped (edge gw-yard): upload failed")
	h.keys("esc")
	if h.statusText() != "" {
		t.Fatal("esc should clear the status line")
	}
}

func TestScrollKeepsCursorVisible(t *testing.T) {
	h := newHarness(t, 80, 24)
	var many []api.Source
	for i := range 40 {
		many = append(many, api.Source{ID: fmt.Sprintf("id-%02d", i), Name: fmt.Sprintf("cam-%02d", i)})
	}
	h.send(sourcesMsg{seq: 1, sources: many})
	h.keys("G")
	scr := h.screen()
	if !strings.Contains(scr, "› cam-39") {
		t.Fatalf("last row not in view:\n%s", scr)
	}
	if !strings.Contains(scr, "of 40") {
		t.Fatalf("no scroll position in the title:\n%s", scr)
	}
	if got := len(strings.Split(h.m.View(), "\n")); got != 24 {
		t.Fatalf("view has %d lines, want 24", got)
	}
}

func TestEveryLineFits(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {160, 48}, {60, 15}, {40, 10}, {200, 60}} {
		h := newHarness(t, size[0], size[1])
		for _, step := range [][]string{nil, {"?"}, {"?", "r"}, {"esc", "/"}, {"esc", "a"}} {
			h.keys(step...)
			lines := strings.Split(h.m.View(), "\n")
			if len(lines) != size[1] {
				t.Fatalf("%dx%d after %v: %d lines", size[0], size[1], step, len(lines))
			}
			for i, l := range lines {
				if w := ansi.StringWidth(l); w > size[0] {
					t.Fatalf("%dx%d after %v: line %d is %d wide: %q", size[0], size[1], step, i, w, ansi.Strip(l))
				}
			}
		}
	}
}

func TestPlainErrors(t *testing.T) {
	h := newHarness(t, 80, 24)
	for _, tc := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("%w at x: boom", api.ErrUnreachable), "it does not answer (is lmx controld running there?)"},
		{&api.StatusError{Status: 404, Message: "no source named x", Detail: "see lmx source ls"}, "no source named x (see lmx source ls)"},
		{errors.New("event stream ended"), "event stream ended"},
	} {
		if got := h.m.plain(tc.err); got != tc.want {
			t.Errorf("plain(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

// TestKeysTypedAhead: several keys arriving in one read are taken one by one.
func TestKeysTypedAhead(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("3?")})
	if h.m.focus != panelRecordings || !h.m.help.ShowAll {
		t.Fatalf("after \"3?\" in one read: focus %d, full help %v; want Recordings and help open", h.m.focus, h.m.help.ShowAll)
	}
	// Pasted text is not a sequence of commands.
	h.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q1"), Paste: true})
	if h.quit {
		t.Fatal("a paste containing q quit the dashboard")
	}
}

// TestEventActorInStatus: what someone did through the API shows with who
// did it; what the system did by itself only refetches.
func TestEventActorInStatus(t *testing.T) {
	for _, tc := range []struct {
		kind string
		p    api.EventPayload
		want string
	}{
		{"source.streaming", api.EventPayload{Source: "cam-lobby", Edge: "gw-lobby", Detail: "on", Actor: "ci-bot"}, "cam-lobby: streaming on · by ci-bot"},
		{"source.added", api.EventPayload{Source: "cam-gate", Actor: "admin"}, "source cam-gate added · by admin"},
		{"source.removed", api.EventPayload{Source: "cam-gate", Actor: "admin"}, "source cam-gate removed · by admin"},
		{"source.edge", api.EventPayload{Source: "cam-door", Edge: "gw-yard", Detail: "was gw-lobby", Actor: "night"}, "cam-door moved to edge gw-yard · by night"},
		{"recording.started", api.EventPayload{Source: "cam-lobby", Recording: idRecLive, Actor: "ci-bot"}, "recording 9d2c7a41 of cam-lobby started · by ci-bot"},
		{"recording.stopped", api.EventPayload{Source: "cam-lobby", Recording: idRecLive, Actor: "ci-bot"}, "recording 9d2c7a41 of cam-lobby stopped · by ci-bot"},
		{"recording.removed", api.EventPayload{Recording: idRecLive, Detail: "3 objects deleted", Actor: "admin"}, "recording 9d2c7a41 removed · by admin"},
		{"edge.offline", api.EventPayload{Edge: "gw-yard", Actor: "admin"}, "edge gw-yard went offline · by admin"},
		{"edge.revoked", api.EventPayload{Edge: "gw-yard", Actor: "admin"}, "edge.revoked gw-yard · by admin"},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			h := newHarness(t, 80, 24)
			h.clock.Add(noticeHold)
			h.send(event(tc.kind, tc.p))
			h.wantStatus(tc.want)
		})
	}

	// Without an actor: no notice (the system did it), only a refetch.
	h := newHarness(t, 80, 24)
	h.clock.Add(noticeHold)
	before := h.statusText()
	h.send(event("source.streaming", api.EventPayload{Source: "cam-lobby", Detail: "on"}))
	h.send(event("edge.revoked", api.EventPayload{Edge: "gw-yard"}))
	if h.statusText() != before {
		t.Errorf("status %q after events nobody made", h.statusText())
	}
}

func TestEventStreamRefused(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.send(connMsg{state: connReconnecting, retryIn: time.Second,
		err: &api.StatusError{Status: 401, Message: "event stream: token revoked"}})
	h.wantStatus("the control node at http://127.0.0.1:8080 refused its event stream: event stream: token revoked: pass --token or set LMX_TOKEN; trying again in 1s")
}
