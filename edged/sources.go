package edged

import (
	"context"
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

// admit asks the control node, once, whether it takes this source's name.
// It answers a status code and message when the push must be refused. While
// the control node cannot be reached the push is taken: the edge keeps
// buffering and asks again on the next push.
func (e *Edge) admit(s *sourceState) (int, string) {
	e.mu.Lock()
	registered, rejectedUntil := s.registered, s.rejectedUntil
	e.mu.Unlock()
	if registered {
		return 0, ""
	}
	now := time.Now()
	if now.Before(rejectedUntil) {
		return http.StatusNotFound, notRegistered(s.name)
	}
	// Not r.Context(): ffmpeg half-closes its side once the body is sent,
	// which cancels the request context while it still waits for our answer.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	known, err := e.up.register(ctx, s.name)
	if err != nil {
		e.logger.Debug("could not register source with the control node yet", "source", s.name, "err", err)
		return 0, ""
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if !known {
		s.rejectedUntil = now.Add(5 * time.Second)
		return http.StatusNotFound, notRegistered(s.name)
	}
	s.registered = true
	return 0, ""
}

func notRegistered(name string) string {
	return fmt.Sprintf("source %q is not registered on the control node, which does not register new sources by itself (--no-auto-register): create it with `lmx source add %s`", name, name)
}
