package vod

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/controld/internal/envelope"
	"github.com/lmx-video/lmx/controld/internal/grant"
	"github.com/lmx-video/lmx/controld/internal/live"
	"github.com/lmx-video/lmx/hls"
)

// Adaptive bitrate: a source pushed as several renditions answers its live
// playlist URL with a multivariant playlist naming each rendition's media
// playlist, {rendition}/vid.m3u8, relative to it; those list the
// rendition's segments, relative again ({source}/{rendition}/{seq}.ts).
// A grant in the request reaches every URI, as for a media playlist.

// multivariant answers an adaptive-bitrate source's multivariant playlist.
func (s *Server) multivariant(ctx *fasthttp.RequestCtx, rs []*live.Stream) {
	src := rs[0]
	g, ok := s.mayWatch(ctx, grant.SourceScope(src.SourceID), s.isPublic(src.SourceID))
	if !ok {
		return
	}
	var listed []*live.Stream
	for _, ls := range rs {
		if ls.Playlist() != nil {
			listed = append(listed, ls)
		}
	}
	if len(listed) == 0 {
		envelope.FailFast(ctx, http.StatusNotFound, fmt.Sprintf("source %q has no live segments yet", src.Name), "waiting for its edge to upload; see `lmx edge ls`")
		return
	}
	h := &ctx.Response.Header
	h.SetContentTypeBytes(playlistType)
	// The bandwidths follow what arrives: no longer than a segment.
	h.SetCanonical(hCacheControl, listed[0].CacheControl())
	setPlaylist(ctx, renderMultivariant(listed), g)
	s.m.LivePlaylists.Inc()
	listed[0].Viewed(ctx.Time())
	if s.demand != nil {
		s.demand.Touch(src.SourceID)
	}
}

// renderMultivariant is the multivariant playlist of a source's rendition
// windows: each one's bandwidth (what ffmpeg said, else measured),
// resolution, codecs and frame rate when known.
func renderMultivariant(rs []*live.Stream) []byte {
	vs := make([]hls.Variant, len(rs))
	for i, ls := range rs {
		v := ls.Variant()
		vs[i] = hls.Variant{URI: ls.Rendition + "/" + api.PlaylistName, Bandwidth: int(max(v.Bandwidth, 1)),
			AverageBandwidth: int(v.AverageBandwidth), Codecs: v.Codecs, FrameRate: v.FrameRate}
		if w, h, ok := strings.Cut(v.Resolution, "x"); ok {
			vs[i].Width, _ = strconv.Atoi(w)
			vs[i].Height, _ = strconv.Atoi(h)
		}
	}
	b, err := hls.RenderMultivariant(vs, true)
	if err != nil {
		// Every value was checked on its way in (ingest) or measured;
		// a rendition name holds no line break.
		return []byte("#EXTM3U\n")
	}
	return b
}

// renditionNotAvailable answers a request for a rendition the source has
// no window of, to a caller who may watch the source.
func (s *Server) renditionNotAvailable(ctx *fasthttp.RequestCtx, name, rendition []byte) {
	rs := s.live.Renditions(string(name))
	if len(rs) == 0 {
		s.liveNotAvailable(ctx, string(name), false)
		return
	}
	if _, ok := s.mayWatch(ctx, grant.SourceScope(rs[0].SourceID), s.isPublic(rs[0].SourceID)); !ok {
		return
	}
	names := make([]string, len(rs))
	for i, ls := range rs {
		names[i] = ls.Rendition
	}
	envelope.FailFast(ctx, http.StatusNotFound, fmt.Sprintf("source %q has no rendition %q", name, rendition), fmt.Sprintf("its renditions: %v, listed in %s", names, api.LivePlaylistPath(string(name))))
}
