package cli

import (
	"context"
	"time"

	"github.com/lmx-video/lmx/api"
)

// Client is the part of the control node's management API the commands use.
// Commands ask for it by this type; *api.Client satisfies it and tests pass a
// fake. Add methods here as commands come to need them.
type Client interface {
	ListSources(ctx context.Context, name string) ([]api.Source, error)
	GetSource(ctx context.Context, idOrName string) (api.Source, error)
	CreateSource(ctx context.Context, s api.NewSource) (api.Source, error)
	DeleteSource(ctx context.Context, idOrName string, force bool) error
	SetStreaming(ctx context.Context, idOrName string, on bool) (api.Source, error)
	ListEdges(ctx context.Context) ([]api.Edge, error)
	StartRecording(ctx context.Context, source string, r api.NewRecording) (api.Recording, error)
	StopRecording(ctx context.Context, id string) (api.Recording, error)
	ListRecordings(ctx context.Context, source string, activeOnly bool) ([]api.Recording, error)
	GetRecording(ctx context.Context, id string) (api.Recording, error)
	DeleteRecording(ctx context.Context, id string, force bool) error
	PinRecording(ctx context.Context, id string, pinned bool) (api.Recording, error)

	UpdateSource(ctx context.Context, idOrName string, u api.SourceUpdate) (api.Source, error)
	SourceGrant(ctx context.Context, source string, ttl time.Duration) (api.Grant, error)
	RecordingGrant(ctx context.Context, id string, ttl time.Duration) (api.Grant, error)
	AddEdge(ctx context.Context, e api.NewEdge) (api.EdgeJoinReply, error)
	GetEdge(ctx context.Context, name string) (api.Edge, error)
	RevokeEdge(ctx context.Context, name string) (api.Edge, error)
	RestoreEdge(ctx context.Context, name string) (api.Edge, error)
	CreateToken(ctx context.Context, t api.NewToken) (api.Token, string, error)
	ListTokens(ctx context.Context) ([]api.Token, error)
	RevokeToken(ctx context.Context, name string) (api.Token, error)
}

var _ Client = (*api.Client)(nil)
