package sqlstore

import (
	"context"
	"time"
)

// SourceChange is an operator's change to a source: nil fields keep their value.
type SourceChange struct {
	// Public opens or closes the source's playback to anyone.
	Public *bool
	// Edge moves the source to another edge.
	Edge *string
	// Description replaces the description.
	Description *string
	// PullURL sets ("" clears) what the bound edge's ffmpeg reads.
	PullURL *string
	// OnDemand turns on-demand upload on or off.
	OnDemand *bool
	// Idle sets how long an on-demand source uploads after the last
	// playlist request (0: the node's default).
	Idle *time.Duration
	// RecordMode sets RecordOff or RecordAlways.
	RecordMode *string
	// RecordChunk sets the continuous-recording chunk (0: the node's default).
	RecordChunk *time.Duration
	// Retain sets how long recordings are kept (0: the node's default,
	// RetainForever: for good).
	Retain *time.Duration
	// Feeds replaces the edges allowed to feed the source, in order: the
	// first becomes Edge (applied after Edge).
	Feeds *EdgeList
	// Prefer sets ("" clears) the preferred feed (applied after Feeds).
	Prefer *string
}

// Empty reports whether c changes nothing.
func (c SourceChange) Empty() bool { return c == SourceChange{} }

// UpdateSource applies c to the source with the given id in one write.
func (s *Store) UpdateSource(ctx context.Context, id string, c SourceChange) (Source, error) {
	return s.updateSource(ctx, id, c.Apply)
}

// Apply sets on src what c changes (for a source being made, or stored by
// UpdateSource).
func (c SourceChange) Apply(src *Source) {
	if c.Public != nil {
		src.Public = *c.Public
	}
	if c.Edge != nil {
		// Moving the source keeps its other feeds; the new first feed is
		// no standby of itself.
		var rest []string
		for _, f := range src.StandbyFeeds.Names() {
			if f != *c.Edge {
				rest = append(rest, f)
			}
		}
		src.Edge, src.StandbyFeeds = *c.Edge, NewEdgeList(rest)
		if *c.Edge == "" {
			src.StandbyFeeds = ""
		}
	}
	if c.Description != nil {
		src.Description = *c.Description
	}
	if c.PullURL != nil {
		src.PullURL = *c.PullURL
	}
	if c.OnDemand != nil {
		src.OnDemand = *c.OnDemand
	}
	if c.Idle != nil {
		src.Idle = *c.Idle
	}
	if c.RecordMode != nil {
		src.RecordMode = *c.RecordMode
	}
	if c.RecordChunk != nil {
		src.RecordChunk = *c.RecordChunk
	}
	if c.Retain != nil {
		src.Retain = *c.Retain
	}
	if c.Feeds != nil {
		src.SetFeeds(c.Feeds.Names())
	}
	if c.Prefer != nil {
		src.Prefer = *c.Prefer
	}
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
