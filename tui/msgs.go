package tui

import (
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/broker"
)

// Every message the dashboard exchanges with its commands, in one place.

// Answers to the list fetches. seq orders them: an answer older than one
// already shown is dropped, so a slow request never puts back stale rows.
type (
	edgesMsg struct {
		seq   uint64
		edges []api.Edge
		err   error
	}
	sourcesMsg struct {
		seq     uint64
		sources []api.Source
		err     error
	}
	recordingsMsg struct {
		seq        uint64
		recordings []api.Recording
		err        error
	}
)

// connState is where the event stream stands.
type connState int

const (
	connConnecting connState = iota
	connLive
	connReconnecting
)

// Messages from the event follower (see follow in cmds.go). They reach
// Update wrapped in a streamMsg, which tells it to read the next one.
type (
	// streamMsg carries one message from the follower's channel.
	streamMsg struct{ msg tea.Msg }

	// connMsg says the stream went live (on its "hello") or broke.
	connMsg struct {
		state connState
		// err is why the stream broke (connReconnecting).
		err error
		// retryIn is how long the follower waits before trying again.
		retryIn time.Duration
	}

	// eventMsg is one server-sent event.
	eventMsg struct{ ev api.StreamEvent }
)

// edgeStatusMsg is a decoded edge.status event: an edge's heartbeat or a
// change of its state, applied to the panels as it comes.
type edgeStatusMsg struct {
	status broker.EdgeStatus
	// at is when the dashboard received it (its clock), which is when the
	// control node saw the edge, give or take the stream's latency.
	at time.Time
}

// flushMsg fires the debounced refetch of whatever events asked for.
type flushMsg struct{}

// tickMsg redraws ages and elapsed times; it fetches nothing.
type tickMsg time.Time

// Results of the keyboard's actions.
type (
	streamingSetMsg struct {
		name   string
		on     bool
		source api.Source
		err    error
	}
	sourceCreatedMsg struct {
		name   string
		source api.Source
		err    error
	}
	recordingStartedMsg struct {
		source    string
		recording api.Recording
		err       error
	}
	recordingStoppedMsg struct {
		label     string
		recording api.Recording
		err       error
	}
	copiedMsg struct {
		what string
		url  string
		// sent is false when no terminal was there to send OSC 52 to.
		sent bool
		err  error
	}
)
