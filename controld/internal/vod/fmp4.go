package vod

import (
	"bytes"
	"io"
	"strconv"

	"github.com/valyala/fasthttp"

	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/controld/internal/grant"
	"github.com/lmx-video/lmx/controld/internal/live"
)

// Content types of fMP4 answers: an init segment is an MP4 file (RFC 8216
// 3.3), a media segment an ISO BMFF segment (RFC 8216 3.3, and what
// hls.js and Safari take for .m4s).
var (
	initType  = []byte("video/mp4")
	fmp4Type  = []byte("video/iso.segment")
	suffixM4S = []byte(".m4s")
	suffixMP4 = []byte(live.InitURISuffix)
	prefixIni = []byte(live.InitURIPrefix)
	suffixIni = []byte(broker.InitPathSuffix)
)

// mediaFile is what a playback path's last element names.
type mediaFile struct {
	// seq is a segment's sequence number; fmp4 says whether it was asked
	// for as .m4s (else .ts).
	seq  uint64
	fmp4 bool
	// init, when not "", is the id of an init segment asked for as
	// init-{id}.mp4 (then seq and fmp4 mean nothing).
	init string
}

// parseMediaFile reads "{seq}.ts", "{seq}.m4s" or "init-{id}.mp4".
func parseMediaFile(file []byte) (mediaFile, bool) {
	if id, ok := bytes.CutPrefix(file, prefixIni); ok {
		if id, ok := bytes.CutSuffix(id, suffixMP4); ok && broker.ValidInitID(string(id)) {
			return mediaFile{init: string(id)}, true
		}
		return mediaFile{}, false
	}
	num, fmp4 := bytes.CutSuffix(file, suffixM4S)
	if !fmp4 {
		var ok bool
		if num, ok = bytes.CutSuffix(file, suffixTS); !ok {
			return mediaFile{}, false
		}
	}
	seq, err := strconv.ParseUint(string(num), 10, 64)
	if err != nil || len(num) == 0 || num[0] == '+' {
		return mediaFile{}, false
	}
	return mediaFile{seq: seq, fmp4: fmp4}, true
}

// segmentTypeOf is the content type of a media segment.
func segmentTypeOf(fmp4 bool) []byte {
	if fmp4 {
		return fmp4Type
	}
	return segmentType
}

// mediaFileHelp says how playback files are named, for a 404.
const mediaFileHelp = "segments are named {sequence}.ts (MPEG-TS) or {sequence}.m4s (fMP4), init segments init-{id}.mp4, as the playlist lists them"

// liveInit answers an init segment a source's live segments follow.
func (s *Server) liveInit(ctx *fasthttp.RequestCtx, name, rendition []byte, id string) {
	ls, ok := s.live.GetRendition(string(name), string(rendition))
	if !ok {
		if len(rendition) > 0 {
			s.renditionNotAvailable(ctx, name, rendition)
			return
		}
		s.liveNotAvailable(ctx, string(name), false)
		return
	}
	if _, ok := s.mayWatch(ctx, grant.SourceScope(ls.SourceID), s.isPublic(ls.SourceID)); !ok {
		return
	}
	in, ok := ls.Init(id)
	if !ok {
		s.m.LiveMisses.Inc()
		s.segmentGone(ctx)
		return
	}
	open := func() (readCloser, error) { return io.NopCloser(bytes.NewReader(in.Data)), nil }
	readAt := func(p []byte, off int64) (int, error) { return bytes.NewReader(in.Data).ReadAt(p, off) }
	s.serveSegment(ctx, initType, len(in.Data), open, readAt)
}

// recordingInit answers an init segment a recording's segments follow.
func (s *Server) recordingInit(ctx *fasthttp.RequestCtx, id, initID string) {
	if _, ok := s.mayWatch(ctx, grant.RecordingScope(id), false); !ok {
		return
	}
	body, err := s.recs.InitSegment(s.base, id, initID)
	if err != nil {
		s.recordingError(ctx, id, err)
		return
	}
	opened := false
	open := func() (readCloser, error) { opened = true; return body, nil }
	s.serveSegment(ctx, initType, body.Size, open, body.ReadAt)
	if !opened {
		body.Close()
	}
}

// uploadInit hands an init segment upload to ingest.
func (s *Server) uploadInit(ctx *fasthttp.RequestCtx, source string) {
	handUpload(s, ctx, source, s.ingest.AcceptInit)
}
