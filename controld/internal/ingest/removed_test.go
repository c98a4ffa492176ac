package ingest_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/lmx-video/lmx/controld/internal/ingest"
	"github.com/lmx-video/lmx/sqlstore"
)

// TestRemovedSourceRefused: a push of a name removed while pushed gets a
// 404 that says it was removed and how to bring it back, at registration
// and at upload alike (and the upload counts as an unknown source).
func TestRemovedSourceRefused(t *testing.T) {
	h := newHarness(t)
	h.binder.err = fmt.Errorf("%w (%w): source %q was removed 5s ago by ops (at 2025-03-04T05:06:07Z) while it was still pushed, and is not registered again by a push: `lmx source add cam` brings it back",
		sqlstore.ErrNotFound, sqlstore.ErrRemoved, "cam")
	_, err := h.svc.Register(t.Context(), ingest.Registration{Source: "cam", Edge: "edge-1"})
	ie := refusal(t, err, http.StatusNotFound, `source "cam" was removed 5s ago by ops`, "lmx source add cam")
	if ie.Detail == "" {
		t.Error("no detail on what to do")
	}
	_, err = h.svc.Accept(t.Context(), upload([]byte("segment"), nil))
	refusal(t, err, http.StatusNotFound, "was removed", "lmx source add cam")
	h.wantDropped(t, "unknown_source")
}
