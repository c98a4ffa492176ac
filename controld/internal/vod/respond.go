package vod

import (
	"fmt"
	"net/http"

	"github.com/valyala/fasthttp"

	"github.com/lmx-video/lmx/controld/internal/envelope"
)

// Content types of HLS answers (RFC 8216) and their header values,
// allocated once with canonical keys so fasthttp need not normalise them.
var (
	playlistType   = []byte("application/vnd.apple.mpegurl")
	segmentType    = []byte("video/mp2t")
	hCacheControl  = []byte("Cache-Control")
	hACAO          = []byte("Access-Control-Allow-Origin")
	hACEH          = []byte("Access-Control-Expose-Headers")
	hContentRange  = []byte("Content-Range")
	hRange         = []byte("Range")
	vExpose        = []byte("Content-Length, Content-Range")
	vImmutable     = []byte("public, max-age=31536000, immutable")
	vRecActive     = []byte("max-age=1")
	vRecDone       = []byte("max-age=60")
	hAllowMethods  = []byte("Access-Control-Allow-Methods")
	hAllowHeaders  = []byte("Access-Control-Allow-Headers")
	hMaxAge        = []byte("Access-Control-Max-Age")
	vAllowMethods  = []byte("GET, HEAD, OPTIONS")
	vAllowHeaders  = []byte("Range, Accept, Origin")
	vPreflightLife = []byte("86400")
)

// cors sets the CORS answer headers of every playback answer, errors too,
// so a page on another origin can play with hls.js and read why it failed.
func (s *Server) cors(ctx *fasthttp.RequestCtx) {
	if s.origin != nil {
		ctx.Response.Header.SetCanonical(hACAO, s.origin)
		ctx.Response.Header.SetCanonical(hACEH, vExpose)
	}
}

func preflight(ctx *fasthttp.RequestCtx) {
	h := &ctx.Response.Header
	h.SetCanonical(hAllowMethods, vAllowMethods)
	h.SetCanonical(hAllowHeaders, vAllowHeaders)
	h.SetCanonical(hMaxAge, vPreflightLife)
	ctx.SetStatusCode(http.StatusNoContent)
}

// maxKeptPlaylist bounds a playlist written with its grant into the
// response's own body buffer, which stays with the connection: a longer
// one (a long recording's) is allocated for its answer alone.
const maxKeptPlaylist = 32 << 10

// setPlaylist answers playlist pl (immutable), with grant g added to its
// URIs (withGrant) unless g is "". Without a grant pl goes out as it is;
// with one it is written into the response's body buffer, which fasthttp
// keeps from one request to the next on a connection, so a player
// reloading a live playlist costs no allocation for it.
func setPlaylist(ctx *fasthttp.RequestCtx, pl []byte, g string) {
	switch {
	case g == "":
	case len(pl) <= maxKeptPlaylist:
		buf := ctx.Response.SwapBody(nil)
		buf = appendWithGrant(buf[:0], pl, g)
		ctx.Response.SwapBody(buf)
		if ctx.IsHead() {
			ctx.Response.Header.SetContentLength(len(buf))
			ctx.Response.SkipBody = true
		}
		return
	default:
		pl = withGrant(pl, g)
	}
	if ctx.IsHead() {
		ctx.Response.Header.SetContentLength(len(pl))
		ctx.Response.SkipBody = true
	} else {
		ctx.Response.SetBodyRaw(pl)
	}
}

// serveSegment answers a segment (or init segment, of content type ctype)
// held in memory or opened as a file. open
// returns the whole segment as a reader of its own; readAt reads part of
// it for a Range request. Segment names are never reused, so the bytes
// behind a URL never change: immutable.
func (s *Server) serveSegment(ctx *fasthttp.RequestCtx, ctype []byte, size int, open func() (readCloser, error), readAt func([]byte, int64) (int, error)) bool {
	h := &ctx.Response.Header
	h.SetContentTypeBytes(ctype)
	h.SetCanonical(hCacheControl, vImmutable)
	if rng := ctx.Request.Header.PeekBytes(hRange); len(rng) > 0 {
		start, end, err := fasthttp.ParseByteRange(rng, size)
		if err != nil {
			h.SetCanonical(hContentRange, fmt.Appendf(nil, "bytes */%d", size))
			envelope.FailFast(ctx, http.StatusRequestedRangeNotSatisfiable, fmt.Sprintf("range %q is outside the segment's %d bytes", rng, size), "")
			return false
		}
		part := make([]byte, end-start+1)
		if _, err := readAt(part, int64(start)); err != nil {
			return s.segmentGone(ctx)
		}
		h.SetContentRange(start, end, size)
		ctx.SetStatusCode(http.StatusPartialContent)
		if ctx.IsHead() {
			h.SetContentLength(len(part))
			ctx.Response.SkipBody = true
		} else {
			ctx.Response.SetBodyRaw(part)
		}
		return true
	}
	if ctx.IsHead() {
		h.SetContentLength(size)
		ctx.Response.SkipBody = true
		return true
	}
	r, err := open()
	if err != nil {
		return s.segmentGone(ctx)
	}
	// fasthttp closes the reader once written. An *os.File (a live
	// segment's memfd) goes out with sendfile on a plain TCP connection,
	// headers corked with it, and through the same code, copied, on TLS.
	ctx.Response.SetBodyStream(withCork(r, ctx.Conn()), size)
	return true
}

// readCloser is what a segment opens to.
type readCloser interface {
	Read([]byte) (int, error)
	Close() error
}

func (s *Server) segmentGone(ctx *fasthttp.RequestCtx) bool {
	envelope.FailFast(ctx, http.StatusNotFound, "segment not available (it has left the live window)", "reload the playlist")
	return false
}
