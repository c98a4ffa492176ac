package controld

import (
	"context"
	"errors"
	"time"

	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/sqlstore"
)

// edgeView is the newest status an edge reported, kept in memory.
type edgeView struct {
	status   broker.EdgeStatus
	lastSeen time.Time
}

// onEdgeStatus records an edge's retained status or Last Will.
func (s *Server) onEdgeStatus(topic string, payload []byte) {
	name, _, err := broker.ParseEdgeTopic(topic)
	if err != nil || len(payload) == 0 {
		return
	}
	var st broker.EdgeStatus
	if err := broker.Decode(payload, &st); err != nil || st.Edge != name {
		s.logger.Warn("ignoring edge status", "edge", name, "err", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	now := time.Now()
	s.mu.Lock()
	s.edges[name] = &edgeView{status: st, lastSeen: now}
	s.mu.Unlock()
	s.hub.publish("edge.status", payload)
	_, flipped, err := s.store.UpsertEdge(ctx, sqlstore.Edge{
		Name: name, Version: st.Version, IngestAddr: st.IngestAddr, Online: st.Online, StartedAt: st.StartedAt, LastSeen: now,
	})
	if err != nil {
		s.logger.Warn("store edge status", "edge", name, "err", err)
		return
	}
	if flipped {
		s.edgeFlipped(name, st.Online)
	}
	if !st.Online {
		return
	}
	for _, src := range st.Sources {
		s.bindSource(ctx, name, src.Name)
	}
}

func (s *Server) edgeFlipped(name string, online bool) {
	if online {
		s.logger.Info("edge online", "edge", name)
		s.event(broker.EventEdgeOnline, broker.Event{Edge: name})
	} else {
		s.logger.Info("edge offline", "edge", name)
		s.event(broker.EventEdgeOffline, broker.Event{Edge: name})
	}
	s.updateEdgeGauge()
}

func (s *Server) updateEdgeGauge() {
	s.mu.Lock()
	n := 0
	for _, e := range s.edges {
		if e.status.Online {
			n++
		}
	}
	s.mu.Unlock()
	s.metrics.edgesOnline.Set(float64(n))
}

// bindSource makes sure source is known and bound to edge: the edge that
// pushes a source is the one the control node tells to stream it.
func (s *Server) bindSource(ctx context.Context, edge, name string) (sqlstore.Source, error) {
	src, err := s.store.GetSource(ctx, name)
	switch {
	case errors.Is(err, sqlstore.ErrNotFound):
		if s.cfg.NoAutoRegister {
			return sqlstore.Source{}, err
		}
		var created bool
		src, created, err = s.store.EnsureSource(ctx, name, edge, 0)
		if err != nil {
			return src, err
		}
		if created {
			s.logger.Info("source registered on first push", "source", name, "edge", edge)
			s.event(broker.EventSourceAdded, broker.Event{Edge: edge, Source: name})
		}
	case err != nil:
		return src, err
	}
	if src.Edge != edge {
		old := src.Edge
		if src, err = s.store.SetSourceEdge(ctx, src.ID, edge); err != nil {
			return src, err
		}
		s.event(broker.EventSourceEdgeAssigned, broker.Event{Edge: edge, Source: name, Detail: "was " + old})
		s.publishDesired(ctx, edge)
		if old != "" {
			s.publishDesired(ctx, old)
		}
	}
	return src, nil
}

// stoppedRecordingGrace is how long a stopped recording stays in an edge's
// desired state, so segments the edge buffered before the stop still arrive.
const stoppedRecordingGrace = 5 * time.Minute

// publishDesired writes edge's retained desired state from the store.
func (s *Server) publishDesired(ctx context.Context, edge string) {
	if edge == "" {
		return
	}
	srcs, err := s.store.SourcesByEdge(ctx, edge)
	if err != nil {
		s.logger.Warn("desired state", "edge", edge, "err", err)
		return
	}
	d := broker.Desired{V: broker.Version, Edge: edge, Generation: time.Now().UnixNano(), Sources: map[string]broker.DesiredSource{}}
	for _, src := range srcs {
		ds := broker.DesiredSource{Stream: src.Streaming}
		recs, err := s.store.ListRecordings(ctx, sqlstore.RecordingFilter{SourceID: src.ID})
		if err != nil {
			s.logger.Warn("desired state", "edge", edge, "err", err)
			return
		}
		for _, r := range recs {
			// Stopped recordings stay listed for a while with their end, so
			// the edge still sends what it buffered before the stop.
			if r.Active || time.Since(r.EndAt) < stoppedRecordingGrace {
				ds.Recordings = append(ds.Recordings, broker.DesiredRecording{ID: r.ID, Since: r.StartAt, Until: r.EndAt})
			}
		}
		d.Sources[src.Name] = ds
	}
	s.publish(broker.EdgeDesiredTopic(edge), broker.Encode(d), true, broker.DesiredQoS)
}

func (s *Server) republishDesired(ctx context.Context) error {
	edges, err := s.store.ListEdges(ctx)
	if err != nil {
		return err
	}
	for _, e := range edges {
		s.publishDesired(ctx, e.Name)
	}
	return nil
}

// watchEdges marks an edge offline when its heartbeats stop even though no
// Last Will arrived (for example a broker restart lost the session).
func (s *Server) watchEdges(ctx context.Context) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		var stale []string
		s.mu.Lock()
		for name, e := range s.edges {
			every := time.Duration(e.status.HeartbeatEvery)
			if every <= 0 {
				every = 5 * time.Second
			}
			if e.status.Online && now.Sub(e.lastSeen) > 3*every+5*time.Second {
				e.status.Online = false
				stale = append(stale, name)
			}
		}
		s.mu.Unlock()
		for _, name := range stale {
			if changed, err := s.store.SetEdgeOnline(ctx, name, false, now); err == nil && changed {
				s.edgeFlipped(name, false)
			}
		}
	}
}

// edgeStatus returns the newest status of edge, if any.
func (s *Server) edgeStatus(edge string) (broker.EdgeStatus, time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.edges[edge]
	if !ok {
		return broker.EdgeStatus{}, time.Time{}, false
	}
	return e.status, e.lastSeen, true
}
