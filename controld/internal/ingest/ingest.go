// Package ingest takes segment uploads from edges into the control node:
// it checks the edge's credential and the upload's metadata, binds the
// source to the uploading edge, stores the segment for the recordings that
// want it (that is the ack the edge waits for) and appends it to the live
// window. Every rule about an upload lives here; the HTTP layer only turns
// a request into an Upload and an answer back.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/controld/internal/feeds"
	"github.com/lmx-video/lmx/controld/internal/live"
	"github.com/lmx-video/lmx/controld/internal/recording"
	"github.com/lmx-video/lmx/internal/bytesize"
	"github.com/lmx-video/lmx/sqlstore"
)

// Binder knows sources and binds them to the edge that pushes them.
type Binder interface {
	BindSource(ctx context.Context, edge, name string) (sqlstore.Source, error)
}

// LiveWindows takes segments for live playback.
type LiveWindows interface {
	Append(id, name string, segmentLen int, a live.Arrival, data []byte) (uint64, error)
}

// Recorder stores segments for recordings.
type Recorder interface {
	Record(ctx context.Context, seg recording.Segment, ids []string, data []byte) (acked, rejected []string, err error)
}

// Emitter records what happened.
type Emitter interface {
	Emit(kind string, ev broker.Event)
}

// SourceView renders a source for an API answer.
type SourceView interface {
	Source(ctx context.Context, src sqlstore.Source) api.Source
}

// EdgeAuthenticator says which edge a credential belongs to.
type EdgeAuthenticator interface {
	AuthenticateEdge(credential string) (edge string, err error)
}

// Awake says whether an on-demand source is awake (someone watches).
type Awake interface {
	Awake(sourceID string) bool
}

// FeedSelector chooses which feed of a multi-feed source is listed and
// recorded (feeds.Selector).
type FeedSelector interface {
	Admit(src feeds.Source, seg feeds.Segment) feeds.Role
	WhileActive(sourceID, edge string, list func()) bool
}

// Gate slows down addresses that fail authentication.
type Gate interface {
	Blocked(addr netip.Addr) (time.Duration, bool)
	Failed(addr netip.Addr, reason string, err error)
}

// Config is what uploads are checked against.
type Config struct {
	// Edges, when set, authenticates every upload by its edge credential:
	// the edge's identity comes from the credential alone. Nil trusts the
	// Lmx-Edge header (--auth none).
	Edges EdgeAuthenticator
	// Gate slows down addresses that fail authentication (with Edges).
	Gate Gate
	// MaxSegmentBytes is the largest segment taken; larger ones get 413.
	MaxSegmentBytes bytesize.Size
	// OnDemand, when set, keeps live uploads of a sleeping on-demand
	// source out of the live window: one still on its way when the source
	// fell asleep, or sent by an edge that has not had its new desired
	// state yet (after a restart of the control node, which wakes no one)
	// would otherwise open a window of stale media that players would be
	// served without waking the source.
	OnDemand Awake
	// Inits holds fMP4 init segments (see AcceptInit); nil refuses them.
	Inits Inits
}

// Series are the metrics ingest keeps.
type Series struct {
	// In and BytesIn count accepted segments and bytes, by source.
	In, BytesIn *prometheus.CounterVec
	// Dropped counts refused segments, by reason.
	Dropped *prometheus.CounterVec
}

// Service takes uploads.
type Service struct {
	cfg    Config
	binder Binder
	live   LiveWindows
	rec    Recorder
	events Emitter
	view   SourceView
	series Series
	logger *slog.Logger
	feeds  FeedSelector
}

// New returns an ingest service.
func New(cfg Config, binder Binder, lw LiveWindows, rec Recorder, events Emitter, view SourceView, series Series, logger *slog.Logger) *Service {
	return &Service{cfg: cfg, binder: binder, live: lw, rec: rec, events: events, view: view, series: series, logger: logger}
}

