package cli

import (
	"context"

	"github.com/lmx-video/lmx/api"
)

// Client is the part of the control node's management API the commands use.
// Commands ask for it by this type; *api.Client satisfies it and tests pass a
// fake. Add methods here as commands come to need them.
type Client interface {
	ListSources(ctx context.Context, name string) ([]api.Source, error)
	GetSource(ctx context.Context, idOrName string) (api.Source, error)
	CreateSource(ctx context.Context, s api.NewSource) (api.Source, error)
	DeleteSource(ctx context.Context, idOrName string) error
	SetStreaming(ctx context.Context, idOrName string, on bool) (api.Source, error)
	ListEdges(ctx context.Context) ([]api.Edge, error)
	StartRecording(ctx context.Context, source string, r api.NewRecording) (api.Recording, error)
	StopRecording(ctx context.Context, id string) (api.Recording, error)
	ListRecordings(ctx context.Context, source string, activeOnly bool) ([]api.Recording, error)
	GetRecording(ctx context.Context, id string) (api.Recording, error)
	DeleteRecording(ctx context.Context, id string, force bool) error
}

var _ Client = (*api.Client)(nil)
