package sqlstore

import "context"

// SourceChange is an operator's change to a source: nil fields keep their value.
type SourceChange struct {
	// Public opens or closes the source's playback to anyone.
	Public *bool
	// Edge moves the source to another edge.
	Edge *string
	// Description replaces the description.
	Description *string
}

// UpdateSource applies c to the source with the given id in one write.
func (s *Store) UpdateSource(ctx context.Context, id string, c SourceChange) (Source, error) {
	return s.updateSource(ctx, id, func(src *Source) {
		if c.Public != nil {
			src.Public = *c.Public
		}
		if c.Edge != nil {
			src.Edge = *c.Edge
		}
		if c.Description != nil {
			src.Description = *c.Description
		}
	})
}

// PublicSourceIDs lists the ids of the sources anyone may watch.
func (s *Store) PublicSourceIDs(ctx context.Context) ([]string, error) {
	srcs, err := s.ListSources(ctx, "")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, src := range srcs {
		if src.Public {
			out = append(out, src.ID)
		}
	}
	return out, nil
}
