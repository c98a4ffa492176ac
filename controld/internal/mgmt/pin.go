package mgmt

import (
	"net/http"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/controld/internal/auth"
	"github.com/lmx-video/lmx/controld/internal/envelope"
)

func (a *API) pinRecording(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	a.setPinned(w, r, p, true)
}

func (a *API) unpinRecording(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	a.setPinned(w, r, p, false)
}

// setPinned pins or unpins a recording: retention never deletes a pinned
// one. Pinning what is pinned changes nothing; the event says so.
func (a *API) setPinned(w http.ResponseWriter, r *http.Request, p auth.Principal, pinned bool) {
	ctx := r.Context()
	before, err := a.d.Store.GetRecording(ctx, r.PathValue("id"))
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	rec, err := a.d.Store.SetRecordingPinned(ctx, before.ID, pinned)
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	name, edge := "", ""
	if src, err := a.d.Store.GetSource(ctx, rec.SourceID); err == nil {
		name, edge = src.Name, src.Edge
	}
	detail := "unpinned"
	if pinned {
		detail = "pinned: retention never deletes it"
	}
	if before.Pinned == pinned {
		detail = "already " + detail
	}
	a.logger.Info("recording "+detail, "recording", rec.ID, "source", name, "by", p.Name)
	a.emit(broker.EventRecordingPinned, broker.Event{Source: name, Edge: edge, Recording: rec.ID, Detail: detail}, p)
	envelope.Write(w, http.StatusOK, api.RecordingReply{Envelope: envelope.OK(w, r), Recording: a.recording(ctx, rec, name, false, p)})
}
