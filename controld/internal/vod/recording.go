package vod

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/valyala/fasthttp"

	"github.com/lmx-video/lmx/controld/internal/envelope"
	"github.com/lmx-video/lmx/controld/internal/grant"
	"github.com/lmx-video/lmx/controld/internal/recording"
)

// recordingPlaylist answers a recording: EVENT while it records (a viewer
// can follow it), VOD with EXT-X-ENDLIST once stopped; a recording of
// several renditions with the multivariant playlist naming theirs.
func (s *Server) recordingPlaylist(ctx *fasthttp.RequestCtx, id string) {
	g, ok := s.mayWatch(ctx, grant.RecordingScope(id), false)
	if !ok {
		return
	}
	pl, err := s.recs.Playlist(s.base, id)
	if err != nil {
		s.recordingError(ctx, id, err)
		return
	}
	s.writeRecordingPlaylist(ctx, pl, g)
}

// writeRecordingPlaylist answers a recording's playlist (or a
// rendition's, or the multivariant one naming them) with grant g in its
// URIs: a player that opened it with a grant carries it to the
// renditions' playlists and to every segment.
func (s *Server) writeRecordingPlaylist(ctx *fasthttp.RequestCtx, pl recording.Playlist, g string) {
	h := &ctx.Response.Header
	h.SetContentTypeBytes(playlistType)
	if pl.Active {
		h.SetCanonical(hCacheControl, vRecActive)
	} else {
		h.SetCanonical(hCacheControl, vRecDone)
	}
	setPlaylist(ctx, pl.Body, g)
	s.m.PlaylistsServed.WithLabelValues("recording").Inc()
}

// recordingSegment answers one recorded segment.
func (s *Server) recordingSegment(ctx *fasthttp.RequestCtx, id string, file []byte) {
	mf, ok := parseMediaFile(file)
	if !ok {
		envelope.FailFast(ctx, http.StatusNotFound, fmt.Sprintf("no segment %q: recorded %s", file, mediaFileHelp), "")
		return
	}
	if mf.init != "" {
		s.recordingInit(ctx, id, mf.init)
		return
	}
	if _, ok := s.mayWatch(ctx, grant.RecordingScope(id), false); !ok {
		return
	}
	body, err := s.recs.Segment(s.base, id, mf.seq)
	if err != nil {
		s.recordingError(ctx, id, err)
		return
	}
	opened := false
	open := func() (readCloser, error) { opened = true; return body, nil }
	if body.FMP4 != mf.fmp4 {
		body.Close()
		s.recordingError(ctx, id, fmt.Errorf("%w: segment %d is not %s", recording.ErrNotFound, mf.seq, file))
		return
	}
	if s.serveSegment(ctx, segmentTypeOf(mf.fmp4), body.Size, open, body.ReadAt) {
		s.m.SegmentsServed.WithLabelValues("recording").Inc()
		s.m.BytesServed.WithLabelValues("recording").Add(float64(body.Size))
	}
	if !opened {
		body.Close()
	}
}

func (s *Server) recordingError(ctx *fasthttp.RequestCtx, id string, err error) {
	switch {
	case errors.Is(err, recording.ErrNotFound):
		envelope.FailFast(ctx, http.StatusNotFound, err.Error(), "see `lmx rec ls`, or reload the playlist")
	case errors.Is(err, recording.ErrUnavailable):
		envelope.FailFast(ctx, http.StatusServiceUnavailable, err.Error(), "try again shortly")
	default:
		s.internalError(ctx, fmt.Errorf("recording %s: %w", id, err))
	}
}
