package cli

import (
	"errors"
	"fmt"

	"github.com/lmx-video/lmx/api"
)

// hintError replaces an error's message with one that says what to do next,
// while errors.Is and errors.As still see the original.
type hintError struct {
	msg string
	err error
}

func (e *hintError) Error() string { return e.msg }
func (e *hintError) Unwrap() error { return e.err }

// sourceError explains an API error about the source ref: a 404 becomes
// advice to look at the list; anything else keeps its own message, which
// already says what went wrong (or, for ErrUnreachable, how to reach the
// server).
func sourceError(ref string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, api.ErrNotFound) {
		return &hintError{msg: fmt.Sprintf("source %q not found: see lmx source ls", ref), err: err}
	}
	return err
}

// edgesError explains an error from listing edges. A 404 there means the
// server has no /v1/edge, which only lmx's control node adds.
func edgesError(err error) error {
	if errors.Is(err, api.ErrNotFound) {
		return &hintError{msg: "the server has no edge list (GET /v1/edge): is --server an lmx control node?", err: err}
	}
	return err
}
