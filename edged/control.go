package edged

import (
	"context"
	"time"

	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/broker/client"
)

// onDesired takes the control node's retained desired state and converges on it.
func (e *Edge) onDesired(m client.Message) {
	var d broker.Desired
	if err := broker.Decode(m.Payload, &d); err != nil {
		e.logger.Warn("ignoring desired state", "err", err)
		return
	}
	e.mu.Lock()
	if d.Generation < e.desired.Generation {
		e.mu.Unlock()
		return
	}
	e.desired = d
	e.mu.Unlock()
	e.applyDesired()
	e.nudge()
}

// applyDesired starts and stops streamers and recorders to match the
// desired state.
func (e *Edge) applyDesired() {
	e.mu.Lock()
	var stopped []*streamer
	for name, ds := range e.desired.Sources {
		// Known or not yet pushed, the ring learns the recordings now, so
		// segments that arrive later are marked as they come in.
		e.ring.setRecordings(name, recWindows(ds))
	}
	for name, s := range e.sources {
		ds, ok := e.desired.Sources[name]
		if !ok {
			e.ring.setRecordings(name, nil)
		}
		want := ds.Stream
		switch {
		case want && s.stream == nil:
			e.startStream(s)
		case !want && s.stream != nil:
			stopped = append(stopped, e.stopStream(s))
		}
		if len(ds.Recordings) > 0 {
			e.startRecorder(s)
		}
	}
	e.applyPullsLocked()
	e.mu.Unlock()
	for _, st := range stopped {
		<-st.done
	}
}

// onCommand answers a request sent with a Response Topic.
func (e *Edge) onCommand(m client.Message) {
	var c broker.Command
	reply := broker.CommandReply{V: broker.Version}
	if err := broker.Decode(m.Payload, &c); err != nil {
		reply.Error = err.Error()
	} else {
		switch c.Op {
		case "ping":
			st := e.Status(true)
			reply.OK, reply.Status = true, &st
		default:
			reply.Error = "unknown op " + c.Op
		}
	}
	if m.ResponseTopic == "" {
		return
	}
	// Not from this callback, which runs on the MQTT client's receiving side
	// and must not wait for the broker's ack. A request that arrives while
	// the edge stops goes unanswered; the asker times out.
	e.mu.Lock()
	defer e.mu.Unlock()
	runCtx := e.runCtx
	e.goLocked(func() {
		ctx, cancel := context.WithTimeout(runCtx, 5*time.Second)
		defer cancel()
		_ = e.mqtt.Publish(ctx, client.Message{Topic: m.ResponseTopic, Payload: broker.Encode(reply), QoS: broker.CmdQoS, CorrelationData: m.CorrelationData})
	})
}
