package vod

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strconv"
	"sync"

	"github.com/valyala/fasthttp"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/controld/internal/envelope"
	"github.com/lmx-video/lmx/controld/internal/ingest"
)

// bodyPool holds upload buffers: a segment is read into one, handed to
// ingest, and the buffer serves the next upload.
var bodyPool = sync.Pool{New: func() any { return new([]byte) }}

// upload hands a segment upload to ingest. Header values are copied out of
// fasthttp's buffers (string of []byte copies), so what ingest keeps
// (metric labels, the live window's edge and run) outlives the request.
func (s *Server) upload(ctx *fasthttp.RequestCtx, source string) {
	handUpload(s, ctx, source, s.ingest.Accept)
}

// handUpload turns a request into an ingest.Upload for accept (a segment
// or an init segment) and its answer back.
func handUpload[R any](s *Server, ctx *fasthttp.RequestCtx, source string, accept func(context.Context, ingest.Upload) (R, error)) {
	req := &ctx.Request
	var over, read bool
	buf := bodyPool.Get().(*[]byte)
	defer bodyPool.Put(buf)
	body := func() []byte { read = true; return s.readBody(req, &over, buf) }
	reply, err := accept(s.base, ingest.Upload{
		Source:        source,
		Authorization: string(req.Header.Peek("Authorization")),
		Header:        func(name string) string { return string(req.Header.Peek(name)) },
		ContentLength: req.Header.ContentLength(),
		// Read only once ingest has checked the credential and the length.
		Body:    body,
		Arrived: ctx.Time(),
		Addr:    s.clientAddrIngest(ctx),
	})
	if over {
		// Whatever ingest made of the body it did not get.
		s.bodyTooLarge(ctx)
		return
	}
	if err != nil {
		s.drainRefused(ctx, err, read)
		s.ingestError(ctx, err)
		return
	}
	envelope.IDFast(ctx)
	envelope.WriteFast(ctx, http.StatusCreated, reply)
}

// readBody reads an upload's body, at most maxBody bytes of it. The server
// streams request bodies (so that a credential is checked before any body
// is read), and fasthttp then hands over larger bodies too instead of
// refusing them: the bound is kept here. Over it, readBody reads nothing
// more, sets *over and returns nil. A body cut short (the client went away)
// is returned as far as it came, never with anything else in its place.
//
// The bytes are read into *buf, which is reused for the next upload once
// ingest is done with them (ingest copies what it keeps, as it always did
// with fasthttp's own pooled body buffer).
func (s *Server) readBody(req *fasthttp.Request, over *bool, buf *[]byte) []byte {
	r := req.BodyStream()
	if r == nil { // a request built in memory
		b := req.Body()
		if len(b) > s.maxBody {
			*over = true
			return nil
		}
		return b
	}
	n := req.Header.ContentLength()
	if n > s.maxBody {
		*over = true
		return nil
	}
	if n >= 0 {
		if cap(*buf) < n {
			*buf = make([]byte, n)
		}
		b := (*buf)[:n]
		got, _ := io.ReadFull(r, b)
		return b[:got]
	}
	// Chunked: as much as the bound allows, and one byte to tell.
	b, _ := io.ReadAll(io.LimitReader(r, int64(s.maxBody)+1))
	if len(b) > s.maxBody {
		*over = true
		return nil
	}
	return b
}

func (s *Server) bodyTooLarge(ctx *fasthttp.RequestCtx) {
	envelope.FailFast(ctx, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is over %d bytes", s.maxBody), "raise --max-segment-bytes or shorten segments")
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

// drainRefused reads the body of an upload refused before it was read, when
// it came from an authenticated edge and is within the listener's bound: the
// edge reads the answer on a connection that stays usable. An upload refused
// for its credential (401, 403, 429) is not read: the connection closes.
func (s *Server) drainRefused(ctx *fasthttp.RequestCtx, err error, read bool) {
	var ie *ingest.Error
	if read || !errors.As(err, &ie) {
		return
	}
	switch ie.Status {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusTooManyRequests, http.StatusLengthRequired:
		return
	}
	if n := ctx.Request.Header.ContentLength(); n > 0 && n <= s.cfg.MaxBodyBytes {
		_ = ctx.Request.Body()
	}
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
		ctx.Response.Header.Set("Retry-After", strconv.Itoa(retryAfterSeconds(ie.RetryAfter)))
	}
	envelope.FailFast(ctx, ie.Status, ie.Message, ie.Detail)
}