// UseFeeds has multi-feed sources' uploads go through sel (which lists a
// new active feed's held segments back through s.ListSwitched).
func (s *Service) UseFeeds(sel FeedSelector) { s.feeds = sel }

// Error is an upload's refusal: an HTTP status and words that say what is
// wrong and what to do.
type Error struct {
	// Status is the HTTP status code.
	Status int
	// Message names the problem.
	Message string
	// Detail says what to do, when known.
	Detail string
	// Err is the cause, for a fault of the control node itself.
	Err error
	// RetryAfter, when set, is when the client may try again (429).
	RetryAfter time.Duration
}

func (e *Error) Error() string { return e.Message }

// Unwrap is the cause.
func (e *Error) Unwrap() error { return e.Err }

func refuse(status int, msg, detail string) *Error {
	return &Error{Status: status, Message: msg, Detail: detail}
}

// Upload is one segment upload as the HTTP layer received it.
type Upload struct {
	// Source is the source name from the path.
	Source string
	// Authorization is the request's Authorization header.
	Authorization string
	// Header reads one request header; the strings it returns are the
	// caller's to keep.
	Header func(name string) string
	// ContentLength is the declared length, -1 for a body sent without one
	// (chunked).
	ContentLength int
	// Body reads the segment; it is called only once the credential and
	// the declared length have been checked.
	Body func() []byte
	// Arrived is when the request reached the control node.
	Arrived time.Time
	// Addr is where the request came from, for the failed-auth limiter.
	Addr netip.Addr
}

// Registration is an edge asking whether a source name is known.
type Registration struct {
	// Source is the name asked about.
	Source string
	// Edge is the Lmx-Edge header (trusted only with auth off).
	Edge string
	// Authorization is the request's Authorization header.
	Authorization string
	// Addr is where the request came from.
	Addr netip.Addr
}

// identify says which edge a request comes from: the owner of its
// credential, or with auth off the edge it names. A header naming another
// edge than the credential's is refused.
func (s *Service) identify(authorization, claimed string, addr netip.Addr) (string, *Error) {
	if s.cfg.Edges == nil {
		if err := broker.ValidateName(claimed); err != nil {
			return "", refuse(http.StatusBadRequest, "header "+broker.HeaderEdge+": "+err.Error(), "")
		}
		return claimed, nil
	}
	if retry, blocked := s.cfg.Gate.Blocked(addr); blocked {
		e := refuse(http.StatusTooManyRequests, "too many failed authentications from "+addr.String(), "")
		e.RetryAfter = retry
		return "", e
	}
	tok, ok := strings.CutPrefix(authorization, "Bearer ")
	if !ok && authorization != "" {
		s.cfg.Gate.Failed(addr, "malformed", nil)
		return "", refuse(http.StatusUnauthorized, "Authorization header must be \"Bearer CREDENTIAL\"", "")
	}
	edge, err := s.cfg.Edges.AuthenticateEdge(strings.TrimSpace(tok))
	if err != nil {
		if tok != "" {
			s.cfg.Gate.Failed(addr, "credential", err)
		}
		return "", refuse(http.StatusUnauthorized, err.Error(), "register the edge with `lmx edge add NAME` and start it with --join")
	}
	if claimed != "" && claimed != edge {
		return "", refuse(http.StatusForbidden, fmt.Sprintf("header %s says %q but the credential is edge %q's", broker.HeaderEdge, claimed, edge), "")
	}
	return edge, nil
}

func (s *Service) drop(reason string) { s.series.Dropped.WithLabelValues(reason).Inc() }

// Register answers an edge that asks whether source is known, registering
// it when auto-registration is on.
func (s *Service) Register(ctx context.Context, r Registration) (api.Source, error) {
	edge, ierr := s.identify(r.Authorization, r.Edge, r.Addr)
	if ierr != nil {
		return api.Source{}, ierr
	}
	if err := broker.ValidateName(r.Source); err != nil {
		return api.Source{}, refuse(http.StatusBadRequest, err.Error(), "")
	}
	src, err := s.binder.BindSource(ctx, edge, r.Source)
	if err != nil {
		return api.Source{}, s.bindError(r.Source, err)
	}
	return s.view.Source(ctx, src), nil
}

