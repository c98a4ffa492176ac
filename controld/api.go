package controld

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/sqlstore"
)

// maxJSONBody bounds a management request body.
const maxJSONBody = 64 << 10

// apiRoutes is the management API (LiveMix-compatible) plus health and metrics.
func (s *Server) apiRoutes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/source", s.handleCreateSource)
	mux.HandleFunc("GET /v1/source", s.handleListSources)
	mux.HandleFunc("GET /v1/source/{id}", s.handleGetSource)
	mux.HandleFunc("DELETE /v1/source/{id}", s.handleDeleteSource)
	mux.HandleFunc("PUT /v1/source/{id}/streaming", s.handleSetStreaming)
	mux.HandleFunc("GET /v1/edge", s.handleListEdges)
	s.recordingRoutes(mux)
	mux.HandleFunc("GET /v1/events", s.handleEvents)
	mux.HandleFunc("GET /healthz", s.handleHealth)
	mux.HandleFunc("GET /readyz", s.handleReady)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fail(w, r, http.StatusNotFound, fmt.Sprintf("no such endpoint: %s %s", r.Method, r.URL.Path), "see the HTTP API in the README")
	})
	return mux
}

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	select {
	case <-s.ready:
	default:
		fail(w, r, http.StatusServiceUnavailable, "starting", "")
		return
	}
	if _, err := s.store.ListEdges(r.Context()); err != nil {
		fail(w, r, http.StatusServiceUnavailable, "state store not answering: "+err.Error(), "")
		return
	}
	reply(w, r, http.StatusOK, "status", "ready")
}

// decodeJSON reads a bounded JSON body into v, answering the client's mistakes.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxJSONBody))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		fail(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is over %d bytes", maxJSONBody), "")
		return false
	case err != nil:
		fail(w, r, http.StatusBadRequest, "reading request body: "+err.Error(), "")
		return false
	}
	if err := json.Unmarshal(body, v); err != nil {
		fail(w, r, http.StatusBadRequest, "request body is not valid JSON: "+err.Error(), "")
		return false
	}
	return true
}

// storeError answers a store error: 400, 404 and 409 are the client's; anything else is ours.
func (s *Server) storeError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, sqlstore.ErrNotFound):
		fail(w, r, http.StatusNotFound, err.Error(), "")
	case errors.Is(err, sqlstore.ErrConflict):
		fail(w, r, http.StatusConflict, err.Error(), "")
	case errors.Is(err, sqlstore.ErrInvalid):
		fail(w, r, http.StatusBadRequest, err.Error(), "")
	default:
		s.internalError(w, r, err)
	}
}

func (s *Server) handleCreateSource(w http.ResponseWriter, r *http.Request) {
	var in api.NewSource
	if !decodeJSON(w, r, &in) {
		return
	}
	in.Name = strings.TrimSpace(in.Name)
	if err := broker.ValidateName(in.Name); err != nil {
		fail(w, r, http.StatusBadRequest, "name: "+err.Error(), "")
		return
	}
	if in.SegmentLen < 0 || in.SegmentLen > 60 {
		fail(w, r, http.StatusBadRequest, fmt.Sprintf("segment_len %d: must be between 0 and 60 seconds", in.SegmentLen), "")
		return
	}
	src, err := s.store.CreateSource(r.Context(), sqlstore.Source{Name: in.Name, Description: in.Description, SegmentLen: in.SegmentLen})
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	s.event(broker.EventSourceAdded, broker.Event{Source: src.Name})
	reply(w, r, http.StatusOK, "source", s.apiSource(r.Context(), src))
}

func (s *Server) handleListSources(w http.ResponseWriter, r *http.Request) {
	srcs, err := s.store.ListSources(r.Context(), r.URL.Query().Get("source_name"))
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	out := make([]api.Source, 0, len(srcs))
	for _, src := range srcs {
		out = append(out, s.apiSource(r.Context(), src))
	}
	reply(w, r, http.StatusOK, "sources", out)
}

func (s *Server) handleGetSource(w http.ResponseWriter, r *http.Request) {
	src, err := s.store.GetSource(r.Context(), r.PathValue("id"))
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	reply(w, r, http.StatusOK, "source", s.apiSource(r.Context(), src))
}

