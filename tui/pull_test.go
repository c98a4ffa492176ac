package tui

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/broker"
)

// withPulledDoor makes cam-door a camera gw-lobby pulls, its ffmpeg in
// backoff after three restarts, and lets the dashboard fetch it.
func withPulledDoor(h *harness) *harness {
	h.fake.setSource(idDoor, func(s *api.Source) {
		s.PullURL = "rtsp://admin:xxxxx@10.0.0.7:554/stream"
		s.Streaming = api.StreamingOn
		s.Pull = &api.PullState{State: api.PullBackoff, Since: t0.Add(-20e9), Restarts: 3,
			LastError: "rtsp://admin:xxxxx@10.0.0.7:554/stream: Connection refused", Video: "h264"}
	})
	h.send(event(broker.EventPullChanged, api.EventPayload{Source: "cam-door", Edge: "gw-lobby",
		Detail: "backoff ×3: rtsp://admin:xxxxx@10.0.0.7:554/stream: Connection refused"}))
	return h
}

// TestGoldenPullBackoff80x24: the pull's state in the table and its last
// error in the status line, as the event comes.
func TestGoldenPullBackoff80x24(t *testing.T) {
	h := withPulledDoor(withHistory(newHarness(t, 80, 24)))
	requireGolden(t, h)
}

// TestGoldenPullSelected80x24: with nothing else to say, the status line
// says what is wrong with the selected pulled source.
func TestGoldenPullSelected80x24(t *testing.T) {
	h := withPulledDoor(withHistory(newHarness(t, 80, 24)))
	h.clock.Add(noticeHold)
	h.m.status = status{}
	requireGolden(t, h)
}

// TestPullFromHeartbeat: the edge's heartbeat moves the pull's state in
// place; back to running, the cell is the streaming state again and the
// status line says nothing of the pull.
func TestPullFromHeartbeat(t *testing.T) {
	h := withPulledDoor(withHistory(newHarness(t, 80, 24)))
	if !strings.Contains(h.screen(), "backoff ×3") {
		t.Fatalf("no pull state in:\n%s", h.screen())
	}
	h.wantStatus("cam-door: pull backoff ×3: rtsp://admin:xxxxx@10.0.0.7:554/stream: Connection refused")

	st := lobbyStatus(true, 2_400_000, 1_100_000, t0)
	st.Sources[1].Pull = &broker.PullStatus{State: "running", Restarts: 3, Video: "h264"}
	b, _ := json.Marshal(st)
	h.fake.setSource(idDoor, func(s *api.Source) { s.Pull = &api.PullState{State: api.PullRunning, Restarts: 3, Video: "h264"} })
	h.send(eventMsg{ev: api.StreamEvent{Kind: "edge.status", Data: b}})
	for _, line := range strings.Split(h.screen(), "\n") {
		if strings.HasPrefix(strings.TrimLeft(line, "› "), "cam-door ") && strings.Contains(line, "backoff") {
			t.Errorf("still in backoff after a running heartbeat: %s", line)
		}
	}
	if s, _ := h.m.sources.find(idDoor, ""); s.Pull == nil || s.Pull.State != api.PullRunning {
		t.Errorf("cam-door's pull %+v, want running", s.Pull)
	}
	h.clock.Add(noticeHold)
	h.m.status = status{}
	if line := h.m.statusLines()[0]; strings.Contains(line, "pull") {
		t.Errorf("status line %q while the pull runs", line)
	}
}

// withFeeds makes cam-lobby a source fed by gw-lobby and gw-2, the
// second active since gw-lobby missed a segment, gw-lobby back fenced.
func withFeeds(h *harness) *harness {
	h.fake.setSource(idLobby, func(s *api.Source) {
		s.Feeds = []api.Feed{
			{Edge: "gw-lobby", Fenced: true, Healthy: true, EdgeOnline: true, LastSegmentAt: t0.Add(-time.Second), Segments: 40},
			{Edge: "gw-2", Active: true, Healthy: true, EdgeOnline: true, LastSegmentAt: t0.Add(-time.Second), Segments: 120},
		}
		s.Switches = []api.FeedSwitch{
			{At: t0.Add(-time.Hour), To: "gw-lobby", Reason: "first", Detail: "first feed to deliver"},
			{At: t0.Add(-time.Minute), From: "gw-lobby", To: "gw-2", Reason: "missed", Detail: "no segment from gw-lobby for 0.5 s after one was due", LateByMS: 512, Listed: 1},
		}
	})
	h.send(event(broker.EventFeedSwitched, api.EventPayload{Source: "cam-lobby", Edge: "gw-2",
		Detail: "gw-lobby → gw-2: no segment from gw-lobby for 0.5 s after one was due"}))
	return h
}

// TestGoldenFeeds80x24: a multi-feed source shows its active feed and the
// count of the others; selected, the status line lists the feeds and the
// last switch.
func TestGoldenFeeds80x24(t *testing.T) {
	h := withFeeds(withHistory(newHarness(t, 80, 24)))
	h.keys("down")
	h.clock.Add(noticeHold)
	h.m.status = status{}
	requireGolden(t, h)
	if !strings.Contains(h.screen(), "gw-2 +1") {
		t.Errorf("no active feed in the EDGE column:\n%s", h.screen())
	}
	if got := h.selectedSource(); got != "cam-lobby" {
		t.Fatalf("selected %q", got)
	}
	line := strings.Join(h.m.statusLines(), " ")
	for _, want := range []string{"gw-lobby standby ✓ (fenced)", "gw-2 active ✓", "last switch", "(512 ms)"} {
		if !strings.Contains(line, want) {
			t.Errorf("feeds line %q lacks %q", line, want)
		}
	}
}
