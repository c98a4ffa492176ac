package mgmt

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/controld/internal/auth"
	"github.com/lmx-video/lmx/controld/internal/envelope"
	"github.com/lmx-video/lmx/controld/internal/grant"
	"github.com/lmx-video/lmx/internal/redact"
	"github.com/lmx-video/lmx/sqlstore"
)

func (a *API) createSource(w http.ResponseWriter, r *http.Request, p auth.Principal) {
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
	want := sqlstore.Source{Name: in.Name, Description: in.Description, SegmentLen: in.SegmentLen, Edge: strings.TrimSpace(in.Edge)}
	var onDemand *bool
	if in.OnDemand {
		onDemand = &in.OnDemand
	}
	var idle, chunk *int
	var retain *int64
	var record *string
	if in.IdleSeconds != 0 {
		idle = &in.IdleSeconds
	}
	if in.RecordChunkSeconds != 0 {
		chunk = &in.RecordChunkSeconds
	}
	if in.RetainSeconds != 0 {
		retain = &in.RetainSeconds
	}
	if in.Record != "" {
		record = &in.Record
	}
	change, fe := cameraChange(&in.PullURL, onDemand, idle, record, chunk, retain)
	if fe != nil {
		failField(w, r, fe)
		return
	}
	if len(in.Feeds) > 0 && want.Edge != "" {
		envelope.Fail(w, r, http.StatusBadRequest, "edge and feeds both given", "name the edges in feeds: the first is the source's edge")
		return
	}
	var feedList *[]string
	if len(in.Feeds) > 0 {
		feedList = &in.Feeds
	}
	var prefer *string
	if in.Prefer != "" {
		prefer = &in.Prefer
	}
	cur := want
	change.Apply(&cur)
	if fe := a.feedsChange(r.Context(), &change, cur, feedList, prefer); fe != nil {
		failField(w, r, fe)
		return
	}
	change.Apply(&want)
	if want.Edge != "" {
		if err := broker.ValidateName(want.Edge); err != nil {
			envelope.Fail(w, r, http.StatusBadRequest, "edge: "+err.Error(), "")
			return
		}
		if fe := a.knownEdge(r.Context(), want.Edge); fe != nil {
			failField(w, r, fe)
			return
		}
	} else if want.PullURL != "" {
		if want.Edge, fe = a.pullEdge(r.Context()); fe != nil {
			failField(w, r, fe)
			return
		}
	}
	// A camera added to be pulled is there to be watched: it streams from
	// the start (an on-demand one only while someone watches).
	want.Streaming = want.PullURL != ""
	src, err := a.d.Store.CreateSource(r.Context(), want)
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	if src.Streaming {
		a.d.Live.Allow(src.ID)
	}
	if err := a.d.Store.ForgetRemovedSource(r.Context(), src.Name); err != nil {
		a.logger.Warn("forget removed source", "source", src.Name, "err", err)
	}
	if src.Edge != "" {
		a.d.Edges.PublishDesired(r.Context(), src.Feeds()...)
	}
	if src.RecordMode == sqlstore.RecordAlways {
		a.pokeContinuous()
	}
	detail := ""
	if src.PullURL != "" {
		detail = "pull " + redact.URL(src.PullURL)
	}
	a.emit(broker.EventSourceAdded, broker.Event{Source: src.Name, Edge: src.Edge, Detail: detail}, p)
	envelope.Write(w, http.StatusOK, api.SourceReply{Envelope: envelope.OK(w, r), Source: a.SourceFor(r.Context(), src, p)})
}

func (a *API) listSources(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	srcs, err := a.d.Store.ListSources(r.Context(), r.URL.Query().Get("source_name"))
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	out := make([]api.Source, 0, len(srcs))
	for _, src := range srcs {
		out = append(out, a.SourceFor(r.Context(), src, p))
	}
	envelope.Write(w, http.StatusOK, api.SourcesReply{Envelope: envelope.OK(w, r), Sources: out})
}