func (s *Service) bindError(name string, err error) *Error {
	if errors.Is(err, sqlstore.ErrRemoved) {
		// The binder's message says when and by whom, and how to undo it.
		msg := err.Error()
		if _, rest, ok := strings.Cut(msg, ": "); ok {
			msg = rest
		}
		return refuse(http.StatusNotFound, msg, "or stop the push")
	}
	if errors.Is(err, sqlstore.ErrNotFound) {
		return refuse(http.StatusNotFound, fmt.Sprintf("source %q is not registered", name), "create it with `lmx source add "+name+"`")
	}
	if errors.Is(err, sqlstore.ErrConflict) {
		return refuse(http.StatusConflict, err.Error(), "add this edge as a feed with `lmx source set "+name+" --feeds EDGE,EDGE`, move it with --edge, or push another name")
	}
	return &Error{Status: http.StatusInternalServerError, Message: "internal error: " + err.Error(), Err: err}
}

// Accept takes one segment. The segment is listed live only once its bytes
// are all held, and acked for a recording only once it is spooled durably.
func (s *Service) Accept(ctx context.Context, up Upload) (broker.IngestReply, error) {
	var out broker.IngestReply
	edge, ierr := s.identify(up.Authorization, up.Header(broker.HeaderEdge), up.Addr)
	if ierr != nil {
		if ierr.Status == http.StatusBadRequest {
			s.drop("bad_request") // auth off, and no valid Lmx-Edge
		} else {
			s.drop("unauthorized")
		}
		return out, ierr
	}
	if err := broker.ValidateName(up.Source); err != nil {
		s.drop("bad_request")
		return out, refuse(http.StatusBadRequest, "source name: "+err.Error(), "")
	}
	// The edge is the one identify found: with a credential, Lmx-Edge
	// need not be sent.
	meta, err := ParseHeaders(func(name string) string {
		if name == broker.HeaderEdge {
			return edge
		}
		return up.Header(name)
	})
	if err != nil {
		s.drop("bad_request")
		return out, refuse(http.StatusBadRequest, err.Error(), "")
	}
	body, reason, berr := readBody(up, bodyLimit{what: "segment", max: int64(s.cfg.MaxSegmentBytes), limit: s.cfg.MaxSegmentBytes.String(),
		detail: "raise --max-segment-bytes or shorten segments"})
	if berr != nil {
		s.drop(reason)
		return out, berr
	}
	src, err := s.binder.BindSource(ctx, meta.Edge, up.Source)
	if err != nil {
		if errors.Is(err, sqlstore.ErrNotFound) {
			s.drop("unknown_source")
		}
		return out, s.bindError(up.Source, err)
	}
	if !src.Streaming && len(meta.Recordings) == 0 {
		s.drop("not_streaming")
		return out, refuse(http.StatusConflict, fmt.Sprintf("streaming is off for source %q", src.Name), "turn it on with `lmx source stream on "+src.Name+"`")
	}
	if meta.Start.IsZero() {
		meta.Start = up.Arrived.Add(-time.Duration(meta.Duration * float64(time.Second)))
	}
	iseg, err := s.initFor(src.ID, src.Name, meta.Init)
	if err != nil {
		return out, err
	}
	if s.feeds != nil && src.StandbyFeeds != "" {
		fs := feeds.Source{ID: src.ID, Name: src.Name, Feeds: src.Feeds(), Prefer: src.Prefer, SegmentLen: src.SegmentLen,
			Streaming: src.Streaming, OnDemand: src.OnDemand}
		seg := feeds.Segment{Edge: meta.Edge, Boot: meta.Boot, EdgeSeq: meta.Seq, Duration: meta.Duration, Start: meta.Start,
			Discontinuity: meta.Discontinuity, Arrived: up.Arrived, Live: meta.Live, Recordings: meta.Recordings, Data: body,
			Init: meta.Init, Rendition: meta.Rendition, RenditionSeq: meta.RenditionSeq, Variant: meta.Variant}
		if s.feeds.Admit(fs, seg) == feeds.Held {
			// A standby feed's: held for a failover, recorded only if
			// listed then. The edge may forget it: the active feed's copy
			// (or this one, on a switch) is the one kept.
			out.Acked, out.Standby = meta.Recordings, true
			s.series.In.WithLabelValues(src.Name).Inc()
			s.series.BytesIn.WithLabelValues(src.Name).Add(float64(len(body)))
			return out, nil
		}
	}
	// Recordings first: their ack is what lets the edge forget the segment.
	if len(meta.Recordings) > 0 {
		seg := recording.Segment{
			SourceID: src.ID, Edge: meta.Edge, Boot: meta.Boot, EdgeSeq: meta.Seq,
			Duration: meta.Duration, Start: meta.Start, Discontinuity: meta.Discontinuity, Arrived: up.Arrived,
			Init: iseg, Rendition: meta.Rendition, RenditionSeq: meta.RenditionSeq,
		}
		out.Acked, out.Rejected, err = s.rec.Record(ctx, seg, meta.Recordings, body)
		if err != nil {
			s.drop("spool_failed")
			s.logger.Error("recorded segment not spooled", "source", src.Name, "edge_seq", meta.Seq, "err", err)
			return out, &Error{Status: http.StatusInsufficientStorage, Message: "segment could not be stored for recording: " + err.Error(), Detail: "check the control node's data dir", Err: err}
		}
	}
	if meta.Live && src.Streaming && (!src.OnDemand || s.cfg.OnDemand == nil || s.cfg.OnDemand.Awake(src.ID)) {
		a := live.Arrival{Edge: meta.Edge, Boot: meta.Boot, EdgeSeq: meta.Seq, Duration: meta.Duration, Start: meta.Start, Discontinuity: meta.Discontinuity, Init: meta.Init,
			Rendition: meta.Rendition, RenditionSeq: meta.RenditionSeq, Variant: meta.Variant}
		var err error
		list := func() { _, err = s.live.Append(src.ID, src.Name, src.SegmentLen, a, body) }
		if s.feeds != nil && src.StandbyFeeds != "" {
			if !s.feeds.WhileActive(src.ID, meta.Edge, list) {
				// Switched away from while this upload was on its way:
				// the new feed's media is listed in its place.
				err = live.ErrStreamingOff
			}
		} else {
			list()
		}
		switch {
		case errors.Is(err, live.ErrStreamingOff):
			// Turned off (or switched away from) while this upload was on
			// its way: not an error.
		case errors.Is(err, live.ErrAlreadyListed):
			out.Live = true // sent again after a lost answer: it is live
		case err != nil:
			s.drop("live_refused")
			s.logger.Error("live segment refused", "source", src.Name, "edge_seq", meta.Seq, "bytes", len(body), "err", err)
			s.events.Emit(broker.EventSegmentDropped, broker.Event{Edge: meta.Edge, Source: src.Name, Detail: err.Error()})
			detail := "raise --live-memory, or lower --live-segments"
			if !errors.Is(err, live.ErrMemoryFull) {
				detail = "see the control node's log"
			}
			return out, &Error{Status: http.StatusInsufficientStorage, Message: "segment could not be held for live playback: " + err.Error(), Detail: detail, Err: err}
		default:
			out.Live = true
		}
	}
	s.series.In.WithLabelValues(src.Name).Inc()
	s.series.BytesIn.WithLabelValues(src.Name).Add(float64(len(body)))
	return out, nil
}
