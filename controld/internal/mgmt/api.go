// Package mgmt is the control node's management API (LiveMix-compatible
// JSON on net/http): sources, streaming, edges, recordings, the event
// stream, health and metrics. Every answer is an api.*Reply.
package mgmt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/controld/internal/auth"
	"github.com/lmx-video/lmx/controld/internal/envelope"
	"github.com/lmx-video/lmx/controld/internal/live"
	"github.com/lmx-video/lmx/sqlstore"
)

// Store is the state the API reads and changes.
type Store interface {
	CreateSource(ctx context.Context, src sqlstore.Source) (sqlstore.Source, error)
	ListSources(ctx context.Context, nameFilter string) ([]sqlstore.Source, error)
	GetSource(ctx context.Context, idOrName string) (sqlstore.Source, error)
	DeleteSource(ctx context.Context, id string) error
	UpdateSource(ctx context.Context, id string, c sqlstore.SourceChange) (sqlstore.Source, error)
	GetEdge(ctx context.Context, name string) (sqlstore.Edge, error)
	SetStreaming(ctx context.Context, id string, on bool) (sqlstore.Source, error)
	ListEdges(ctx context.Context) ([]sqlstore.Edge, error)
	ActiveRecordings(ctx context.Context, sourceID string) ([]sqlstore.Recording, error)
	CreateRecording(ctx context.Context, rec sqlstore.Recording) (sqlstore.Recording, error)
	StopRecording(ctx context.Context, id string, at time.Time) (sqlstore.Recording, error)
	ListRecordings(ctx context.Context, f sqlstore.RecordingFilter) ([]sqlstore.Recording, error)
	GetRecording(ctx context.Context, id string) (sqlstore.Recording, error)
	DeleteRecording(ctx context.Context, id string) ([]string, error)
	RecordingSegments(ctx context.Context, id string) ([]sqlstore.RecordedSegment, error)
	SetRecordingPinned(ctx context.Context, id string, pinned bool) (sqlstore.Recording, error)
	DeleteSourceKeepOut(ctx context.Context, id, by string) error
	ForgetRemovedSource(ctx context.Context, name string) error
}

// Edges is what the API needs of the edge tracker.
type Edges interface {
	Status(edge string) (broker.EdgeStatus, time.Time, bool)
	PublishDesired(ctx context.Context, edges ...string)
	// LastPush is when a push last registered or uploaded the source name.
	LastPush(source string) time.Time
}

// LiveWindows is what the API needs of the live windows.
type LiveWindows interface {
	Get(idOrName string) (*live.Stream, bool)
	// Renditions are an adaptive-bitrate source's windows.
	Renditions(idOrName string) []*live.Stream
	Allow(id string)
	Close(id string)
}

// OnDemand knows which on-demand sources are awake (ondemand.Demand).
type OnDemand interface {
	Awake(sourceID string) bool
	// Forget drops a source from the awake set: it was removed, turned
	// off or is no longer on demand (the API changes its live window and
	// desired state itself).
	Forget(sourceID string)
}

// Objects deletes recorded objects.
type Objects interface {
	RemoveObjects(ctx context.Context, keys []string) int
}

// Emitter records what happened.
type Emitter interface {
	Emit(kind string, ev broker.Event)
}

// Config is what the API needs to know of the node.
type Config struct {
	// PublicURL is how players reach the playback listener.
	PublicURL string
	// Join is how edges reach the node, for join tokens.
	Join JoinInfo
	// Defaults fill what a source leaves at 0.
	Defaults SourceDefaults
	// NoAutoRegister is true when pushes never register a name by
	// themselves: removing a source still pushed is then no surprise.
	NoAutoRegister bool
}

// Deps are the API's collaborators.
type Deps struct {
	Store   Store
	Edges   Edges
	Live    LiveWindows
	Objects Objects
	Events  Emitter
	// Access checks credentials and keeps them; nil means auth is off
	// (--auth none): every request may do everything.
	Access Access
	// Gate slows down addresses that fail authentication (nil with Access).
	Gate *auth.Gate
	// Stream serves GET /v1/events.
	Stream EventStream
	// Metrics serves GET /metrics.
	Metrics http.Handler
	// Ready is closed once the node serves.
	Ready <-chan struct{}
	// OnDemand says which on-demand sources are awake (nil: none is).
	OnDemand OnDemand
	// Continuous is told when a source's record settings change (nil: no
	// continuous recording).
	Continuous Poker
	// Feeds shows multi-feed sources' feeds (nil: none shown).
	Feeds FeedView
}

// Poker is a component that makes a pass when told something changed.
type Poker interface {
	Poke()
}

// API is the management API.
type API struct {
	cfg    Config
	d      Deps
	logger *slog.Logger
	now    func() time.Time
}

// maxJSONBody bounds a management request body.
const maxJSONBody = 64 << 10

// New returns the API.
func New(cfg Config, d Deps, logger *slog.Logger) *API {
	return &API{cfg: cfg, d: d, logger: logger, now: time.Now}
}

// methodsFor lists the methods another route takes on r's path, for a 405
// instead of a 404 when only the method is wrong.
func methodsFor(mux *http.ServeMux, r *http.Request) []string {
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := mux.Handler(probe); pattern != "/" && pattern != "" {
			out = append(out, m)
		}
	}
	return out
}

func health(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"success":true,"status":"ok"}` + "\n"))
}

func (a *API) ready(w http.ResponseWriter, r *http.Request) {
	select {
	case <-a.d.Ready:
	default:
		envelope.Fail(w, r, http.StatusServiceUnavailable, "starting", "")
		return
	}
	if _, err := a.d.Store.ListEdges(r.Context()); err != nil {
		envelope.Fail(w, r, http.StatusServiceUnavailable, "state store not answering: "+err.Error(), "")
		return
	}
	envelope.Write(w, http.StatusOK, api.StatusReply{Envelope: envelope.OK(w, r), Status: "ready"})
}

// decodeJSON reads a bounded JSON body into v, answering the client's mistakes.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxJSONBody))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		envelope.Fail(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is over %d bytes", maxJSONBody), "")
		return false
	case err != nil:
		envelope.Fail(w, r, http.StatusBadRequest, "reading request body: "+err.Error(), "")
		return false
	}
	if err := json.Unmarshal(body, v); err != nil {
		envelope.Fail(w, r, http.StatusBadRequest, "request body is not valid JSON: "+err.Error(), "")
		return false
	}
	return true
}

// storeError answers a store error: 400, 404 and 409 are the client's; anything else is ours.
func (a *API) storeError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, sqlstore.ErrNotFound):
		envelope.Fail(w, r, http.StatusNotFound, err.Error(), "")
	case errors.Is(err, sqlstore.ErrConflict):
		envelope.Fail(w, r, http.StatusConflict, err.Error(), "")
	case errors.Is(err, sqlstore.ErrInvalid):
		envelope.Fail(w, r, http.StatusBadRequest, err.Error(), "")
	default:
		a.internalError(w, r, err)
	}
}

// internalError answers 500 for a fault of the control node itself. A
// request its client gave up on is no fault: it is logged at debug level.
func (a *API) internalError(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil && errors.Is(err, context.Canceled) {
		a.logger.Debug("request abandoned by its client", "method", r.Method, "path", r.URL.Path, "err", err)
		envelope.Fail(w, r, 499, "request cancelled", "")
		return
	}
	a.logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	envelope.Fail(w, r, http.StatusInternalServerError, "internal error: "+err.Error(), "")
}
