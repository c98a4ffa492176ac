package controld

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"strconv"
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
	s    *Server
	slow fasthttp.RequestHandler
	srv  *fasthttp.Server
}

var (
	bLivePrefix   = []byte(livePrefix)
	bPlaylistName = []byte(playlistName)
	bTS           = []byte(".ts")
)

func newVODServer(s *Server, h http.Handler, logger *slog.Logger) *vodServer {
	v := &vodServer{s: s, slow: fasthttpadaptor.NewFastHTTPHandler(h)}
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

func (v *vodServer) cors(ctx *fasthttp.RequestCtx) {
	if o := v.s.cfg.CORSOrigin; o != "" {
		ctx.Response.Header.Set("Access-Control-Allow-Origin", o)
		ctx.Response.Header.Set("Access-Control-Expose-Headers", hdrExpose[0])
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
	ctx.Response.Header.Set("Cache-Control", ls.cacheControl()[0])
	if ctx.IsHead() {
		ctx.Response.Header.SetContentLength(len(pl))
		ctx.Response.SkipBody = true
	} else {
		// The rendered playlist is immutable: hand it over without a copy.
		ctx.Response.SetBodyRaw(pl)
	}
	v.s.metrics.livePlaylists.Inc()
	ls.views.hit(time.Now())
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
	ctx.Response.Header.Set("Cache-Control", hdrImmutable[0])
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
