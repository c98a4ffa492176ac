package ingest

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/controld/internal/live"
	"github.com/lmx-video/lmx/controld/internal/recording"
)

// Inits holds the fMP4 init segments of sources (live.Registry).
type Inits interface {
	PutInit(sourceID, id string, data []byte)
	Init(sourceID, id string) (live.Init, bool)
}

// InitUpload is one init segment upload as the HTTP layer received it
// (PUT broker.InitPath(source)): an Upload whose body is the init segment.
type InitUpload = Upload

// InitReply answers an init upload.
type InitReply struct {
	// Init is the id the init segment is held under.
	Init string `json:"init"`
}

// AcceptInit holds a source's fMP4 init segment for the segments that
// will name it, live and recorded: an init segment is recorded with the
// first recorded segment that follows it, from what is held here.
func (s *Service) AcceptInit(ctx context.Context, up InitUpload) (InitReply, error) {
	edge, ierr := s.identify(up.Authorization, up.Header(broker.HeaderEdge), up.Addr)
	if ierr != nil {
		return InitReply{}, ierr
	}
	if err := broker.ValidateName(up.Source); err != nil {
		return InitReply{}, refuse(http.StatusBadRequest, "source name: "+err.Error(), "")
	}
	id := up.Header(broker.HeaderInit)
	if !broker.ValidInitID(id) {
		return InitReply{}, refuse(http.StatusBadRequest, fmt.Sprintf("header %s %q: want the %d hex digits of the init segment's id", broker.HeaderInit, id, broker.InitIDLen), "")
	}
	body, _, berr := readBody(up, bodyLimit{what: "init segment", max: broker.MaxInitBytes, limit: fmt.Sprintf("%d-byte", broker.MaxInitBytes),
		detail: "an fMP4 init segment holds only ftyp and moov"})
	if berr != nil {
		return InitReply{}, berr
	}
	if got := broker.InitID(body); got != id {
		return InitReply{}, refuse(http.StatusBadRequest, fmt.Sprintf("init segment's bytes have id %s, not %s as header %s says", got, id, broker.HeaderInit), "")
	}
	src, err := s.binder.BindSource(ctx, edge, up.Source)
	if err != nil {
		return InitReply{}, s.bindError(up.Source, err)
	}
	if s.cfg.Inits == nil {
		return InitReply{}, refuse(http.StatusUnsupportedMediaType, "this control node does not take fMP4 init segments", "")
	}
	// The body is the caller's buffer, reused after the answer.
	s.cfg.Inits.PutInit(src.ID, id, slices.Clone(body))
	s.logger.Debug("init segment held", "source", src.Name, "edge", edge, "init", id, "bytes", len(body), "name", up.Header(broker.HeaderInitName))
	return InitReply{Init: id}, nil
}

// initFor is the init segment an fMP4 upload names, for its recording:
// nil for MPEG-TS, a 424 when it is not held (the edge uploads it again).
func (s *Service) initFor(sourceID, name, id string) (*recording.Init, error) {
	if id == "" {
		return nil, nil
	}
	if s.cfg.Inits != nil {
		if i, ok := s.cfg.Inits.Init(sourceID, id); ok {
			return &recording.Init{ID: i.ID, Data: i.Data}, nil
		}
	}
	s.drop("init_missing")
	return nil, refuse(broker.StatusInitMissing, fmt.Sprintf("init segment %s of source %q is not held here", id, name), "the edge uploads it again ("+broker.InitPath(name)+"), then the segment")
}
