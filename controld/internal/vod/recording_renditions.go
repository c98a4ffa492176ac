package vod

import (
	"bytes"
	"fmt"
	"net/http"

	"github.com/valyala/fasthttp"

	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/controld/internal/envelope"
	"github.com/lmx-video/lmx/controld/internal/grant"
	"github.com/lmx-video/lmx/controld/internal/recording"
)

// splitRenditionFile splits "{id or source}/{rendition}/{file}", none of
// the three empty or nested: a path under one rendition of a recording, or
// of a live source, of several.
func splitRenditionFile(rest []byte) (id, rendition, file []byte, ok bool) {
	i := bytes.IndexByte(rest, '/')
	if i <= 0 {
		return nil, nil, nil, false
	}
	rendition, file, ok = splitFile(rest[i+1:])
	return rest[:i], rendition, file, ok
}

// recordingRendition answers under one rendition of a recording: its
// media playlist, its segments and init segments. Its playlist lists
// segments as {seq}.ts, which resolve here; a segment of another
// rendition is a 404.
func (s *Server) recordingRendition(ctx *fasthttp.RequestCtx, id string, rendition, file []byte) {
	if !broker.ValidRendition(string(rendition)) {
		envelope.FailFast(ctx, http.StatusNotFound, fmt.Sprintf("no rendition %q: a rendition is named by 1 to 32 letters, digits, '_' or '-'", rendition),
			"a recording's renditions are listed in its playlist "+id+"/"+string(playlistName))
		return
	}
	if bytes.Equal(file, playlistName) {
		s.renditionPlaylist(ctx, id, string(rendition))
		return
	}
	mf, ok := parseMediaFile(file)
	if !ok {
		envelope.FailFast(ctx, http.StatusNotFound, fmt.Sprintf("no segment %q: recorded %s", file, mediaFileHelp), "")
		return
	}
	if _, ok := s.mayWatch(ctx, grant.RecordingScope(id), false); !ok {
		return
	}
	var body *recording.Body
	var err error
	if mf.init != "" {
		body, err = s.recs.RenditionInitSegment(s.base, id, string(rendition), mf.init)
	} else {
		body, err = s.recs.RenditionSegment(s.base, id, string(rendition), mf.seq)
	}
	if err != nil {
		s.recordingError(ctx, id, err)
		return
	}
	if mf.init == "" && body.FMP4 != mf.fmp4 {
		body.Close()
		s.recordingError(ctx, id, fmt.Errorf("%w: segment %d is not %s", recording.ErrNotFound, mf.seq, file))
		return
	}
	ctype := segmentTypeOf(mf.fmp4)
	if mf.init != "" {
		ctype = initType
	}
	opened := false
	open := func() (readCloser, error) { opened = true; return body, nil }
	if s.serveSegment(ctx, ctype, body.Size, open, body.ReadAt) && mf.init == "" {
		s.m.SegmentsServed.WithLabelValues("recording").Inc()
		s.m.BytesServed.WithLabelValues("recording").Add(float64(body.Size))
	}
	if !opened {
		body.Close()
	}
}

// renditionPlaylist answers one rendition's media playlist, as
// recordingPlaylist answers a recording's.
func (s *Server) renditionPlaylist(ctx *fasthttp.RequestCtx, id, rendition string) {
	g, ok := s.mayWatch(ctx, grant.RecordingScope(id), false)
	if !ok {
		return
	}
	pl, err := s.recs.RenditionPlaylist(s.base, id, rendition)
	if err != nil {
		s.recordingError(ctx, id, err)
		return
	}
	s.writeRecordingPlaylist(ctx, pl, g)
}
