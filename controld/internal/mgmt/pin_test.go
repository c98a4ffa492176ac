package mgmt_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/broker"
)

// TestPinAndExpiry: pin and unpin answer the recording and say so in an
// event; expires_at is end + the source's retain while unpinned and
// stopped, and never for a pinned, active or keep-forever one.
func TestPinAndExpiry(t *testing.T) {
	n := start(t)
	cam := n.create(t, `{"name":"cam","retain_seconds":3600}`)
	if cam.RetainSeconds != 3600 {
		t.Fatalf("retain_seconds %d", cam.RetainSeconds)
	}
	n.events.Take()
	var r api.RecordingReply
	n.ok(t, http.MethodPost, api.Expand(api.PathSourceRecordings, "cam"), `{}`, &r)
	if !r.Recording.ExpiresAt.IsZero() {
		t.Errorf("active recording expires %s", r.Recording.ExpiresAt)
	}
	id := r.Recording.ID
	n.ok(t, http.MethodPost, api.Expand(api.PathRecordingStop, id), "", &r)
	if want := r.Recording.EndTS.Add(time.Hour); !r.Recording.ExpiresAt.Equal(want) {
		t.Errorf("stopped: expires %s, want %s", r.Recording.ExpiresAt, want)
	}
	n.events.Take()

	// A fresh reply each time: fields left out (omitempty) would keep the
	// previous answer's values.
	r = api.RecordingReply{}
	n.ok(t, http.MethodPost, api.Expand(api.PathRecordingPin, id), "", &r)
	if !r.Recording.Pinned || !r.Recording.ExpiresAt.IsZero() {
		t.Errorf("pinned: %+v", r.Recording)
	}
	if ev := n.wantEvents(t, broker.EventRecordingPinned); len(ev) == 1 && (ev[0].Event.Recording != id || ev[0].Event.Source != "cam") {
		t.Errorf("event %+v", ev[0].Event)
	}
	var l api.RecordingsReply
	n.ok(t, http.MethodGet, api.PathRecordings, "", &l)
	if len(l.Recordings) != 1 || !l.Recordings[0].Pinned {
		t.Errorf("list: %+v", l.Recordings)
	}
	r = api.RecordingReply{}
	n.ok(t, http.MethodPost, api.Expand(api.PathRecordingUnpin, id), "", &r)
	if r.Recording.Pinned || r.Recording.ExpiresAt.IsZero() {
		t.Errorf("unpinned: %+v", r.Recording)
	}
	n.wantEvents(t, broker.EventRecordingPinned)
	n.fail(t, http.MethodPost, api.Expand(api.PathRecordingPin, "nope"), "", http.StatusNotFound, "nope")

	n.ok(t, http.MethodPatch, api.Expand(api.PathSource, "cam"), `{"retain_seconds":-1}`, &api.SourceReply{})
	r = api.RecordingReply{}
	n.ok(t, http.MethodGet, api.Expand(api.PathRecording, id), "", &r)
	if !r.Recording.ExpiresAt.IsZero() {
		t.Errorf("kept forever, yet expires %s", r.Recording.ExpiresAt)
	}
}
