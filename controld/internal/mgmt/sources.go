package mgmt

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/controld/internal/envelope"
	"github.com/lmx-video/lmx/sqlstore"
)

func (a *API) createSource(w http.ResponseWriter, r *http.Request) {
	var in api.NewSource
	if !decodeJSON(w, r, &in) {
		return
	}
	in.Name = strings.TrimSpace(in.Name)
	if err := broker.ValidateName(in.Name); err != nil {
		envelope.Fail(w, r, http.StatusBadRequest, "name: "+err.Error(), "")
		return
	}
	if in.SegmentLen < 0 || in.SegmentLen > 60 {
		envelope.Fail(w, r, http.StatusBadRequest, fmt.Sprintf("segment_len %d: must be between 0 and 60 seconds", in.SegmentLen), "")
		return
	}
	src, err := a.d.Store.CreateSource(r.Context(), sqlstore.Source{Name: in.Name, Description: in.Description, SegmentLen: in.SegmentLen})
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	a.d.Events.Emit(broker.EventSourceAdded, broker.Event{Source: src.Name})
	envelope.Write(w, http.StatusOK, api.SourceReply{Envelope: envelope.OK(w, r), Source: a.Source(r.Context(), src)})
}

func (a *API) listSources(w http.ResponseWriter, r *http.Request) {
	srcs, err := a.d.Store.ListSources(r.Context(), r.URL.Query().Get("source_name"))
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	out := make([]api.Source, 0, len(srcs))
	for _, src := range srcs {
		out = append(out, a.Source(r.Context(), src))
	}
	envelope.Write(w, http.StatusOK, api.SourcesReply{Envelope: envelope.OK(w, r), Sources: out})
}

func (a *API) getSource(w http.ResponseWriter, r *http.Request) {
	src, err := a.d.Store.GetSource(r.Context(), r.PathValue("id"))
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	envelope.Write(w, http.StatusOK, api.SourceReply{Envelope: envelope.OK(w, r), Source: a.Source(r.Context(), src)})
}

func (a *API) deleteSource(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	src, err := a.d.Store.GetSource(ctx, r.PathValue("id"))
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	if err := a.d.Store.DeleteSource(ctx, src.ID); err != nil {
		a.storeError(w, r, err)
		return
	}
	a.d.Live.Close(src.ID)
	a.d.Edges.PublishDesired(ctx, src.Edge)
	a.d.Events.Emit(broker.EventSourceRemoved, broker.Event{Source: src.Name, Edge: src.Edge})
	envelope.Write(w, http.StatusOK, envelope.OK(w, r))
}

func (a *API) setStreaming(w http.ResponseWriter, r *http.Request) {
	raw := r.URL.Query().Get("new_state")
	on, err := strconv.ParseBool(raw)
	if err != nil {
		envelope.Fail(w, r, http.StatusBadRequest, fmt.Sprintf("new_state %q: want true or false", raw), "")
		return
	}
	ctx := r.Context()
	src, err := a.d.Store.GetSource(ctx, r.PathValue("id"))
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	if src, err = a.d.Store.SetStreaming(ctx, src.ID, on); err != nil {
		a.storeError(w, r, err)
		return
	}
	state := "off"
	if on {
		state = "on"
		a.d.Live.Allow(src.ID)
	} else {
		a.d.Live.Close(src.ID)
	}
	a.d.Edges.PublishDesired(ctx, src.Edge)
	a.logger.Info("streaming "+state, "source", src.Name, "edge", src.Edge)
	a.d.Events.Emit(broker.EventStreamingChanged, broker.Event{Source: src.Name, Edge: src.Edge, Detail: state})
	envelope.Write(w, http.StatusOK, api.SourceReply{Envelope: envelope.OK(w, r), Source: a.Source(ctx, src)})
}

func (a *API) listEdges(w http.ResponseWriter, r *http.Request) {
	edges, err := a.d.Store.ListEdges(r.Context())
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	out := make([]api.Edge, 0, len(edges))
	for _, e := range edges {
		ae := api.Edge{Name: e.Name, Online: e.Online, Version: e.Version, IngestAddr: e.IngestAddr, StartedAt: e.StartedAt, FirstSeen: e.FirstSeen, LastSeen: e.LastSeen, Sources: []api.EdgeSource{}}
		if st, _, ok := a.d.Edges.Status(e.Name); ok {
			for _, src := range st.Sources {
				ae.Sources = append(ae.Sources, api.EdgeSource{
					Name: src.Name, Streaming: src.Streaming, LastSegmentAt: src.LastSegmentAt, BitrateBPS: src.BitrateBPS,
					BufferedSeconds: src.BufferedSeconds, BufferedBytes: src.BufferedBytes, Uploaded: src.Uploaded, Dropped: src.Dropped,
				})
			}
		}
		out = append(out, ae)
	}
	envelope.Write(w, http.StatusOK, api.EdgesReply{Envelope: envelope.OK(w, r), Edges: out})
}

// Source renders a source with what its edge and its live window say of it.
func (a *API) Source(ctx context.Context, src sqlstore.Source) api.Source {
	out := api.Source{
		ID: src.ID, Name: src.Name, SegmentLength: src.SegmentLen, Description: src.Description,
		Streaming: api.StreamingOff, RRTarget: src.Edge, Edge: src.Edge,
		CreatedAt: src.CreatedAt, UpdatedAt: src.UpdatedAt,
		PlaybackURL: a.cfg.PublicURL + api.LivePlaylistPath(src.Name),
	}
	if src.Streaming {
		out.Streaming = api.StreamingOn
	}
	if st, seen, ok := a.d.Edges.Status(src.Edge); ok {
		out.EdgeOnline = st.Online
		out.LocalTime = seen.UTC()
		for _, es := range st.Sources {
			if es.Name == src.Name {
				out.EdgeStreaming = st.Online && es.Streaming
				out.BitrateBPS = es.BitrateBPS
			}
		}
	}
	if ls, ok := a.d.Live.Get(src.ID); ok {
		st := ls.Stats(a.now())
		out.LastSegmentAt = st.LastSegmentAt.UTC()
		out.LiveSegments = st.Listed
		out.PlaylistRequestsPerMin = st.PlaylistRequestsPerMin
	}
	if recs, err := a.d.Store.ActiveRecordings(ctx, src.ID); err == nil {
		out.Recording = len(recs) > 0
	}
	return out
}
