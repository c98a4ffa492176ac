// Package vod is the control node's playback and ingest listener, on
// fasthttp. Players reload the live playlist every few seconds and fetch
// every segment, so this is the hot path: each answer (live playlist, live
// segment, recording playlist, recorded segment, CORS, errors) is written
// once, here, natively; nothing goes through net/http. Live segments are
// handed to the kernel as files (memfd) so sendfile copies them, not Go.
// Any access check belongs in route, before any body work.
package vod

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/controld/internal/envelope"
	"github.com/lmx-video/lmx/controld/internal/ingest"
	"github.com/lmx-video/lmx/controld/internal/live"
	"github.com/lmx-video/lmx/controld/internal/metrics"
	"github.com/lmx-video/lmx/controld/internal/recording"
	"github.com/lmx-video/lmx/sqlstore"
)

// LiveWindows finds a source's live window by id or name.
type LiveWindows interface {
	Get(idOrName string) (*live.Stream, bool)
	// GetRendition and Renditions are an adaptive-bitrate source's
	// windows, one per rendition.
	GetRendition(idOrName, rendition string) (*live.Stream, bool)
	Renditions(idOrName string) []*live.Stream
}

// Sources says why a source has no live window.
type Sources interface {
	GetSource(ctx context.Context, idOrName string) (sqlstore.Source, error)
}

// Recordings replays recordings.
type Recordings interface {
	Playlist(ctx context.Context, id string) (recording.Playlist, error)
	Segment(ctx context.Context, id string, seq uint64) (*recording.Body, error)
	InitSegment(ctx context.Context, id, initID string) (*recording.Body, error)
	RenditionPlaylist(ctx context.Context, id, rendition string) (recording.Playlist, error)
	RenditionSegment(ctx context.Context, id, rendition string, seq uint64) (*recording.Body, error)
	RenditionInitSegment(ctx context.Context, id, rendition, initID string) (*recording.Body, error)
}

// Ingest takes uploads from edges.
type Ingest interface {
	Accept(ctx context.Context, up ingest.Upload) (broker.IngestReply, error)
	Register(ctx context.Context, r ingest.Registration) (api.Source, error)
	AcceptInit(ctx context.Context, up ingest.InitUpload) (ingest.InitReply, error)
}

// Config is the listener's behaviour.
type Config struct {
	// CORSOrigin is Access-Control-Allow-Origin on playback answers ("" for none).
	CORSOrigin string
	// MaxBodyBytes bounds a request body (an upload), 4 MiB when 0: once
	// ingest has checked its credential, a larger upload is answered 413
	// without the rest of its body being read.
	MaxBodyBytes int
	// OnDemand wakes on-demand sources on their first playlist request
	// (nil: no source is woken, a sleeping one answers 404).
	OnDemand OnDemand
}

// Guard is who may play and join: nil Access is auth off (--auth none).
type Guard struct {
	// Access checks grants, tokens and join secrets.
	Access Access
	// Playback and Ingest slow down addresses that fail authentication on
	// playback paths and on edge paths.
	Playback, Ingest Gate
}

// Server is the playback and ingest listener.
type Server struct {
	cfg        Config
	live       LiveWindows
	sources    Sources
	recs       Recordings
	ingest     Ingest
	access     Access
	playGate   Gate
	ingestGate Gate
	m          *metrics.Metrics
	logger     *slog.Logger
	srv        *fasthttp.Server
	origin     []byte
	maxBody    int
	demand     OnDemand
	// base is the context of the store and replay calls handlers make,
	// cancelled by Shutdown. fasthttp's RequestCtx is a context.Context too,
	// but it is reused for the next request on its connection: a context
	// derived from it (database/sql derives one per query) would outlive it
	// and read a later request's state.
	base   context.Context
	cancel context.CancelFunc
}

// New returns the listener's server; Serve starts it.
func New(cfg Config, lw LiveWindows, sources Sources, recs Recordings, in Ingest, guard Guard, m *metrics.Metrics, logger *slog.Logger) *Server {
	s := &Server{cfg: cfg, live: lw, sources: sources, recs: recs, ingest: in, m: m, logger: logger,
		access: guard.Access, playGate: guard.Playback, ingestGate: guard.Ingest, demand: cfg.OnDemand}
	s.base, s.cancel = context.WithCancel(context.Background())
	if cfg.CORSOrigin != "" {
		s.origin = []byte(cfg.CORSOrigin)
	}
	if s.maxBody = cfg.MaxBodyBytes; s.maxBody <= 0 {
		s.maxBody = fasthttp.DefaultMaxRequestBodySize
	}
	s.srv = &fasthttp.Server{
		Handler:               s.route,
		ErrorHandler:          s.requestError,
		Name:                  "lmx",
		NoDefaultServerHeader: true,
		ReadTimeout:           2 * time.Minute,
		IdleTimeout:           2 * time.Minute,
		MaxRequestBodySize:    s.maxBody,
		// Handlers run on the headers: an upload's credential is checked
		// before its body is read, so an unauthenticated client cannot make
		// the control node buffer megabytes (the body is read only by an
		// authenticated upload, up to MaxBodyBytes: see readBody).
		StreamRequestBody: true,
		Logger:            slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
	}
	return s
}

