package tui

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/broker"
)

// t0 is the frozen "now" of every test.
var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

const (
	idDoor    = "0c1d2e3f-0000-4000-8000-000000000001"
	idLobby   = "3b6f1c2e-0000-4000-8000-000000000002"
	idYard    = "7a8b9c0d-0000-4000-8000-000000000003"
	idRecLive = "9d2c7a41-0000-4000-8000-0000000000a1"
	idRecDone = "51e0b3aa-0000-4000-8000-0000000000a2"
	idRecOld  = "c4d5e6f7-0000-4000-8000-0000000000a3"
)

// fakeClient is the control node as the dashboard sees it: canned lists,
// actions that change them, and an event stream the test feeds.
type fakeClient struct {
	mu         sync.Mutex
	edges      []api.Edge
	sources    []api.Source
	recordings []api.Recording
	// errs makes a method fail: keyed by method name.
	errs map[string]error
	// calls records every call as "Method arg…".
	calls []string
	// events feeds FollowEvents; closing it ends the stream.
	events chan api.StreamEvent
	// follow, when set, replaces FollowEvents.
	follow func(ctx context.Context, fn func(api.StreamEvent)) error
}

func newFake() *fakeClient {
	return &fakeClient{
		edges:      fixtureEdges(),
		sources:    fixtureSources(),
		recordings: fixtureRecordings(),
		errs:       map[string]error{},
		events:     make(chan api.StreamEvent, 16),
	}
}

func (f *fakeClient) record(call string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
	name := call
	for i, r := range call {
		if r == ' ' {
			name = call[:i]
			break
		}
	}
	return f.errs[name]
}

// called returns the calls so far.
func (f *fakeClient) called() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// count is how many calls started with prefix.
func (f *fakeClient) count(prefix string) int {
	n := 0
	for _, c := range f.called() {
		if len(c) >= len(prefix) && c[:len(prefix)] == prefix {
			n++
		}
	}
	return n
}

func (f *fakeClient) ListSources(_ context.Context, name string) ([]api.Source, error) {
	if err := f.record("ListSources " + name); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.sources), nil
}

func (f *fakeClient) ListEdges(context.Context) ([]api.Edge, error) {
	if err := f.record("ListEdges"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.edges), nil
}

func (f *fakeClient) ListRecordings(_ context.Context, source string, activeOnly bool) ([]api.Recording, error) {
	if err := f.record(fmt.Sprintf("ListRecordings %q %v", source, activeOnly)); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.recordings), nil
}

// idNew is the id the fake gives a source created from the dashboard.
const idNew = "5e5e5e5e-0000-4000-8000-000000000004"

