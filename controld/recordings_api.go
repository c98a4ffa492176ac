package controld

import (
	"context"
	"fmt"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/sqlstore"
)

// gapAfter reports whether media is missing between a segment and the next
// of a recording, and where the missing stretch begins. Segments from the
// same edge run are consecutive exactly when the edge's sequence numbers
// (kept in the object key) are; that catches one lost segment however short,
// and never mistakes the jitter of a segment's wall-clock stamp for a gap.
// Consecutive segments still have a gap when the edge flagged a break (the
// source went offline, ffmpeg restarted, a file was unreadable) and the
// stamps show media missing. Keys of another form fall back to time alone.
func gapAfter(prev, next sqlstore.RecordedSegment) (time.Time, bool) {
	end := prev.StartAt.Add(time.Duration(prev.Duration * float64(time.Second)))
	missing := next.StartAt.Sub(end)
	prun, pseq, ok1 := keyRun(prev.ObjectKey)
	nrun, nseq, ok2 := keyRun(next.ObjectKey)
	switch {
	case ok1 && ok2 && (prun != nrun || nseq != pseq+1):
		return end, true
	case ok1 && ok2 && next.Discontinuity:
		return end, missing > time.Duration(prev.Duration*float64(time.Second)/2)
	case ok1 && ok2:
		return end, false
	}
	return end, missing > 1500*time.Millisecond
}

// keyRun splits an object key {source}/{edge}-{boot}-{seq}.ts into the edge
// run ({edge}-{boot}) and the edge's sequence number.
func keyRun(key string) (string, uint64, bool) {
	name, ok := strings.CutSuffix(path.Base(key), ".ts")
	i := strings.LastIndexByte(name, '-')
	if !ok || i < 0 {
		return "", 0, false
	}
	seq, err := strconv.ParseUint(name[i+1:], 10, 64)
	return name[:i], seq, err == nil
}

func (s *Server) recordingRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /v1/source/{id}/recording", s.handleStartRecording)
	mux.HandleFunc("GET /v1/source/{id}/recording", s.handleListSourceRecordings)
	mux.HandleFunc("GET /v1/recording", s.handleListRecordings)
	mux.HandleFunc("GET /v1/recording/{id}", s.handleGetRecording)
	mux.HandleFunc("DELETE /v1/recording/{id}", s.handleDeleteRecording)
	mux.HandleFunc("POST /v1/recording/{id}/stop", s.handleStopRecording)
}

func (s *Server) handleStartRecording(w http.ResponseWriter, r *http.Request) {
	var in api.NewRecording
	if r.ContentLength != 0 && !decodeJSON(w, r, &in) {
		return
	}
	ctx := r.Context()
	src, err := s.store.GetSource(ctx, r.PathValue("id"))
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	now := time.Now()
	start := now
	if in.StartTimeEpoch != 0 {
		start = time.Unix(in.StartTimeEpoch, 0)
		if in.StartTimeEpoch < 0 || start.After(now.Add(time.Minute)) {
			fail(w, r, http.StatusBadRequest, fmt.Sprintf("start_time_epoch %d is in the future", in.StartTimeEpoch), "recordings start now or in the past (what the edge still buffers)")
			return
		}
	}
	if len(in.Alias) > 128 || len(in.Description) > 1024 {
		fail(w, r, http.StatusBadRequest, "alias (128) or description (1024) too long", "")
		return
	}
	rec, err := s.store.CreateRecording(ctx, sqlstore.Recording{SourceID: src.ID, Alias: in.Alias, Description: in.Description, StartAt: start})
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	s.publishDesired(ctx, src.Edge)
	s.logger.Info("recording started", "recording", rec.ID, "source", src.Name, "since", start.UTC().Format(time.RFC3339))
	s.event(broker.EventRecordingStarted, broker.Event{Source: src.Name, Edge: src.Edge, Recording: rec.ID})
	reply(w, r, http.StatusOK, "recording", s.apiRecording(ctx, rec, src.Name, false))
}

func (s *Server) handleStopRecording(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	rec, err := s.store.StopRecording(ctx, r.PathValue("id"), time.Now())
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	src, err := s.store.GetSource(ctx, rec.SourceID)
	if err == nil {
		s.publishDesired(ctx, src.Edge)
	}
	s.logger.Info("recording stopped", "recording", rec.ID, "source", src.Name)
	s.event(broker.EventRecordingStopped, broker.Event{Source: src.Name, Edge: src.Edge, Recording: rec.ID})
	reply(w, r, http.StatusOK, "recording", s.apiRecording(ctx, rec, src.Name, false))
}

