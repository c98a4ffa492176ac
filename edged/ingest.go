package edged

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/hls"
)

// routes is the ingest listener's handler: LiveMix's push endpoint plus
// health and a status page for the operator.
func (e *Edge) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/playlist", e.handlePlaylist)
	// Adaptive bitrate: ffmpeg's output URL .../v1/playlist/%v.
	mux.HandleFunc("/v1/playlist/{rendition}", e.handlePlaylist)
	mux.HandleFunc("/v1/{file}", e.handleInit)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"success": true})
	})
	mux.HandleFunc("GET /v1/status", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"success": true, "status": e.Status(true), "controld_connected": e.mqtt.Connected()})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no such path %s: ffmpeg pushes to POST /v1/playlist", r.URL.Path))
	})
	return mux
}

// handlePlaylist takes one playlist push from ffmpeg: it reads the segments
// the edge has not seen yet from the allowed directories into the ring
// buffer, and wakes the streamer of the source.
func (e *Edge) handlePlaylist(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost && r.Method != http.MethodPut {
		w.Header().Set("Allow", "POST, PUT")
		writeError(w, http.StatusMethodNotAllowed, "use POST /v1/playlist with the HLS playlist as the body")
		return
	}
	if name := r.PathValue("rendition"); strings.HasSuffix(name, ".mp4") {
		// An adaptive-bitrate fMP4 push: ffmpeg's init_%v.mp4 goes
		// beside the renditions' playlists.
		e.takeInit(w, r, name)
		return
	}
	target, ok := e.checkPush(w, r)
	if !ok {
		return
	}
	tooLarge := func() {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("playlist body is over %s (--max-playlist-bytes)", e.cfg.MaxPlaylistBytes))
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(e.cfg.MaxPlaylistBytes)))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			tooLarge()
			return
		}
		writeError(w, http.StatusBadRequest, "playlist: "+err.Error())
		return
	}
	rendition := r.PathValue("rendition")
	if rendition != "" && isMultivariant(raw) {
		e.handleVariants(w, target, raw)
		return
	}
	rendition = strings.TrimSuffix(rendition, ".m3u8")
	if r.PathValue("rendition") != "" && !broker.ValidRendition(rendition) {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("rendition %q in the path: want 1 to 32 letters, digits, '_' or '-' (ffmpeg's %%v)", r.PathValue("rendition")))
		return
	}
	pl, err := hls.ParseMediaPlaylist(bytes.NewReader(raw), int64(e.cfg.MaxPlaylistBytes))
	if err != nil {
		if errors.Is(err, hls.ErrTooLarge) {
			tooLarge()
			return
		}
		if errors.Is(err, hls.ErrUnsupported) {
			// Taken, it would be served as segments no player decodes.
			e.refuseFormat(target.Source, "playlist form not carried", err)
			writeError(w, http.StatusUnsupportedMediaType, fmt.Sprintf("source %q: playlist: %v", target.Source, err))
			return
		}
		writeError(w, http.StatusBadRequest, "playlist: "+err.Error())
		return
	}
	names := make([]string, len(pl.Segments))
	for i, s := range pl.Segments {
		name, err := segmentName(s.URI, target.Dir)
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("playlist segment %d: %v", i+1, err))
			return
		}
		names[i] = name
	}

	src := e.source(target.Source)
	if code, msg := e.admit(src); code != 0 {
		writeError(w, code, msg)
		return
	}
	src.pushMu.Lock()
	var rs *renditionState
	if rendition != "" {
		if rs, err = src.rendition(rendition); err != nil {
			src.pushMu.Unlock()
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
	}
	inits, err := initsOf(src, pl)
	if err != nil {
		src.pushMu.Unlock()
		code := http.StatusBadRequest
		if errors.Is(err, errInitMissing) {
			code = http.StatusFailedDependency
			e.refuseFormat(target.Source, "fMP4 init segment missing", err)
		}
		writeError(w, code, fmt.Sprintf("source %q: playlist: %v", target.Source, err))
		return
	}
	taken, skipped := e.take(src, rs, rendition, target, pl, names, inits)
	src.pushMu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "source": target.Source, "taken": taken, "skipped": skipped})
}

// handleVariants takes ffmpeg's multivariant playlist of an
// adaptive-bitrate push: what it says of each rendition goes with the
// rendition's next uploads.
func (e *Edge) handleVariants(w http.ResponseWriter, target pushTarget, raw []byte) {
	vs, err := parseVariants(raw)
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("source %q: multivariant playlist: %v", target.Source, err))
		return
	}
	src := e.source(target.Source)
	if code, msg := e.admit(src); code != 0 {
		writeError(w, code, msg)
		return
	}
	src.pushMu.Lock()
	e.takeVariants(src, vs)
	src.pushMu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "source": target.Source, "variants": len(vs)})
}

