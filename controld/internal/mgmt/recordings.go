package mgmt

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/controld/internal/auth"
	"github.com/lmx-video/lmx/controld/internal/envelope"
	"github.com/lmx-video/lmx/controld/internal/grant"
	"github.com/lmx-video/lmx/controld/internal/recording"
	"github.com/lmx-video/lmx/sqlstore"
)

func (a *API) startRecording(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	var in api.NewRecording
	if r.ContentLength != 0 && !decodeJSON(w, r, &in) {
		return
	}
	ctx := r.Context()
	src, err := a.d.Store.GetSource(ctx, r.PathValue("id"))
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	now := a.now()
	start := now
	if in.StartTimeEpoch != 0 {
		start = time.Unix(in.StartTimeEpoch, 0)
		if in.StartTimeEpoch < 0 || start.After(now.Add(time.Minute)) {
			envelope.Fail(w, r, http.StatusBadRequest, fmt.Sprintf("start_time_epoch %d is in the future", in.StartTimeEpoch), "recordings start now or in the past (what the edge still buffers)")
			return
		}
	}
	if len(in.Alias) > 128 || len(in.Description) > 1024 {
		envelope.Fail(w, r, http.StatusBadRequest, "alias (128) or description (1024) too long", "")
		return
	}
	rec, err := a.d.Store.CreateRecording(ctx, sqlstore.Recording{SourceID: src.ID, Alias: in.Alias, Description: in.Description, StartAt: start})
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	a.d.Edges.PublishDesired(ctx, src.Feeds()...)
	a.logger.Info("recording started", "recording", rec.ID, "source", src.Name, "since", start.UTC().Format(time.RFC3339))
	a.emit(broker.EventRecordingStarted, broker.Event{Source: src.Name, Edge: src.Edge, Recording: rec.ID}, p)
	envelope.Write(w, http.StatusOK, api.RecordingReply{Envelope: envelope.OK(w, r), Recording: a.recording(ctx, rec, src.Name, false, p)})
}

func (a *API) stopRecording(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	ctx := r.Context()
	rec, err := a.d.Store.StopRecording(ctx, r.PathValue("id"), a.now())
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	src, err := a.d.Store.GetSource(ctx, rec.SourceID)
	if err == nil {
		a.d.Edges.PublishDesired(ctx, src.Feeds()...)
	}
	a.logger.Info("recording stopped", "recording", rec.ID, "source", src.Name)
	a.emit(broker.EventRecordingStopped, broker.Event{Source: src.Name, Edge: src.Edge, Recording: rec.ID}, p)
	envelope.Write(w, http.StatusOK, api.RecordingReply{Envelope: envelope.OK(w, r), Recording: a.recording(ctx, rec, src.Name, false, p)})
}

func (a *API) listRecordings(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	a.list(w, r, sqlstore.RecordingFilter{}, p)
}

func (a *API) listSourceRecordings(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	src, err := a.d.Store.GetSource(r.Context(), r.PathValue("id"))
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	a.list(w, r, sqlstore.RecordingFilter{SourceID: src.ID}, p)
}

func (a *API) list(w http.ResponseWriter, r *http.Request, f sqlstore.RecordingFilter, p auth.Principal) {
	if v := r.URL.Query().Get("active"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			envelope.Fail(w, r, http.StatusBadRequest, fmt.Sprintf("active %q: want true or false", v), "")
			return
		}
		f.ActiveOnly = b
	}
	ctx := r.Context()
	recs, err := a.d.Store.ListRecordings(ctx, f)
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	names := map[string]string{}
	out := make([]api.Recording, 0, len(recs))
	for _, rec := range recs {
		name, ok := names[rec.SourceID]
		if !ok {
			if src, err := a.d.Store.GetSource(ctx, rec.SourceID); err == nil {
				name = src.Name
			}
			names[rec.SourceID] = name
		}
		out = append(out, a.recording(ctx, rec, name, false, p))
	}
	envelope.Write(w, http.StatusOK, api.RecordingsReply{Envelope: envelope.OK(w, r), Recordings: out})
}