func (f *fakeClient) CreateSource(_ context.Context, ns api.NewSource) (api.Source, error) {
	if err := f.record(fmt.Sprintf("CreateSource name=%q desc=%q seg=%d", ns.Name, ns.Description, ns.SegmentLen)); err != nil {
		return api.Source{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.sources {
		if s.Name == ns.Name {
			return api.Source{}, &api.StatusError{Status: 409, Message: fmt.Sprintf("source %q: conflict: name already exists", ns.Name)}
		}
	}
	src := api.Source{
		ID: idNew, Name: ns.Name, Description: ns.Description, SegmentLength: ns.SegmentLen,
		Streaming:   api.StreamingOff,
		PlaybackURL: "http://127.0.0.1:8081/v1/vod/live/" + ns.Name + "/vid.m3u8",
	}
	f.sources = append(f.sources, src)
	return src, nil
}

func (f *fakeClient) SetStreaming(_ context.Context, id string, on bool) (api.Source, error) {
	if err := f.record(fmt.Sprintf("SetStreaming %s %v", id, on)); err != nil {
		return api.Source{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, s := range f.sources {
		if s.ID == id || s.Name == id {
			f.sources[i].Streaming = api.StreamingOff
			if on {
				f.sources[i].Streaming = api.StreamingOn
			}
			return f.sources[i], nil
		}
	}
	return api.Source{}, &api.StatusError{Status: 404, Message: "no source " + id}
}

func (f *fakeClient) StartRecording(_ context.Context, source string, r api.NewRecording) (api.Recording, error) {
	if err := f.record(fmt.Sprintf("StartRecording %s alias=%q epoch=%d", source, r.Alias, r.StartTimeEpoch)); err != nil {
		return api.Recording{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	start := t0
	if r.StartTimeEpoch != 0 {
		start = time.Unix(r.StartTimeEpoch, 0).UTC()
	}
	rec := api.Recording{
		ID: "e1e2e3e4-0000-4000-8000-0000000000b1", Source: source, SourceName: nameOf(f.sources, source),
		Alias: r.Alias, StartTS: start, Active: api.ActiveOn,
		PlaybackURL: "http://127.0.0.1:8081/v1/vod/recording/e1e2e3e4-0000-4000-8000-0000000000b1/vid.m3u8",
	}
	f.recordings = append([]api.Recording{rec}, f.recordings...)
	return rec, nil
}

func (f *fakeClient) StopRecording(_ context.Context, id string) (api.Recording, error) {
	if err := f.record("StopRecording " + id); err != nil {
		return api.Recording{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, r := range f.recordings {
		if r.ID == id {
			f.recordings[i].Active = api.ActiveOff
			f.recordings[i].EndTS = t0
			return f.recordings[i], nil
		}
	}
	return api.Recording{}, &api.StatusError{Status: 404, Message: "no recording " + id}
}

func (f *fakeClient) FollowEvents(ctx context.Context, fn func(api.StreamEvent)) error {
	if err := f.record("FollowEvents"); err != nil {
		return err
	}
	if f.follow != nil {
		return f.follow(ctx, fn)
	}
	f.mu.Lock()
	events := f.events
	f.mu.Unlock()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev, ok := <-events:
			if !ok {
				return errors.New("event stream ended")
			}
			fn(ev)
		}
	}
}

// setSource changes a source as the control node would see it.
func (f *fakeClient) setSource(id string, change func(*api.Source)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.sources {
		if f.sources[i].ID == id {
			change(&f.sources[i])
		}
	}
}

// restart ends the current event stream, as a control node going away
// does, and returns the channel the next stream will read.
func (f *fakeClient) restart() chan api.StreamEvent {
	f.mu.Lock()
	old := f.events
	f.events = make(chan api.StreamEvent, 16)
	next := f.events
	f.mu.Unlock()
	close(old)
	return next
}

func nameOf(sources []api.Source, id string) string {
	for _, s := range sources {
		if s.ID == id {
			return s.Name
		}
	}
	return id
}

func fixtureEdges() []api.Edge {
	return []api.Edge{
		{
			Name: "gw-yard", Online: false, Version: "v0.4.0", IngestAddr: "10.0.0.9:9080",
			StartedAt: t0.Add(-50 * time.Hour), FirstSeen: t0.Add(-72 * time.Hour), LastSeen: t0.Add(-3 * time.Hour),
			Sources: []api.EdgeSource{{Name: "cam-yard", Dropped: 3}},
		},
		{
			Name: "gw-lobby", Online: true, Version: "v0.4.1", IngestAddr: "10.0.0.5:9080",
			StartedAt: t0.Add(-2 * time.Hour), FirstSeen: t0.Add(-72 * time.Hour), LastSeen: t0.Add(-2 * time.Second),
			Sources: []api.EdgeSource{
				{Name: "cam-lobby", Streaming: true, BitrateBPS: 2_400_000},
				{Name: "cam-door", BitrateBPS: 1_100_000},
			},
		},
	}
}

func fixtureSources() []api.Source {
	return []api.Source{
		{
			ID: idLobby, Name: "cam-lobby", SegmentLength: 2, Streaming: api.StreamingOn,
			Edge: "gw-lobby", EdgeOnline: true, EdgeStreaming: true,
			LastSegmentAt: t0.Add(-1 * time.Second), BitrateBPS: 2_400_000, LiveSegments: 5,
			PlaylistRequestsPerMin: 42, Recording: true,
			PlaybackURL: "http://127.0.0.1:8081/v1/vod/live/cam-lobby/vid.m3u8",
		},
		{
			ID: idDoor, Name: "cam-door", SegmentLength: 2, Streaming: api.StreamingOff,
			Edge: "gw-lobby", EdgeOnline: true, EdgeStreaming: false,
			LastSegmentAt: t0.Add(-5 * time.Minute), BitrateBPS: 1_100_000,
			PlaybackURL: "http://127.0.0.1:8081/v1/vod/live/cam-door/vid.m3u8",
		},
		{
			ID: idYard, Name: "cam-yard", SegmentLength: 4, Streaming: api.StreamingOn,
			Edge: "gw-yard", EdgeOnline: false, EdgeStreaming: false,
			LastSegmentAt: t0.Add(-3 * time.Hour),
			PlaybackURL:   "http://127.0.0.1:8081/v1/vod/live/cam-yard/vid.m3u8",
		},
	}
}

func fixtureRecordings() []api.Recording {
	return []api.Recording{
		{
			ID: idRecLive, Source: idLobby, SourceName: "cam-lobby", Alias: "delivery",
			StartTS: t0.Add(-4*time.Minute - 5*time.Second), Active: api.ActiveOn,
			Segments: 121, DurationSeconds: 242, Bytes: 19_084_000,
			PlaybackURL: "http://127.0.0.1:8081/v1/vod/recording/" + idRecLive + "/vid.m3u8",
		},
		{
			ID: idRecDone, Source: idDoor, SourceName: "cam-door",
			StartTS: t0.Add(-70 * time.Minute), EndTS: t0.Add(-65 * time.Minute), Active: api.ActiveOff,
			Segments: 150, DurationSeconds: 300, Bytes: 9_961_472,
			PlaybackURL: "http://127.0.0.1:8081/v1/vod/recording/" + idRecDone + "/vid.m3u8",
		},
		{
			ID: idRecOld, Source: idLobby, SourceName: "cam-lobby", Alias: "door opened",
			StartTS: t0.Add(-26 * time.Hour), EndTS: t0.Add(-26*time.Hour + 90*time.Second), Active: api.ActiveOff,
			Segments: 45, DurationSeconds: 90, Bytes: 4_404_019,
		},
	}
}

// clock is a settable test clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// renderer is a lipgloss renderer with a fixed profile.
func renderer(p termenv.Profile) *lipgloss.Renderer {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(p)
	return r
}

// harness is a model under test with its fake, clock and terminal output.
type harness struct {
	t     *testing.T
	m     Model
	fake  *fakeClient
	clock *testClock
	out   *bytes.Buffer
	quit  bool
}

// newHarness makes a model at w×h over the fixtures, loads them, and
// marks the stream live. Refetches run at once (no debounce).
func newHarness(t *testing.T, w, h int, tweak ...func(*Options)) *harness {
	t.Helper()
	hs := &harness{t: t, fake: newFake(), clock: &testClock{t: t0}, out: &bytes.Buffer{}}
	opts := Options{
		Server:   "http://127.0.0.1:8080",
		Now:      hs.clock.Now,
		Location: time.UTC,
		Renderer: renderer(termenv.Ascii),
		Output:   hs.out,
		Debounce: -1,
	}
	for _, f := range tweak {
		f(&opts)
	}
	hs.m = New(hs.fake, opts)
	t.Cleanup(hs.m.cancel)
	hs.send(tea.WindowSizeMsg{Width: w, Height: h})
	hs.send(connMsg{state: connLive})
	hs.send(edgesMsg{edges: hs.fake.edges})
	hs.send(sourcesMsg{sources: hs.fake.sources})
	hs.send(recordingsMsg{recordings: hs.fake.recordings})
	return hs
}

// send gives msg to the model, then runs the commands it returns, and
// those their messages return, until nothing is left: one user-visible
// step, synchronously.
func (h *harness) send(msg tea.Msg) {
	h.t.Helper()
	queue := []tea.Msg{msg}
	for n := 0; len(queue) > 0; n++ {
		if n > 200 {
			h.t.Fatal("messages do not settle")
		}
		msg, queue = queue[0], queue[1:]
		if _, ok := msg.(tea.QuitMsg); ok {
			h.quit = true
			continue
		}
		next, cmd := h.m.Update(msg)
		h.m = next.(Model)
		queue = append(queue, run(cmd)...)
	}
}

// run runs a command and the commands of a batch, collecting messages.
func run(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	msg := cmd()
	if b, ok := msg.(tea.BatchMsg); ok {
		var out []tea.Msg
		for _, c := range b {
			out = append(out, run(c)...)
		}
		return out
	}
	if msg == nil {
		return nil
	}
	return []tea.Msg{msg}
}

// keys sends key presses: single characters, or names such as "enter".
func (h *harness) keys(keys ...string) {
	h.t.Helper()
	for _, k := range keys {
		h.send(keyMsg(k))
	}
}

// typeText sends each rune of s as a key press.
func (h *harness) typeText(s string) {
	h.t.Helper()
	for _, r := range s {
		h.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
}

func keyMsg(k string) tea.KeyMsg {
	switch k {
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "tab":
		return tea.KeyMsg{Type: tea.KeyTab}
	case "shift+tab":
		return tea.KeyMsg{Type: tea.KeyShiftTab}
	case "up":
		return tea.KeyMsg{Type: tea.KeyUp}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	case "backspace":
		return tea.KeyMsg{Type: tea.KeyBackspace}
	case "ctrl+c":
		return tea.KeyMsg{Type: tea.KeyCtrlC}
	case "ctrl+r":
		return tea.KeyMsg{Type: tea.KeyCtrlR}
	case "ctrl+u":
		return tea.KeyMsg{Type: tea.KeyCtrlU}
	case "space":
		return tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}

// event is a server-sent event with payload v marshalled as its data.
func event(kind string, v any) eventMsg {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return eventMsg{ev: api.StreamEvent{Kind: kind, Data: b}}
}

// lobbyStatus is gw-lobby's heartbeat with cam-door's streaming and
// bitrates as given.
func lobbyStatus(doorStreaming bool, lobbyBPS, doorBPS int64, at time.Time) broker.EdgeStatus {
	return broker.EdgeStatus{
		V: broker.Version, Edge: "gw-lobby", Online: true, Version: "v0.4.1",
		StartedAt: t0.Add(-2 * time.Hour), Time: at, IngestAddr: "10.0.0.5:9080",
		HeartbeatEvery: broker.Duration(5 * time.Second),
		Sources: []broker.SourceStatus{
			{Name: "cam-lobby", Streaming: true, BitrateBPS: lobbyBPS, LastSegmentAt: at.Add(-time.Second)},
			{Name: "cam-door", Streaming: doorStreaming, BitrateBPS: doorBPS, LastSegmentAt: at.Add(-time.Second)},
		},
	}
}
