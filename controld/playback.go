package controld

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/sqlstore"
)

// Content types of HLS answers (RFC 8216).
const (
	playlistType = "application/vnd.apple.mpegurl"
	segmentType  = "video/mp2t"
)

// Header values set on every playback answer, allocated once: assigning a
// ready slice into the header map skips canonicalisation and allocation on
// the hottest path (players reload the live playlist every few seconds).
var (
	hdrPlaylistType = []string{playlistType}
	hdrSegmentType  = []string{segmentType}
	hdrImmutable    = []string{"public, max-age=31536000, immutable"}
	hdrExpose       = []string{"Content-Length, Content-Range"}
)

const livePrefix, playlistName = "/v1/vod/live/", "/vid.m3u8"

// vodRoutes serves playback (contract paths) and segment uploads from edges.
// The live playlist, by far the most requested path, is matched before the
// router.
func (s *Server) vodRoutes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/vod/live/{source}/vid.m3u8", func(w http.ResponseWriter, r *http.Request) {
		s.serveLivePlaylist(w, r, r.PathValue("source"))
	})
	mux.HandleFunc("GET /v1/vod/live/{source}/{segment}", s.handleLiveSegment)
	mux.HandleFunc("GET /v1/vod/recording/{recording}/vid.m3u8", s.handleRecordingPlaylist)
	mux.HandleFunc("GET /v1/vod/recording/{recording}/{segment}", s.handleRecordingSegment)
	mux.HandleFunc("OPTIONS /v1/vod/", s.handlePreflight)
	mux.HandleFunc("PUT "+broker.IngestPathPrefix+"{source}", s.handleIngest)
	mux.HandleFunc("POST "+broker.IngestPathPrefix+"{source}/register", s.handleRegister)
	mux.HandleFunc("GET /healthz", s.handleHealth)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fail(w, r, http.StatusNotFound, "no such playback path "+r.URL.Path, "playlists are at /v1/vod/live/{source}/vid.m3u8 and /v1/vod/recording/{id}/vid.m3u8")
	})
	origin := []string{s.cfg.CORSOrigin}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if strings.HasPrefix(p, "/v1/vod/") {
			// CORS, so a web page on another origin can play with hls.js.
			if s.cfg.CORSOrigin != "" {
				h := w.Header()
				h["Access-Control-Allow-Origin"] = origin
				h["Access-Control-Expose-Headers"] = hdrExpose
			}
			if r.Method == http.MethodGet && strings.HasPrefix(p, livePrefix) && strings.HasSuffix(p, playlistName) {
				name := p[len(livePrefix) : len(p)-len(playlistName)]
				if name != "" && !strings.Contains(name, "/") {
					s.serveLivePlaylist(w, r, name)
					return
				}
			}
		}
		mux.ServeHTTP(w, r)
	})
}

func (s *Server) handlePreflight(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Range, Accept, Origin")
	h.Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
}

// serveLivePlaylist serves the pre-rendered live playlist of a source.
func (s *Server) serveLivePlaylist(w http.ResponseWriter, r *http.Request, name string) {
	ls := s.live.get(name)
	var pl []byte
	if ls != nil {
		pl = ls.window.Playlist()
	}
	if pl == nil {
		s.liveNotAvailable(w, r, name)
		return
	}
	h := w.Header()
	h["Content-Type"] = hdrPlaylistType
	h["Cache-Control"] = ls.cacheControl()
	h["Content-Length"] = []string{strconv.Itoa(len(pl))}
	s.metrics.livePlaylists.Inc()
	ls.views.hit(time.Now())
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(pl)
}

// liveNotAvailable answers 404 with the reason a source has no live playlist.
func (s *Server) liveNotAvailable(w http.ResponseWriter, r *http.Request, name string) {
	src, err := s.store.GetSource(r.Context(), name)
	switch {
	case errors.Is(err, sqlstore.ErrNotFound):
		fail(w, r, http.StatusNotFound, fmt.Sprintf("source %q not found", name), "see `lmx source ls`")
	case err != nil:
		s.internalError(w, r, err)
	case !src.Streaming:
		fail(w, r, http.StatusNotFound, fmt.Sprintf("source %q is not streaming", src.Name), "turn it on with `lmx source stream on "+src.Name+"`")
	default:
		fail(w, r, http.StatusNotFound, fmt.Sprintf("source %q has no live segments yet", src.Name), "waiting for its edge to upload; see `lmx edge ls`")
	}
}

// handleLiveSegment serves a cached live segment.
func (s *Server) handleLiveSegment(w http.ResponseWriter, r *http.Request) {
	name, file := r.PathValue("source"), r.PathValue("segment")
	numStr, ok := strings.CutSuffix(file, ".ts")
	seq, err := strconv.ParseUint(numStr, 10, 64)
	if !ok || err != nil {
		fail(w, r, http.StatusNotFound, fmt.Sprintf("no segment %q: live segments are named {sequence}.ts", file), "")
		return
	}
	ls := s.live.get(name)
	if ls == nil {
		s.liveNotAvailable(w, r, name)
		return
	}
	s.serveSegment(w, r, liveKey(ls.sourceID, seq), "live")
}

// serveSegment writes a cached segment, with Range support for players that
// ask for part of one.
func (s *Server) serveSegment(w http.ResponseWriter, r *http.Request, key, kind string) {
	bp, ok := s.cache.get(key)
	if !ok {
		s.metrics.cacheMisses.Inc()
		fail(w, r, http.StatusNotFound, "segment not available (it has left the live window)", "reload the playlist")
		return
	}
	defer s.cache.release(bp)
	s.metrics.cacheHits.Inc()
	h := w.Header()
	h["Content-Type"] = hdrSegmentType
	// Segment names are never reused, so the bytes behind a URL never change.
	h["Cache-Control"] = hdrImmutable
	data := *bp
	if r.Header.Get("Range") != "" {
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
	} else {
		h.Set("Content-Length", strconv.Itoa(len(data)))
		if r.Method != http.MethodHead {
			_, _ = w.Write(data)
		}
	}
	s.metrics.segmentsServed.WithLabelValues(kind).Inc()
	s.metrics.bytesServed.WithLabelValues(kind).Add(float64(len(data)))
}

func (s *Server) handleHealth(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"success":true,"status":"ok"}` + "\n"))
}
