package controld

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/hls"
	"github.com/lmx-video/lmx/sqlstore"
)

// segmentUpload is what an edge's upload headers say about a segment.
type segmentUpload struct {
	edge          string
	boot          string
	seq           uint64
	duration      float64
	start         time.Time
	discontinuity bool
	live          bool     // the edge sends it for the live window
	recordings    []string // recording ids it is sent for
}

// parseUploadHeaders checks an upload's metadata headers.
func parseUploadHeaders(h http.Header) (segmentUpload, error) {
	u := segmentUpload{edge: h.Get(broker.HeaderEdge), boot: h.Get(broker.HeaderBoot)}
	if err := broker.ValidateName(u.edge); err != nil {
		return u, fmt.Errorf("header %s: %v", broker.HeaderEdge, err)
	}
	var err error
	if u.seq, err = strconv.ParseUint(h.Get(broker.HeaderSeq), 10, 64); err != nil {
		return u, fmt.Errorf("header %s %q: want a whole number", broker.HeaderSeq, h.Get(broker.HeaderSeq))
	}
	if u.duration, err = strconv.ParseFloat(h.Get(broker.HeaderDuration), 64); err != nil || math.IsNaN(u.duration) || u.duration <= 0 || u.duration > 3600 {
		return u, fmt.Errorf("header %s %q: want seconds between 0 and 3600", broker.HeaderDuration, h.Get(broker.HeaderDuration))
	}
	if v := h.Get(broker.HeaderStart); v != "" {
		if u.start, err = time.Parse(time.RFC3339Nano, v); err != nil {
			return u, fmt.Errorf("header %s %q: want an RFC 3339 time", broker.HeaderStart, v)
		}
	}
	u.discontinuity = h.Get(broker.HeaderDiscontinuity) == "1"
	purpose := h.Get(broker.HeaderPurpose)
	u.live = purpose == "" || strings.Contains(purpose, "live")
	for _, id := range strings.Split(h.Get(broker.HeaderRecordings), ",") {
		if id = strings.TrimSpace(id); id == "" {
			continue
		}
		if len(id) > 64 || strings.ContainsAny(id, "/\\ ") {
			return u, fmt.Errorf("header %s: bad recording id %q", broker.HeaderRecordings, id)
		}
		u.recordings = append(u.recordings, id)
	}
	if len(u.recordings) > 64 {
		return u, fmt.Errorf("header %s: more than 64 recordings", broker.HeaderRecordings)
	}
	if !u.live && len(u.recordings) == 0 {
		return u, fmt.Errorf("header %s %q: a segment must be for live or for a recording", broker.HeaderPurpose, purpose)
	}
	return u, nil
}

// authorizeEdge checks the shared token when one is configured.
func (s *Server) authorizeEdge(r *http.Request) bool {
	if s.cfg.EdgeToken == "" {
		return true
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(tok), []byte(s.cfg.EdgeToken)) == 1
}

// handleRegister answers an edge that asks whether a source name is known,
// registering it when auto-registration is on.
func (s *Server) handleRegister(w http.ResponseWriter, r *http.Request) {
	if !s.authorizeEdge(r) {
		fail(w, r, http.StatusForbidden, "edge token missing or wrong", "")
		return
	}
	name, edge := r.PathValue("source"), r.Header.Get(broker.HeaderEdge)
	if err := broker.ValidateName(name); err != nil {
		fail(w, r, http.StatusBadRequest, err.Error(), "")
		return
	}
	if err := broker.ValidateName(edge); err != nil {
		fail(w, r, http.StatusBadRequest, "header "+broker.HeaderEdge+": "+err.Error(), "")
		return
	}
	src, err := s.bindSource(r.Context(), edge, name)
	if errors.Is(err, sqlstore.ErrNotFound) {
		fail(w, r, http.StatusNotFound, fmt.Sprintf("source %q is not registered", name), "create it with `lmx source add "+name+"`")
		return
	}
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	reply(w, r, http.StatusOK, "source", s.apiSource(r.Context(), src))
}

