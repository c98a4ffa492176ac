package edged

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// source returns the state of the named source, creating it on first push.
func (e *Edge) source(name string) *sourceState {
	e.mu.Lock()
	s, ok := e.sources[name]
	if !ok {
		s = &sourceState{name: name}
		e.sources[name] = s
	}
	e.mu.Unlock()
	if !ok {
		e.logger.Info("new source", "source", name)
		e.applyDesired()
		e.nudge()
	}
	return s
}

// admit asks the control node whether it takes this source's name: once,
// and again while the name is missing from the edge's desired state (an
// operator may have removed it), at most every recheckEvery. It answers a
// status code and message when the push must be refused; the control
// node's own message says why (not registered, or removed, and what brings
// it back) and is logged when it changes. While the control node cannot be
// reached the push is taken: the edge keeps buffering and asks again on
// the next push.
func (e *Edge) admit(s *sourceState) (int, string) {
	now := time.Now()
	e.mu.Lock()
	_, desired := e.desired.Sources[s.name]
	registered, rejectedUntil, refusal, refusedStatus := s.registered, s.rejectedUntil, s.refusal, s.refusedStatus
	recheck := registered && !desired && !now.Before(s.recheckAt)
	e.mu.Unlock()
	if registered && !recheck {
		return 0, ""
	}
	if !registered && now.Before(rejectedUntil) {
		return refusedStatus, refusal
	}
	// Not r.Context(): ffmpeg half-closes its side once the body is sent,
	// which cancels the request context while it still waits for our answer.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	known, said, conflict, err := e.up.register(ctx, s.name)
	if err != nil {
		e.logger.Debug("could not register source with the control node yet", "source", s.name, "err", err)
		return 0, ""
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if !known {
		msg := notRegistered(s.name, said)
		if msg != s.refusal {
			e.logger.Warn("push refused: the control node does not take this source", "source", s.name, "reason", msg)
		}
		s.registered, s.refusal, s.refusedStatus = false, msg, http.StatusNotFound
		if conflict {
			s.refusedStatus = http.StatusConflict
		}
		s.rejectedUntil = now.Add(recheckEvery)
		return s.refusedStatus, msg
	}
	if s.refusal != "" {
		e.logger.Info("push taken again: the control node knows this source", "source", s.name)
	}
	s.registered, s.refusal = true, ""
	s.recheckAt = now.Add(recheckEvery)
	return 0, ""
}

// recheckEvery is how long a control node's answer on a source name holds.
const recheckEvery = 5 * time.Second

// notRegistered is the refusal of a push: what the control node said, or,
// from one that says nothing, that the name is unknown.
func notRegistered(name, said string) string {
	if said != "" {
		return "control node: " + said
	}
	return fmt.Sprintf("source %q is not registered on the control node, which does not register new sources by itself (--no-auto-register): create it with `lmx source add %s`", name, name)
}

// refusalMessage is what a control node's error answer says, message and
// detail ("" when it is not an error envelope).
func refusalMessage(body []byte) string {
	var env struct {
		Error *struct {
			Message string `json:"message"`
			Detail  string `json:"detail"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &env) != nil || env.Error == nil || env.Error.Message == "" {
		return ""
	}
	if env.Error.Detail != "" {
		return env.Error.Message + " (" + env.Error.Detail + ")"
	}
	return env.Error.Message
}
