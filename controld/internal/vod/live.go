package vod

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/valyala/fasthttp"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/controld/internal/envelope"
	"github.com/lmx-video/lmx/controld/internal/grant"
	"github.com/lmx-video/lmx/sqlstore"
)

// livePlaylist answers the pre-rendered live playlist of a source (of its
// rendition, for an adaptive-bitrate source's media playlist), or the
// multivariant playlist of an adaptive-bitrate source.
func (s *Server) livePlaylist(ctx *fasthttp.RequestCtx, name, rendition []byte) {
	ls, ok := s.live.GetRendition(string(name), string(rendition))
	var pl []byte
	if ok {
		pl = ls.Playlist()
	}
	if pl == nil && len(rendition) == 0 {
		if rs := s.live.Renditions(string(name)); len(rs) > 0 {
			s.multivariant(ctx, rs)
			return
		}
	}
	if pl == nil {
		if len(rendition) > 0 {
			s.renditionNotAvailable(ctx, name, rendition)
			return
		}
		s.liveNotAvailable(ctx, string(name), true)
		return
	}
	g, ok := s.mayWatch(ctx, grant.SourceScope(ls.SourceID), s.isPublic(ls.SourceID))
	if !ok {
		return
	}
	h := &ctx.Response.Header
	h.SetContentTypeBytes(playlistType)
	h.SetCanonical(hCacheControl, ls.CacheControl())
	// The rendered playlist is immutable: without a grant it is handed
	// over without a copy.
	setPlaylist(ctx, pl, g)
	s.m.LivePlaylists.Inc()
	ls.Viewed(ctx.Time()) // the time fasthttp took when the request came in
	if s.demand != nil {
		s.demand.Touch(ls.SourceID) // someone watches: an on-demand source stays awake
	}
}

// liveSegment answers a segment the live window holds.
func (s *Server) liveSegment(ctx *fasthttp.RequestCtx, name, rendition, file []byte) {
	mf, ok := parseMediaFile(file)
	if !ok {
		envelope.FailFast(ctx, http.StatusNotFound, fmt.Sprintf("no segment %q: live %s", file, mediaFileHelp), "")
		return
	}
	if mf.init != "" {
		s.liveInit(ctx, name, rendition, mf.init)
		return
	}
	seq := mf.seq
	ls, ok := s.live.GetRendition(string(name), string(rendition))
	if !ok {
		if len(rendition) > 0 {
			s.renditionNotAvailable(ctx, name, rendition)
			return
		}
		s.liveNotAvailable(ctx, string(name), false) // a segment request never wakes a source
		return
	}
	if _, ok := s.mayWatch(ctx, grant.SourceScope(ls.SourceID), s.isPublic(ls.SourceID)); !ok {
		return
	}
	seg, ok := ls.Segment(seq)
	if !ok || (seg.Init != "") != mf.fmp4 {
		// Asked for as .ts when it is fMP4, or the other way: not the
		// URI the playlist lists.
		s.m.LiveMisses.Inc()
		s.segmentGone(ctx)
		return
	}
	open := func() (readCloser, error) { return seg.Open() }
	if s.serveSegment(ctx, segmentTypeOf(mf.fmp4), int(seg.Size), open, seg.ReadAt) {
		s.m.LiveSegments.Inc()
		s.m.LiveSegmentBytes.Add(float64(seg.Size))
	} else {
		s.m.LiveMisses.Inc()
	}
}

// isPublic reports whether anyone may watch the source.
func (s *Server) isPublic(sourceID string) bool {
	return s.access != nil && s.access.IsPublic(sourceID)
}

// noSource is the scope id an unknown source is checked against: not a
// source id (those are UUIDs), so no genuine grant is for it.
const noSource = "none"

// liveNotAvailable answers 404 with the reason a source has no live
// playlist, to a caller who may watch it; others learn nothing of it. A
// playlist request for a sleeping on-demand source wakes it instead, once
// the caller is known to be allowed to watch it.
func (s *Server) liveNotAvailable(ctx *fasthttp.RequestCtx, name string, playlist bool) {
	src, err := s.sources.GetSource(s.base, name)
	var g string
	ok := true
	if s.access != nil && (err == nil || errors.Is(err, sqlstore.ErrNotFound)) {
		// An unknown source is refused like one the caller may not watch
		// (no grant is for a source that does not exist), so that only
		// those who may watch learn which sources there are; an API token
		// allowed to watch may list them anyway.
		scope, public := grant.SourceScope(noSource), false
		if err == nil {
			scope, public = grant.SourceScope(src.ID), src.Public
		}
		if g, ok = s.mayWatch(ctx, scope, public); !ok {
			return
		}
	}
	switch {
	case errors.Is(err, sqlstore.ErrNotFound):
		envelope.FailFast(ctx, http.StatusNotFound, fmt.Sprintf("source %q not found", name), "see `lmx source ls`")
	case err != nil:
		s.internalError(ctx, err)
	case !src.Streaming:
		envelope.FailFast(ctx, http.StatusNotFound, fmt.Sprintf("source %q is not streaming", src.Name), "turn it on with `lmx source stream on "+src.Name+"`")
	case src.OnDemand && playlist && s.demand != nil:
		s.wakeAndServe(ctx, src, g)
	case src.OnDemand:
		envelope.FailFast(ctx, http.StatusNotFound, fmt.Sprintf("source %q is on demand and asleep: no live segments", src.Name), "request its live playlist first ("+api.LivePlaylistPath(src.Name)+"), which wakes it")
	default:
		envelope.FailFast(ctx, http.StatusNotFound, fmt.Sprintf("source %q has no live segments yet", src.Name), "waiting for its edge to upload; see `lmx edge ls`")
	}
}

// internalError answers 500 for a fault of the control node itself.
func (s *Server) internalError(ctx *fasthttp.RequestCtx, err error) {
	s.logger.Error("request failed", "method", string(ctx.Method()), "path", string(ctx.Path()), "err", err)
	envelope.FailFast(ctx, http.StatusInternalServerError, "internal error: "+err.Error(), "")
}