func (a *API) getRecording(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	ctx := r.Context()
	rec, err := a.d.Store.GetRecording(ctx, r.PathValue("id"))
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	name := ""
	if src, err := a.d.Store.GetSource(ctx, rec.SourceID); err == nil {
		name = src.Name
	}
	envelope.Write(w, http.StatusOK, api.RecordingReply{Envelope: envelope.OK(w, r), Recording: a.recording(ctx, rec, name, true, p)})
}

func (a *API) deleteRecording(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	ctx := r.Context()
	rec, err := a.d.Store.GetRecording(ctx, r.PathValue("id"))
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	force, _ := strconv.ParseBool(r.URL.Query().Get("force"))
	if rec.Active && !force {
		envelope.Fail(w, r, http.StatusConflict, fmt.Sprintf("recording %s is still recording", rec.ID), "stop it first with `lmx rec stop "+rec.ID+"` or pass --force")
		return
	}
	if rec.Active {
		if rec, err = a.d.Store.StopRecording(ctx, rec.ID, a.now()); err != nil {
			a.storeError(w, r, err)
			return
		}
	}
	orphans, err := a.d.Store.DeleteRecording(ctx, rec.ID)
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	deleted := a.d.Objects.RemoveObjects(ctx, orphans)
	if src, err := a.d.Store.GetSource(ctx, rec.SourceID); err == nil {
		a.d.Edges.PublishDesired(ctx, src.Feeds()...)
	}
	a.emit(broker.EventRecordingRemoved, broker.Event{Recording: rec.ID, Detail: fmt.Sprintf("%d objects deleted", deleted)}, p)
	envelope.Write(w, http.StatusOK, api.DeletedReply{Envelope: envelope.OK(w, r), DeletedObjects: deleted})
}

// recording renders a recording with its statistics (and gaps when asked).
func (a *API) recording(ctx context.Context, rec sqlstore.Recording, sourceName string, withGaps bool, p auth.Principal) api.Recording {
	out := api.Recording{
		ID: rec.ID, Source: rec.SourceID, SourceName: sourceName, Alias: rec.Alias, Description: rec.Description,
		StartTS: rec.StartAt, EndTS: rec.EndAt, Active: api.ActiveOff, CreatedAt: rec.CreatedAt, UpdatedAt: rec.UpdatedAt,
		PlaybackURL: a.cfg.PublicURL + api.RecordingPlaylistPath(rec.ID),
	}
	if rec.Active {
		out.Active = api.ActiveOn
	}
	out.Pinned, out.Continuous = rec.Pinned, rec.Continuous
	if src, err := a.d.Store.GetSource(ctx, rec.SourceID); err == nil {
		out.ExpiresAt = rec.ExpiresAt(src, a.cfg.Defaults.Retain)
	}
	if p.TokenID != "" {
		if u, _, err := a.signedURL(p, grant.RecordingScope(rec.ID), api.RecordingPlaylistPath(rec.ID), 0); err == nil {
			out.PlaybackURL = u
		}
	}
	segs, err := a.d.Store.RecordingSegments(ctx, rec.ID)
	if err != nil {
		a.logger.Warn("recording segments", "recording", rec.ID, "err", err)
		return out
	}
	out.Renditions = recording.Renditions(segs)
	for _, seg := range segs {
		out.Segments++
		out.Bytes += seg.Bytes
		end := seg.StartAt.Add(time.Duration(seg.Duration * float64(time.Second)))
		if out.FirstSegmentAt.IsZero() || seg.StartAt.Before(out.FirstSegmentAt) {
			out.FirstSegmentAt = seg.StartAt
		}
		if end.After(out.LastSegmentEnd) {
			out.LastSegmentEnd = end
		}
	}
	// The media is what one playlist plays: every rendition holds the
	// same stretch of time, so the duration is the first's; gaps are each
	// rendition's own.
	tracks := recording.Tracks(segs)
	for ti, t := range tracks {
		for i, seg := range t.Segments {
			if ti == 0 {
				out.DurationSeconds += seg.Duration
			}
			if i == 0 || !withGaps {
				continue
			}
			if from, gap := recording.GapAfter(t.Segments[i-1], seg); gap {
				g := api.Gap{From: from, To: seg.StartAt, Seconds: seg.StartAt.Sub(from).Seconds()}
				if len(tracks) > 1 {
					g.Rendition = t.Rendition
				}
				out.Gaps = append(out.Gaps, g)
			}
		}
	}
	return out
}