// Serve serves ln until Shutdown, or until ln is closed: a Shutdown that
// came before Serve started finds nothing to stop, so the caller closes ln
// after Shutdown and Serve then returns at once.
func (s *Server) Serve(ln net.Listener) error {
	if err := s.srv.Serve(ln); err != nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}

// Shutdown stops accepting and waits for open requests; those still open
// when ctx ends have their store and replay calls cancelled.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.ShutdownWithContext(ctx)
	s.cancel()
	return err
}

// Handler is the request handler, for tests that drive it in memory.
func (s *Server) Handler() fasthttp.RequestHandler { return s.route }

var (
	pathLive      = []byte(api.PathLivePrefix)
	pathRecording = []byte(api.PathRecordingPrefix)
	pathVOD       = []byte("/v1/vod/")
	pathIngest    = []byte(broker.IngestPathPrefix)
	pathHealth    = []byte(api.PathHealth)
	pathJoin      = []byte(broker.JoinPath)
	playlistName  = []byte(api.PlaylistName)
	suffixTS      = []byte(".ts")
	suffixReg     = []byte("/register")
)

// route dispatches a request by path and method.
func (s *Server) route(ctx *fasthttp.RequestCtx) {
	path := ctx.Path()
	switch {
	case bytes.HasPrefix(path, pathVOD):
		s.cors(ctx)
		if ctx.IsOptions() {
			preflight(ctx)
			return
		}
		if !ctx.IsGet() && !ctx.IsHead() {
			envelope.FailFast(ctx, http.StatusMethodNotAllowed, fmt.Sprintf("%s is not allowed on playback paths", ctx.Method()), "use GET or HEAD")
			return
		}
		if rest, ok := bytes.CutPrefix(path, pathLive); ok {
			if name, file, ok := splitFile(rest); ok {
				if bytes.Equal(file, playlistName) {
					s.livePlaylist(ctx, name, nil)
				} else {
					s.liveSegment(ctx, name, nil, file)
				}
				return
			}
			// An adaptive-bitrate source's rendition: {source}/{rendition}/{file}.
			if name, rendition, file, ok := splitRenditionFile(rest); ok {
				if bytes.Equal(file, playlistName) {
					s.livePlaylist(ctx, name, rendition)
				} else {
					s.liveSegment(ctx, name, rendition, file)
				}
				return
			}
		} else if rest, ok := bytes.CutPrefix(path, pathRecording); ok {
			if id, file, ok := splitFile(rest); ok {
				if bytes.Equal(file, playlistName) {
					s.recordingPlaylist(ctx, string(id))
				} else {
					s.recordingSegment(ctx, string(id), file)
				}
				return
			}
			if id, rendition, file, ok := splitRenditionFile(rest); ok {
				s.recordingRendition(ctx, string(id), rendition, file)
				return
			}
		}
	case bytes.HasPrefix(path, pathIngest):
		rest := path[len(pathIngest):]
		if name, ok := bytes.CutSuffix(rest, suffixReg); ok && ctx.IsPost() && len(name) > 0 && bytes.IndexByte(name, '/') < 0 {
			s.register(ctx, string(name))
			return
		}
		if len(rest) > 0 && bytes.IndexByte(rest, '/') < 0 && ctx.IsPut() {
			s.upload(ctx, string(rest))
			return
		}
		if name, ok := bytes.CutSuffix(rest, suffixIni); ok && ctx.IsPut() && len(name) > 0 && bytes.IndexByte(name, '/') < 0 {
			s.uploadInit(ctx, string(name))
			return
		}
	case bytes.Equal(path, pathJoin) && ctx.IsPost():
		s.join(ctx)
		return
	case bytes.Equal(path, pathHealth):
		ctx.SetContentType("application/json")
		ctx.SetBodyString(`{"success":true,"status":"ok"}` + "\n")
		return
	}
	envelope.FailFast(ctx, http.StatusNotFound, fmt.Sprintf("no such playback path %s %s", ctx.Method(), path),
		"playlists are at "+api.PathLivePrefix+"{source}/"+api.PlaylistName+" and "+api.PathRecordingPrefix+"{id}/"+api.PlaylistName)
}

// splitFile splits "{name}/{file}" with neither part empty nor nested.
func splitFile(rest []byte) (name, file []byte, ok bool) {
	i := bytes.IndexByte(rest, '/')
	if i <= 0 || i == len(rest)-1 || bytes.IndexByte(rest[i+1:], '/') >= 0 {
		return nil, nil, false
	}
	return rest[:i], rest[i+1:], true
}

// requestError answers what fasthttp refused before the handler ran.
func (s *Server) requestError(ctx *fasthttp.RequestCtx, err error) {
	if errors.Is(err, fasthttp.ErrBodyTooLarge) {
		s.bodyTooLarge(ctx)
		return
	}
	envelope.FailFast(ctx, http.StatusBadRequest, "malformed request: "+err.Error(), "")
}