func (s *Server) handleListRecordings(w http.ResponseWriter, r *http.Request) {
	s.listRecordings(w, r, sqlstore.RecordingFilter{})
}

func (s *Server) handleListSourceRecordings(w http.ResponseWriter, r *http.Request) {
	src, err := s.store.GetSource(r.Context(), r.PathValue("id"))
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	s.listRecordings(w, r, sqlstore.RecordingFilter{SourceID: src.ID})
}

func (s *Server) listRecordings(w http.ResponseWriter, r *http.Request, f sqlstore.RecordingFilter) {
	if v := r.URL.Query().Get("active"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			fail(w, r, http.StatusBadRequest, fmt.Sprintf("active %q: want true or false", v), "")
			return
		}
		f.ActiveOnly = b
	}
	ctx := r.Context()
	recs, err := s.store.ListRecordings(ctx, f)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	names := map[string]string{}
	out := make([]api.Recording, 0, len(recs))
	for _, rec := range recs {
		name, ok := names[rec.SourceID]
		if !ok {
			if src, err := s.store.GetSource(ctx, rec.SourceID); err == nil {
				name = src.Name
			}
			names[rec.SourceID] = name
		}
		out = append(out, s.apiRecording(ctx, rec, name, false))
	}
	reply(w, r, http.StatusOK, "recordings", out)
}

func (s *Server) handleGetRecording(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	rec, err := s.store.GetRecording(ctx, r.PathValue("id"))
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	name := ""
	if src, err := s.store.GetSource(ctx, rec.SourceID); err == nil {
		name = src.Name
	}
	reply(w, r, http.StatusOK, "recording", s.apiRecording(ctx, rec, name, true))
}

func (s *Server) handleDeleteRecording(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	rec, err := s.store.GetRecording(ctx, r.PathValue("id"))
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	force, _ := strconv.ParseBool(r.URL.Query().Get("force"))
	if rec.Active && !force {
		fail(w, r, http.StatusConflict, fmt.Sprintf("recording %s is still recording", rec.ID), "stop it first with `lmx rec stop "+rec.ID+"` or pass --force")
		return
	}
	if rec.Active {
		if rec, err = s.store.StopRecording(ctx, rec.ID, time.Now()); err != nil {
			s.storeError(w, r, err)
			return
		}
	}
	orphans, err := s.store.DeleteRecording(ctx, rec.ID)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	var failed int
	for _, key := range orphans {
		if err := s.rec.remove(ctx, key); err != nil {
			failed++
			s.logger.Warn("could not delete recorded object", "key", key, "err", err)
		}
	}
	if src, err := s.store.GetSource(ctx, rec.SourceID); err == nil {
		s.publishDesired(ctx, src.Edge)
	}
	s.event(broker.EventRecordingRemoved, broker.Event{Recording: rec.ID, Detail: fmt.Sprintf("%d objects deleted", len(orphans)-failed)})
	reply(w, r, http.StatusOK, "deleted_objects", len(orphans)-failed)
}

// apiRecording renders a recording with its statistics (and gaps when asked).
func (s *Server) apiRecording(ctx context.Context, rec sqlstore.Recording, sourceName string, withGaps bool) api.Recording {
	out := api.Recording{
		ID: rec.ID, Source: rec.SourceID, SourceName: sourceName, Alias: rec.Alias, Description: rec.Description,
		StartTS: rec.StartAt, EndTS: rec.EndAt, Active: api.ActiveOff, CreatedAt: rec.CreatedAt, UpdatedAt: rec.UpdatedAt,
		PlaybackURL: s.cfg.PublicURL + "/v1/vod/recording/" + rec.ID + "/vid.m3u8",
	}
	if rec.Active {
		out.Active = api.ActiveOn
	}
	segs, err := s.store.RecordingSegments(ctx, rec.ID)
	if err != nil {
		s.logger.Warn("recording segments", "recording", rec.ID, "err", err)
		return out
	}
	for i, seg := range segs {
		out.Segments++
		out.DurationSeconds += seg.Duration
		out.Bytes += seg.Bytes
		end := seg.StartAt.Add(time.Duration(seg.Duration * float64(time.Second)))
		if i == 0 {
			out.FirstSegmentAt = seg.StartAt
		} else if from, gap := gapAfter(segs[i-1], seg); withGaps && gap {
			out.Gaps = append(out.Gaps, api.Gap{From: from, To: seg.StartAt, Seconds: seg.StartAt.Sub(from).Seconds()})
		}
		if end.After(out.LastSegmentEnd) {
			out.LastSegmentEnd = end
		}
	}
	return out
}
