package vod

import (
	"errors"
	"net/http"
	"net/netip"
	"strconv"

	"github.com/valyala/fasthttp"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/controld/internal/envelope"
	"github.com/lmx-video/lmx/controld/internal/ingest"
)

// upload hands a segment upload to ingest. Header values are copied out of
// fasthttp's buffers (string of []byte copies), so what ingest keeps
// (metric labels, the live window's edge and run) outlives the request.
func (s *Server) upload(ctx *fasthttp.RequestCtx, source string) {
	req := &ctx.Request
	reply, err := s.ingest.Accept(s.base, ingest.Upload{
		Source:        source,
		Authorization: string(req.Header.Peek("Authorization")),
		Header:        func(name string) string { return string(req.Header.Peek(name)) },
		ContentLength: req.Header.ContentLength(),
		// Read only once ingest has checked the credential and the length.
		Body:    req.Body,
		Arrived: ctx.Time(),
		Addr:    s.clientAddrIngest(ctx),
	})
	if err != nil {
		s.ingestError(ctx, err)
		return
	}
	envelope.IDFast(ctx)
	envelope.WriteFast(ctx, http.StatusCreated, reply)
}

// register answers an edge asking whether a source name is known.
func (s *Server) register(ctx *fasthttp.RequestCtx, source string) {
	src, err := s.ingest.Register(s.base, ingest.Registration{
		Source: source, Edge: string(ctx.Request.Header.Peek(broker.HeaderEdge)),
		Authorization: string(ctx.Request.Header.Peek("Authorization")), Addr: s.clientAddrIngest(ctx),
	})
	if err != nil {
		s.ingestError(ctx, err)
		return
	}
	envelope.WriteFast(ctx, http.StatusOK, api.SourceReply{Envelope: api.Envelope{Success: true, RequestID: envelope.IDFast(ctx)}, Source: src})
}

// clientAddrIngest is where an edge request comes from (for the failed-auth
// limiter), the zero address when auth is off.
func (s *Server) clientAddrIngest(ctx *fasthttp.RequestCtx) netip.Addr {
	if s.ingestGate == nil {
		return netip.Addr{}
	}
	return s.clientAddr(ctx, s.ingestGate)
}

func (s *Server) ingestError(ctx *fasthttp.RequestCtx, err error) {
	var ie *ingest.Error
	if !errors.As(err, &ie) {
		s.internalError(ctx, err)
		return
	}
	if ie.Status >= 500 && ie.Err != nil {
		s.logger.Error("upload failed", "path", string(ctx.Path()), "err", ie.Err)
	}
	if ie.RetryAfter > 0 {
		ctx.Response.Header.Set("Retry-After", strconv.Itoa(int(ie.RetryAfter.Seconds()+0.5)))
	}
	envelope.FailFast(ctx, ie.Status, ie.Message, ie.Detail)
}