func (a *API) getSource(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	src, err := a.d.Store.GetSource(r.Context(), r.PathValue("id"))
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	envelope.Write(w, http.StatusOK, api.SourceReply{Envelope: envelope.OK(w, r), Source: a.SourceFor(r.Context(), src, p)})
}

func (a *API) setStreaming(w http.ResponseWriter, r *http.Request, p auth.Principal) {
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
		a.forgetAwake(src.ID)
	}
	a.d.Edges.PublishDesired(ctx, src.Feeds()...)
	a.logger.Info("streaming "+state, "source", src.Name, "edge", src.Edge)
	a.emit(broker.EventStreamingChanged, broker.Event{Source: src.Name, Edge: src.Edge, Detail: state}, p)
	envelope.Write(w, http.StatusOK, api.SourceReply{Envelope: envelope.OK(w, r), Source: a.SourceFor(ctx, src, p)})
}

func (a *API) listEdges(w http.ResponseWriter, r *http.Request, _ auth.Principal) {
	edges, err := a.d.Store.ListEdges(r.Context())
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	out := make([]api.Edge, 0, len(edges))
	seen := map[string]bool{}
	for _, e := range edges {
		seen[e.Name] = true
		out = append(out, a.edgeView(r.Context(), e.Name))
	}
	// Edges added but not connected yet are listed too (their credential "pending").
	for _, n := range a.addedEdges(seen) {
		out = append(out, a.edgeView(r.Context(), n))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	envelope.Write(w, http.StatusOK, api.EdgesReply{Envelope: envelope.OK(w, r), Edges: out})
}

// SourceFor renders a source for p: its playback URL carries a grant for
// p (unless the source is public or auth is off), so it plays as it is.
func (a *API) SourceFor(ctx context.Context, src sqlstore.Source, p auth.Principal) api.Source {
	out := a.Source(ctx, src)
	if !src.Public && p.TokenID != "" {
		if u, _, err := a.signedURL(p, grant.SourceScope(src.ID), api.LivePlaylistPath(src.Name), 0); err == nil {
			out.PlaybackURL = u
		}
	}
	return out
}

// Source renders a source with what its edge and its live window say of it.
func (a *API) Source(ctx context.Context, src sqlstore.Source) api.Source {
	out := api.Source{
		ID: src.ID, Name: src.Name, SegmentLength: src.SegmentLen, Description: src.Description,
		Streaming: api.StreamingOff, RRTarget: src.Edge, Edge: src.Edge,
		CreatedAt: src.CreatedAt, UpdatedAt: src.UpdatedAt,
		PlaybackURL: a.cfg.PublicURL + api.LivePlaylistPath(src.Name),
		Public:      src.Public,
	}
	if src.Streaming {
		out.Streaming = api.StreamingOn
	}
	// A multi-feed source's status is its active feed's.
	statusEdge := a.renderFeeds(&out, src)
	if st, seen, ok := a.d.Edges.Status(statusEdge); ok {
		out.EdgeOnline = st.Online
		out.LocalTime = seen.UTC()
		for _, es := range st.Sources {
			if es.Name == src.Name {
				out.EdgeStreaming = st.Online && es.Streaming
				out.BitrateBPS = es.BitrateBPS
			}
		}
	}
	var es *broker.SourceStatus
	if st, _, ok := a.d.Edges.Status(statusEdge); ok {
		for i := range st.Sources {
			if st.Sources[i].Name == src.Name {
				es = &st.Sources[i]
			}
		}
	}
	a.renderCamera(&out, src, es)
	for _, ls := range a.d.Live.Renditions(src.ID) {
		v, st := ls.Variant(), ls.Stats(a.now())
		out.Renditions = append(out.Renditions, api.Rendition{Name: ls.Rendition, BandwidthBPS: v.Bandwidth, AverageBPS: v.AverageBandwidth,
			Resolution: v.Resolution, Codecs: v.Codecs, LiveSegments: st.Listed})
		// An adaptive-bitrate source's live state is its renditions'.
		out.LastSegmentAt = later(out.LastSegmentAt, st.LastSegmentAt.UTC())
		out.LiveSegments = max(out.LiveSegments, st.Listed)
		out.PlaylistRequestsPerMin += st.PlaylistRequestsPerMin
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

func (a *API) updateSource(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	var in api.SourceUpdate
	if !decodeJSON(w, r, &in) {
		return
	}
	change, fe := cameraChange(in.PullURL, in.OnDemand, in.IdleSeconds, in.Record, in.RecordChunkSeconds, in.RetainSeconds)
	if fe != nil {
		failField(w, r, fe)
		return
	}
	change.Public, change.Edge, change.Description = in.Public, in.Edge, in.Description
	if change.Empty() && in.Feeds == nil && in.Prefer == nil {
		envelope.Fail(w, r, http.StatusBadRequest, "nothing to change",
			"send public, edge, feeds, prefer, description, pull_url, on_demand, idle_seconds, record, record_chunk_seconds or retain_seconds")
		return
	}
	ctx := r.Context()
	src, err := a.d.Store.GetSource(ctx, r.PathValue("id"))
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	if in.Edge != nil {
		if err := broker.ValidateName(*in.Edge); err != nil {
			envelope.Fail(w, r, http.StatusBadRequest, "edge: "+err.Error(), "")
			return
		}
		if in.Feeds != nil {
			envelope.Fail(w, r, http.StatusBadRequest, "edge and feeds both given", "name the edges in feeds: the first is the source's edge")
			return
		}
	}
	cur := src
	change.Apply(&cur)
	if fe := a.feedsChange(ctx, &change, cur, in.Feeds, in.Prefer); fe != nil {
		failField(w, r, fe)
		return
	}
	oldFeeds := src.Feeds()
	if in.Description != nil && len(*in.Description) > 1024 {
		envelope.Fail(w, r, http.StatusBadRequest, "description is over 1024 bytes", "")
		return
	}
	oldEdge := src.Edge
	if change.PullURL != nil && *change.PullURL != "" && src.Edge == "" && in.Edge == nil {
		edge, fe := a.pullEdge(ctx)
		if fe != nil {
			failField(w, r, fe)
			return
		}
		change.Edge = &edge
	}
	src, err = a.d.Store.UpdateSource(ctx, src.ID, change)
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	if a.d.Access != nil {
		a.d.Access.SetPublic(src.ID, src.Public)
	}
	if change.OnDemand != nil {
		a.onDemandChanged(src)
	}
	for _, f := range oldFeeds {
		if !src.FedBy(f) {
			// A feed let go stops, from its desired state.
			a.d.Edges.PublishDesired(ctx, f)
		}
	}
	if src.Edge != oldEdge {
		a.emit(broker.EventSourceEdgeAssigned, broker.Event{Source: src.Name, Edge: src.Edge, Detail: "moved from " + oldEdge}, p)
	}
	// Desired states carry the pull URL, on-demand and recording settings.
	a.d.Edges.PublishDesired(ctx, src.Feeds()...)
	if change.RecordMode != nil || change.RecordChunk != nil {
		// Continuous recording starts, stops or re-cuts its chunk now,
		// and publishes the desired state again when it does.
		a.pokeContinuous()
	}
	detail := changeDetail(change)
	a.logger.Info("source changed", "source", src.Name, "by", p.Name, "change", detail)
	a.emit(broker.EventSourceChanged, broker.Event{Source: src.Name, Edge: src.Edge, Detail: detail}, p)
	envelope.Write(w, http.StatusOK, api.SourceReply{Envelope: envelope.OK(w, r), Source: a.SourceFor(ctx, src, p)})
}

// pokeContinuous tells continuous recording a source's record settings changed.
func (a *API) pokeContinuous() {
	if a.d.Continuous != nil {
		a.d.Continuous.Poke()
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
