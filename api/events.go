package api

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// StreamEvent is one server-sent event from GET /v1/events.
type StreamEvent struct {
	// Kind is the event name: "hello", "edge.status", or a broker event kind
	// such as "source.streaming" or "recording.started".
	Kind string
	// Data is the event's JSON payload (a broker.Event, or a broker.EdgeStatus
	// for "edge.status").
	Data json.RawMessage
}

// EventPayload is the JSON of the control node's events (broker.Event).
type EventPayload struct {
	// Kind is what happened.
	Kind string `json:"kind"`
	// Edge names the edge involved, if any.
	Edge string `json:"edge,omitempty"`
	// Source names the source involved, if any.
	Source string `json:"source,omitempty"`
	// Recording is the recording involved, if any.
	Recording string `json:"recording,omitempty"`
	// Detail says more.
	Detail string `json:"detail,omitempty"`
	// Actor names the API token whose request made it happen; empty for
	// what the system did by itself.
	Actor string `json:"actor,omitempty"`
}

// FollowEvents reads the control node's event stream, calling fn for each
// event, until ctx ends or the stream breaks (it returns the reason).
func (c *Client) FollowEvents(ctx context.Context, fn func(StreamEvent)) error {
	u := c.url(PathEvents)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/event-stream")
	c.authorize(req)
	// No overall timeout: the stream is meant to stay open.
	hc := &http.Client{Transport: c.http.Transport}
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return c.unreachable(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		se := statusError(resp, raw, time.Now())
		if se.Message == "" {
			se.Message = "event stream: " + resp.Status
		} else {
			se.Message = "event stream: " + se.Message
		}
		return se
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	var ev StreamEvent
	var data strings.Builder
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if ev.Kind != "" || data.Len() > 0 {
				if ev.Kind == "" {
					ev.Kind = "message"
				}
				ev.Data = json.RawMessage(data.String())
				fn(ev)
			}
			ev, data = StreamEvent{}, strings.Builder{}
		case strings.HasPrefix(line, ":"):
			// comment / keep-alive
		case strings.HasPrefix(line, "event:"):
			ev.Kind = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
		case strings.HasPrefix(line, "data:"):
			if data.Len() > 0 {
				data.WriteByte('\n')
			}
			data.WriteString(strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " "))
		}
	}
	if err := sc.Err(); err != nil && ctx.Err() == nil {
		return fmt.Errorf("event stream from %s broke: %w", c.base, err)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("event stream from %s ended", c.base)
}
