package edged

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/hls"
)

// initSegment is an fMP4 init segment ffmpeg pushed for a source. The
// segments that follow it point at it, so one that the next run of ffmpeg
// replaces stays with the segments of the run before.
type initSegment struct {
	// ID is broker.InitID(Data): the control node stores it by that name.
	ID string
	// Name is the file name ffmpeg gave it (its EXT-X-MAP URI).
	Name string
	// Data is its bytes.
	Data []byte
	// sent is true once the control node took it; a segment upload the
	// control node answers with broker.StatusInitMissing clears it.
	sent atomic.Bool
}

// errInitMissing names a playlist's EXT-X-MAP the edge holds no init
// segment for.
var errInitMissing = errors.New("init segment not received")

// handleInit takes an init segment ffmpeg pushes with -hls_segment_type
// fmp4: it POSTs (or PUTs, with -method PUT) the bytes to the name of
// -hls_fmp4_init_filename (init.mp4) relative to the playlist URL, once at
// its start, with the same headers as every playlist push, and does not
// write it to the segment directory.
func (e *Edge) handleInit(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	if strings.HasSuffix(name, ".m3u8") {
		// ffmpeg -master_pl_name pushes the multivariant playlist here,
		// beside the media playlist, when the output URL has no %v.
		writeError(w, http.StatusUnsupportedMediaType, fmt.Sprintf("%s: a multivariant playlist (adaptive bitrate) is taken beside its renditions: give ffmpeg the output URL http://EDGE/v1/playlist/%%v, so each rendition goes to /v1/playlist/{rendition} and the master to /v1/playlist/%s", name, name))
		return
	}
	e.takeInit(w, r, name)
}

// takeInit takes an fMP4 init segment ffmpeg pushes under name: at
// /v1/{name} beside /v1/playlist, or at /v1/playlist/{name} beside an
// adaptive-bitrate source's renditions (ffmpeg's init_%v.mp4).
func (e *Edge) takeInit(w http.ResponseWriter, r *http.Request, name string) {
	if !strings.HasSuffix(name, ".mp4") {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no such path %s: ffmpeg pushes to POST /v1/playlist (and, for fMP4, its init segment to /v1/init.mp4)", r.URL.Path))
		return
	}
	if r.Method != http.MethodPost && r.Method != http.MethodPut {
		w.Header().Set("Allow", "POST, PUT")
		writeError(w, http.StatusMethodNotAllowed, "use POST /v1/"+name+" with the fMP4 init segment as the body (ffmpeg -hls_segment_type fmp4 does)")
		return
	}
	if err := hls.ValidateSegmentURI(name); err != nil {
		writeError(w, http.StatusBadRequest, "init segment name: "+err.Error())
		return
	}
	target, ok := e.checkPush(w, r)
	if !ok {
		return
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, broker.MaxInitBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("init segment %s is over %d bytes: an fMP4 init segment holds only ftyp and moov", name, broker.MaxInitBytes))
			return
		}
		writeError(w, http.StatusBadRequest, fmt.Sprintf("init segment %s: reading the body: %v", name, err))
		return
	}
	if len(data) == 0 {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("init segment %s is empty", name))
		return
	}
	src := e.source(target.Source)
	if code, msg := e.admit(src); code != 0 {
		writeError(w, code, msg)
		return
	}
	iseg := &initSegment{ID: broker.InitID(data), Name: name, Data: data}
	src.pushMu.Lock()
	if old := src.inits[name]; old == nil || old.ID != iseg.ID {
		if src.inits == nil {
			src.inits = map[string]*initSegment{}
		}
		src.inits[name] = iseg
		e.logger.Info("init segment received", "source", src.name, "name", name, "init", iseg.ID, "bytes", len(data))
	}
	src.pushMu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "source": target.Source, "init": iseg.ID})
}

// initsOf resolves the EXT-X-MAP of each of pl's segments to the init
// segment src holds under that name (nil for a segment without one). The
// caller holds src.pushMu.
func initsOf(src *sourceState, pl *hls.MediaPlaylist) ([]*initSegment, error) {
	out := make([]*initSegment, len(pl.Segments))
	for i, s := range pl.Segments {
		if s.Map == "" {
			continue
		}
		iseg := src.inits[s.Map]
		if iseg == nil {
			if err := hls.ValidateSegmentURI(s.Map); err != nil {
				return nil, fmt.Errorf("EXT-X-MAP: %w", err)
			}
			return nil, fmt.Errorf("%w: the playlist's EXT-X-MAP names %q, which ffmpeg sends once at its start to /v1/%s; this edge has not had it since it started (restart ffmpeg)", errInitMissing, s.Map, s.Map)
		}
		out[i] = iseg
	}
	return out, nil
}

// initID is the id of iseg, "" for none.
func initID(iseg *initSegment) string {
	if iseg == nil {
		return ""
	}
	return iseg.ID
}
