package controld

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"
)

// vodServer serves the playback listener with fasthttp. Players reload the
// live playlist every few seconds and fetch a segment as often; net/http's
// per-request cost (request parsing, header maps, allocations) made a 500-byte
// playlist cost 35% more CPU than nginx (see docs/benchmarks.md). The two hot
// GETs, the live playlist and live segments, are answered natively here;
// every other path (recordings, Range requests, uploads from edges, errors)
// goes through the ordinary net/http handlers via fasthttp's adaptor, so
// there is one implementation of each.
type vodServer struct {
	s      *Server
	slow   fasthttp.RequestHandler
	srv    *fasthttp.Server
	origin []byte // Access-Control-Allow-Origin, nil for none
}

var (
	bACAO         = []byte("Access-Control-Allow-Origin")
	bACEH         = []byte("Access-Control-Expose-Headers")
	bExpose       = []byte(hdrExpose[0])
	bCacheControl = []byte("Cache-Control")
	bImmutable    = []byte(hdrImmutable[0])
	bLivePrefix   = []byte(livePrefix)
	bPlaylistName = []byte(playlistName)
	bTS           = []byte(".ts")
)

func newVODServer(s *Server, h http.Handler, logger *slog.Logger) *vodServer {
	v := &vodServer{s: s, slow: fasthttpadaptor.NewFastHTTPHandler(ownStrings(h))}
	if s.cfg.CORSOrigin != "" {
		v.origin = []byte(s.cfg.CORSOrigin)
	}
	v.srv = &fasthttp.Server{
		Handler:               v.handle,
		Name:                  "lmx",
		NoDefaultServerHeader: true,
		ReadTimeout:           2 * time.Minute,
		IdleTimeout:           2 * time.Minute,
		// Uploads are read whole before the handler sees them; leave room
		// above the segment limit so the handler, not fasthttp, answers an
		// oversized one with its own 413.
		MaxRequestBodySize: int(s.cfg.MaxSegmentBytes)*2 + 1<<20,
		Logger:             slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
	}
	return v
}

// Serve serves ln until Shutdown.
func (v *vodServer) Serve(ln net.Listener) error { return v.srv.Serve(ln) }

// Shutdown stops accepting and waits for open requests.
func (v *vodServer) Shutdown(ctx context.Context) error { return v.srv.ShutdownWithContext(ctx) }

func (v *vodServer) handle(ctx *fasthttp.RequestCtx) {
	if ctx.IsGet() || ctx.IsHead() {
		path := ctx.Path()
		if rest, ok := bytes.CutPrefix(path, bLivePrefix); ok {
			if slash := bytes.IndexByte(rest, '/'); slash > 0 {
				name, file := rest[:slash], rest[slash+1:]
				switch {
				case bytes.Equal(file, bPlaylistName[1:]):
					if v.livePlaylist(ctx, name) {
						return
					}
				case bytes.HasSuffix(file, bTS) && len(ctx.Request.Header.Peek("Range")) == 0:
					if v.liveSegment(ctx, name, file[:len(file)-len(bTS)]) {
						return
					}
				}
			}
		}
	}
	v.slow(ctx)
}

// cors sets the CORS answer headers; the keys are already canonical, so
// fasthttp need not normalise them on every request.
func (v *vodServer) cors(ctx *fasthttp.RequestCtx) {
	if v.origin != nil {
		ctx.Response.Header.SetCanonical(bACAO, v.origin)
		ctx.Response.Header.SetCanonical(bACEH, bExpose)
	}
}

// livePlaylist answers a live playlist it has; false leaves the request
// (unknown source, no segments yet) to the slow path and its explanations.
func (v *vodServer) livePlaylist(ctx *fasthttp.RequestCtx, name []byte) bool {
	ls := v.s.live.get(string(name))
	if ls == nil {
		return false
	}
	pl := ls.window.Playlist()
	if pl == nil {
		return false
	}
	v.cors(ctx)
	ctx.Response.Header.SetContentType(playlistType)
	ctx.Response.Header.SetCanonical(bCacheControl, ls.cacheControlBytes())
	if ctx.IsHead() {
		ctx.Response.Header.SetContentLength(len(pl))
		ctx.Response.SkipBody = true
	} else {
		// The rendered playlist is immutable: hand it over without a copy.
		ctx.Response.SetBodyRaw(pl)
	}
	v.s.metrics.livePlaylists.Inc()
	ls.views.hit(ctx.Time()) // the time fasthttp took when the request came in
	return true
}

// liveSegment answers a cached live segment; false leaves misses and
// malformed names to the slow path.
func (v *vodServer) liveSegment(ctx *fasthttp.RequestCtx, name, num []byte) bool {
	seq, err := strconv.ParseUint(string(num), 10, 64)
	if err != nil {
		return false
	}
	ls := v.s.live.get(string(name))
	if ls == nil {
		return false
	}
	bp, ok := v.s.cache.get(liveKey(ls.sourceID, seq))
	if !ok {
		return false
	}
	v.cors(ctx)
	ctx.Response.Header.SetContentType(segmentType)
	ctx.Response.Header.SetCanonical(bCacheControl, bImmutable)
	data := *bp
	if ctx.IsHead() {
		ctx.Response.Header.SetContentLength(len(data))
		ctx.Response.SkipBody = true
		v.s.cache.release(bp)
	} else {
		// Streamed from the pooled buffer the cache filled, which goes back
		// to the pool once fasthttp has written it: one copy of the segment
		// per request, out of freecache.
		ctx.Response.SetBodyStream(&pooledBody{Reader: bytes.NewReader(data), release: func() { v.s.cache.release(bp) }}, len(data))
	}
	m := v.s.metrics
	m.cacheHits.Inc()
	m.liveSegments.Inc()
	m.liveSegmentBytes.Add(float64(len(data)))
	return true
}

// pooledBody is a response body read from a pooled buffer, given back on Close.
type pooledBody struct {
	*bytes.Reader
	release func()
	once    sync.Once
}

// Close returns the buffer to its pool; fasthttp calls it after writing.
func (b *pooledBody) Close() error {
	b.once.Do(b.release)
	return nil
}

// ownStrings gives the net/http handlers a request whose strings they may
// keep. fasthttp's adaptor builds the request from strings that point into
// fasthttp's reused buffers, valid only during the request; the handlers keep
// some (a source name becomes a metric label and a map key, the edge and boot
// headers are remembered for the next upload), and a later request would
// overwrite them in place.
func ownStrings(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		own := *r
		own.Method = strings.Clone(r.Method)
		own.Host = strings.Clone(r.Host)
		own.RequestURI = strings.Clone(r.RequestURI)
		own.Proto = strings.Clone(r.Proto)
		if u, err := url.ParseRequestURI(own.RequestURI); err == nil {
			own.URL = u
		} else {
			u := *r.URL
			u.Path, u.RawPath, u.RawQuery = strings.Clone(u.Path), strings.Clone(u.RawPath), strings.Clone(u.RawQuery)
			own.URL = &u
		}
		own.Header = make(http.Header, len(r.Header))
		for k, vs := range r.Header {
			cv := make([]string, len(vs))
			for i, v := range vs {
				cv[i] = strings.Clone(v)
			}
			own.Header[strings.Clone(k)] = cv
		}
		own.TransferEncoding = slices.Clone(r.TransferEncoding)
		next.ServeHTTP(w, &own)
	})
}