// checkPush checks a push's LiveMix headers and that its segment directory
// may be read; it answers the refusal itself and returns false then.
func (e *Edge) checkPush(w http.ResponseWriter, r *http.Request) (pushTarget, bool) {
	target, err := parsePushHeaders(r.Header.Get(HeaderSourceName), r.Header.Get(HeaderURIPrefix))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return pushTarget{}, false
	}
	if err := e.checkPullDir(target); err != nil {
		e.logger.Warn("push refused: another source's pull directory", "source", target.Source, "dir", target.Dir)
		writeError(w, http.StatusForbidden, err.Error())
		return pushTarget{}, false
	}
	if err := e.allowed.checkDir(target.Dir); err != nil {
		if errors.Is(err, ErrOutsideAllowed) {
			e.logger.Warn("push refused: segment directory not allowed", "source", target.Source, "dir", target.Dir)
			msg := fmt.Sprintf("%s: segments are read only inside --allow-dir %v", err, e.cfg.AllowDirs)
			if len(e.cfg.AllowDirs) == 0 {
				msg = fmt.Sprintf("%s: %s", err, ErrNoAllowDir)
			}
			writeError(w, http.StatusForbidden, msg)
			return pushTarget{}, false
		}
		writeError(w, http.StatusBadRequest, fmt.Sprintf("%s %s: %v", HeaderURIPrefix, target.Dir, err))
		return pushTarget{}, false
	}
	return target, true
}

// segmentName turns a playlist URI into a file name inside dir. ffmpeg
// writes plain names; an absolute path is accepted when it is in dir.
func segmentName(uri, dir string) (string, error) {
	if filepath.IsAbs(uri) && filepath.Dir(filepath.Clean(uri)) == dir {
		uri = filepath.Base(uri)
	}
	if err := hls.ValidateSegmentURI(uri); err != nil {
		return "", err
	}
	return uri, nil
}

// take reads the new segments of pl into the ring buffer. A missing or
// unreadable file is skipped, counted and logged; the rest still flow.
//
// A segment follows the init segment its EXT-X-MAP names (inits, by
// playlist position); one whose init segment differs from the previous
// segment's starts new media and is a discontinuity, whatever the tracker
// saw.
//
// rs is the named rendition the playlist is of (nil for a plain push): its
// tracker and numbering are its own.
func (e *Edge) take(src *sourceState, rs *renditionState, rendition string, target pushTarget, pl *hls.MediaPlaylist, names []string, inits []*initSegment) (taken, skipped int) {
	track, lastInit, taken0 := &src.track, &src.lastInit, src.nextSeq > 0
	if rs != nil {
		track, lastInit, taken0 = &rs.track, &rs.lastInit, rs.nextSeq > 0
	}
	index := map[string]string{}
	initOf := map[string]*initSegment{}
	for i, s := range pl.Segments {
		index[s.URI] = names[i]
		initOf[s.URI] = inits[i]
	}
	pendingDisc := false
	fresh := track.next(pl)
	// Without EXT-X-PROGRAM-DATE-TIME a segment's start is when the push
	// that names it came, less its length. When one push names several
	// (the edge or ffmpeg was slow), the newest ends now and each earlier
	// one where the next begins: their starts must rise, as recordings
	// order segments by start.
	pushedAt := time.Now()
	after := make([]time.Duration, len(fresh))
	for i := len(fresh) - 2; i >= 0; i-- {
		after[i] = after[i+1] + time.Duration(fresh[i+1].Duration*float64(time.Second))
	}
	for i, ns := range fresh {
		path := target.path(index[ns.URI])
		data, err := e.allowed.readFile(path, int64(e.cfg.MaxSegmentBytes))
		if err != nil {
			skipped++
			pendingDisc = true
			e.mu.Lock()
			src.dropped++
			e.mu.Unlock()
			e.logger.Warn("segment skipped", "source", src.name, "file", path, "err", err)
			continue
		}
		now := time.Now()
		start := ns.ProgramDateTime
		if start.IsZero() {
			start = pushedAt.Add(-after[i] - time.Duration(ns.Duration*float64(time.Second)))
		}
		iseg := initOf[ns.URI]
		e.mu.Lock()
		newInit := taken0 && initID(iseg) != *lastInit
		src.nextSeq++
		*lastInit, taken0 = initID(iseg), true
		seg := &segment{Seq: src.nextSeq, Name: index[ns.URI], Duration: ns.Duration, Start: start.UTC(), Discontinuity: ns.Discontinuity || pendingDisc || newInit, Data: data, Init: iseg}
		if rs != nil {
			rs.nextSeq++
			seg.Rendition, seg.RSeq, seg.Variant = rendition, rs.nextSeq, rs.variant
		}
		src.lastAt = now
		st, rl := src.stream, src.recorder
		pull := e.pullerForLocked(src.name, target.Dir)
		e.mu.Unlock()
		if pull != nil {
			pull.segment(ns.Duration)
		}
		pendingDisc = false
		for _, l := range e.ring.add(src.name, seg) {
			e.mu.Lock()
			src.dropped++
			e.mu.Unlock()
			e.logger.Error("ring buffer full: a segment recordings still wait for was dropped; raise --buffer-bytes", "source", src.name, "seq", l.Seq)
		}
		e.memory.adjust(e.ring.totalBytes(), int64(len(data)))
		if st != nil {
			st.wake()
		}
		if rl != nil {
			rl.wake()
		}
		taken++
	}
	return taken, skipped
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]any{"success": false, "error": map[string]any{"code": code, "message": msg}})
}