func (s *Server) handleDeleteSource(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	src, err := s.store.GetSource(ctx, r.PathValue("id"))
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	if err := s.store.DeleteSource(ctx, src.ID); err != nil {
		s.storeError(w, r, err)
		return
	}
	s.live.close(src.ID)
	s.publishDesired(ctx, src.Edge)
	s.event(broker.EventSourceRemoved, broker.Event{Source: src.Name, Edge: src.Edge})
	reply(w, r, http.StatusOK, "", nil)
}

func (s *Server) handleSetStreaming(w http.ResponseWriter, r *http.Request) {
	raw := r.URL.Query().Get("new_state")
	on, err := strconv.ParseBool(raw)
	if err != nil {
		fail(w, r, http.StatusBadRequest, fmt.Sprintf("new_state %q: want true or false", raw), "")
		return
	}
	src, err := s.setStreaming(r.Context(), r.PathValue("id"), on)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	reply(w, r, http.StatusOK, "source", s.apiSource(r.Context(), src))
}

// setStreaming records the wish and tells the source's edge.
func (s *Server) setStreaming(ctx context.Context, idOrName string, on bool) (sqlstore.Source, error) {
	src, err := s.store.GetSource(ctx, idOrName)
	if err != nil {
		return src, err
	}
	if src, err = s.store.SetStreaming(ctx, src.ID, on); err != nil {
		return src, err
	}
	if on {
		s.live.allow(src.ID)
	} else {
		s.live.close(src.ID)
	}
	s.publishDesired(ctx, src.Edge)
	state := "off"
	if on {
		state = "on"
	}
	s.logger.Info("streaming "+state, "source", src.Name, "edge", src.Edge)
	s.event(broker.EventStreamingChanged, broker.Event{Source: src.Name, Edge: src.Edge, Detail: state})
	return src, nil
}

func (s *Server) handleListEdges(w http.ResponseWriter, r *http.Request) {
	edges, err := s.store.ListEdges(r.Context())
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	out := make([]api.Edge, 0, len(edges))
	for _, e := range edges {
		ae := api.Edge{Name: e.Name, Online: e.Online, Version: e.Version, IngestAddr: e.IngestAddr, StartedAt: e.StartedAt, FirstSeen: e.FirstSeen, LastSeen: e.LastSeen, Sources: []api.EdgeSource{}}
		if st, _, ok := s.edgeStatus(e.Name); ok {
			for _, src := range st.Sources {
				ae.Sources = append(ae.Sources, api.EdgeSource{
					Name: src.Name, Streaming: src.Streaming, LastSegmentAt: src.LastSegmentAt, BitrateBPS: src.BitrateBPS,
					BufferedSeconds: src.BufferedSeconds, BufferedBytes: src.BufferedBytes, Uploaded: src.Uploaded, Dropped: src.Dropped,
				})
			}
		}
		out = append(out, ae)
	}
	reply(w, r, http.StatusOK, "edges", out)
}

// apiSource renders a source with what the edge and the live window say of it.
func (s *Server) apiSource(ctx context.Context, src sqlstore.Source) api.Source {
	out := api.Source{
		ID: src.ID, Name: src.Name, SegmentLength: src.SegmentLen, Description: src.Description,
		Streaming: api.StreamingOff, RRTarget: src.Edge, Edge: src.Edge,
		CreatedAt: src.CreatedAt, UpdatedAt: src.UpdatedAt,
		PlaybackURL: s.cfg.PublicURL + "/v1/vod/live/" + src.Name + "/vid.m3u8",
	}
	if src.Streaming {
		out.Streaming = api.StreamingOn
	}
	if st, seen, ok := s.edgeStatus(src.Edge); ok {
		out.EdgeOnline = st.Online
		out.LocalTime = seen.UTC()
		for _, es := range st.Sources {
			if es.Name == src.Name {
				out.EdgeStreaming = st.Online && es.Streaming
				out.BitrateBPS = es.BitrateBPS
			}
		}
	}
	if ls := s.live.get(src.ID); ls != nil {
		ls.mu.Lock()
		out.LastSegmentAt = ls.lastAt.UTC()
		ls.mu.Unlock()
		out.LiveSegments = ls.window.Len()
		out.PlaylistRequestsPerMin = ls.views.perMinute(time.Now())
	}
	if recs, err := s.store.ActiveRecordings(ctx, src.ID); err == nil {
		out.Recording = len(recs) > 0
	}
	return out
}