// handleIngest takes one segment upload from an edge into the live window.
// The segment is listed only after its bytes are all in the cache.
func (s *Server) handleIngest(w http.ResponseWriter, r *http.Request) {
	arrived := time.Now()
	if !s.authorizeEdge(r) {
		fail(w, r, http.StatusForbidden, "edge token missing or wrong", "")
		return
	}
	name := r.PathValue("source")
	up, err := parseUploadHeaders(r.Header)
	if err != nil {
		s.metrics.segmentsDropped.WithLabelValues("bad_request").Inc()
		fail(w, r, http.StatusBadRequest, err.Error(), "")
		return
	}
	if r.ContentLength < 0 {
		fail(w, r, http.StatusLengthRequired, "segment upload needs a Content-Length", "")
		return
	}
	if r.ContentLength > int64(s.cfg.MaxSegmentBytes) {
		s.metrics.segmentsDropped.WithLabelValues("too_large").Inc()
		fail(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("segment of %d bytes is over the %s limit", r.ContentLength, s.cfg.MaxSegmentBytes), "raise --max-segment-bytes or shorten segments")
		return
	}
	src, err := s.bindSource(r.Context(), up.edge, name)
	if errors.Is(err, sqlstore.ErrNotFound) {
		s.metrics.segmentsDropped.WithLabelValues("unknown_source").Inc()
		fail(w, r, http.StatusNotFound, fmt.Sprintf("source %q is not registered", name), "create it with `lmx source add "+name+"`")
		return
	}
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	if !src.Streaming && len(up.recordings) == 0 {
		s.metrics.segmentsDropped.WithLabelValues("not_streaming").Inc()
		fail(w, r, http.StatusConflict, fmt.Sprintf("streaming is off for source %q", name), "turn it on with `lmx source stream on "+name+"`")
		return
	}
	data := make([]byte, r.ContentLength)
	if _, err := io.ReadFull(r.Body, data); err != nil {
		s.metrics.segmentsDropped.WithLabelValues("short_body").Inc()
		fail(w, r, http.StatusBadRequest, fmt.Sprintf("segment body shorter than its Content-Length %d: %v", r.ContentLength, err), "")
		return
	}
	if up.start.IsZero() {
		up.start = time.Now().Add(-time.Duration(up.duration * float64(time.Second)))
	}
	var out broker.IngestReply
	// Recordings first: their ack is what lets the edge forget the segment.
	if len(up.recordings) > 0 {
		out.Acked, out.Rejected, err = s.recordSegment(r.Context(), src, up, data, arrived)
		if err != nil {
			s.metrics.segmentsDropped.WithLabelValues("spool_failed").Inc()
			s.logger.Error("recorded segment not spooled", "source", name, "edge_seq", up.seq, "err", err)
			fail(w, r, http.StatusInsufficientStorage, "segment could not be stored for recording: "+err.Error(), "check the control node's data dir")
			return
		}
	}
	if up.live && src.Streaming {
		_, err := s.appendLive(src, up, data)
		switch {
		case errors.Is(err, errStreamingOff):
			// Turned off while this upload was on its way: not an error.
		case err != nil:
			s.metrics.cacheRejected.Inc()
			s.metrics.segmentsDropped.WithLabelValues("cache_rejected").Inc()
			s.logger.Error("segment not cached", "source", name, "edge_seq", up.seq, "bytes", len(data), "err", err)
			s.event(broker.EventSegmentDropped, broker.Event{Edge: up.edge, Source: name, Detail: err.Error()})
			fail(w, r, http.StatusInsufficientStorage, "segment could not be cached: "+err.Error(), "raise --cache-size")
			return
		default:
			out.Live = true
		}
	}
	s.metrics.segmentsIn.WithLabelValues(name).Inc()
	s.metrics.bytesIn.WithLabelValues(name).Add(float64(len(data)))
	writeIngestReply(w, r, out)
}

// writeIngestReply answers an upload with what became of the segment.
func writeIngestReply(w http.ResponseWriter, r *http.Request, out broker.IngestReply) {
	requestID(w, r)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(out)
}

// appendLive caches a segment and then lists it in the source's live window.
func (s *Server) appendLive(src sqlstore.Source, up segmentUpload, data []byte) (uint64, error) {
	ls := s.live.open(src.ID, src.Name, targetHint(src.SegmentLen, up.duration))
	if ls == nil {
		return 0, errStreamingOff
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	disc := up.discontinuity || up.edge != ls.edge || up.boot != ls.boot || up.seq != ls.edgeSeq+1
	first := ls.edge == ""
	seq := ls.nextSeq
	ttl := s.liveTTL(ls.window.TargetDuration())
	if err := s.cache.put(liveKey(src.ID, seq), data, ttl); err != nil {
		return 0, err
	}
	start := up.start
	ls.window.Append(hls.LiveSegment{
		URI:             strconv.FormatUint(seq, 10) + ".ts",
		Duration:        up.duration,
		Discontinuity:   disc && !first,
		ProgramDateTime: start,
		Bytes:           int64(len(data)),
	})
	ls.nextSeq++
	ls.edge, ls.boot, ls.edgeSeq, ls.lastAt = up.edge, up.boot, up.seq, time.Now()
	return seq, nil
}

// liveTTL keeps a live segment cached well past the time it slides out of the
// playlist, for players that fetched the playlist just before.
func (s *Server) liveTTL(target int) time.Duration {
	return max(time.Minute, time.Duration(4*s.cfg.LiveSegments*max(target, 1))*time.Second)
}

// errStreamingOff means the live window was closed under an upload.
var errStreamingOff = errors.New("streaming was turned off")

// internalError answers 500 for a fault of the control node itself. A
// request its client gave up on is no fault: it is logged at debug level.
func (s *Server) internalError(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil && errors.Is(err, context.Canceled) {
		s.logger.Debug("request abandoned by its client", "method", r.Method, "path", r.URL.Path, "err", err)
		fail(w, r, 499, "request cancelled", "")
		return
	}
	s.logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	fail(w, r, http.StatusInternalServerError, "internal error: "+err.Error(), "")
}
