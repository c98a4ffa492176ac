package sqlstore

import (
	"testing"
	"time"
)

func TestUpsertEdge(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)
	started := t0.Add(-time.Hour)

	e, changed, err := s.UpsertEdge(ctx, Edge{Name: "gw-1", Version: "v1", IngestAddr: ":9080", Online: true, StartedAt: started, LastSeen: t0})
	if err != nil {
		t.Fatal(err)
	}
	if !changed {
		t.Error("new online edge: changedOnline = false, want true")
	}
	if !e.FirstSeen.Equal(t0) || !e.LastSeen.Equal(t0) || !e.StartedAt.Equal(started) {
		t.Errorf("new edge times: %+v", e)
	}
	if got, err := s.GetEdge(ctx, "gw-1"); err != nil || got != e {
		t.Errorf("GetEdge = %+v, %v; want %+v", got, err, e)
	}

	t1 := t0.Add(time.Minute)
	e2, changed, err := s.UpsertEdge(ctx, Edge{Name: "gw-1", Version: "v2", IngestAddr: ":9081", Online: true, LastSeen: t1, FirstSeen: t1})
	if err != nil {
		t.Fatal(err)
	}
	if changed {
		t.Error("still online: changedOnline = true")
	}
	if !e2.FirstSeen.Equal(t0) || !e2.LastSeen.Equal(t1) || e2.Version != "v2" || e2.IngestAddr != ":9081" || !e2.StartedAt.IsZero() {
		t.Errorf("updated edge: %+v", e2)
	}
	if got, _ := s.GetEdge(ctx, "gw-1"); got != e2 {
		t.Errorf("stored %+v, returned %+v", got, e2)
	}

	_, changed, err = s.UpsertEdge(ctx, Edge{Name: "gw-1", Online: false, LastSeen: t1})
	if err != nil || !changed {
		t.Errorf("going offline: changed = %v, %v", changed, err)
	}

	// A new offline edge is no flip; LastSeen defaults to now.
	before := time.Now().Add(-time.Second)
	e3, changed, err := s.UpsertEdge(ctx, Edge{Name: "gw-0"})
	if err != nil || changed {
		t.Errorf("new offline edge: changed = %v, %v", changed, err)
	}
	if e3.LastSeen.Before(before) || !e3.FirstSeen.Equal(e3.LastSeen) || e3.LastSeen.Location() != time.UTC {
		t.Errorf("defaults: %+v", e3)
	}

	_, _, err = s.UpsertEdge(ctx, Edge{})
	wantErr(t, err, ErrInvalid, "name")

	list, err := s.ListEdges(ctx)
	if err != nil || len(list) != 2 || list[0].Name != "gw-0" || list[1].Name != "gw-1" {
		t.Errorf("ListEdges = %+v, %v; want gw-0, gw-1", list, err)
	}
}

func TestGetEdgeNotFound(t *testing.T) {
	s := newStore(t)
	_, err := s.GetEdge(t.Context(), "gw-x")
	wantErr(t, err, ErrNotFound, `edge "gw-x": not found`)
	list, err := s.ListEdges(t.Context())
	if err != nil || list == nil || len(list) != 0 {
		t.Errorf("ListEdges on an empty store = %v, %v", list, err)
	}
}

func TestSetEdgeOnline(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, _, err := s.UpsertEdge(ctx, Edge{Name: "gw", LastSeen: t0}); err != nil {
		t.Fatal(err)
	}
	changed, err := s.SetEdgeOnline(ctx, "gw", true, t0.Add(time.Second))
	if err != nil || !changed {
		t.Errorf("offline -> online: changed = %v, %v", changed, err)
	}
	changed, err = s.SetEdgeOnline(ctx, "gw", true, t0.Add(2*time.Second))
	if err != nil || changed {
		t.Errorf("online -> online: changed = %v, %v", changed, err)
	}
	// LastSeen never moves back.
	changed, err = s.SetEdgeOnline(ctx, "gw", false, t0)
	if err != nil || !changed {
		t.Errorf("online -> offline: changed = %v, %v", changed, err)
	}
	e, err := s.GetEdge(ctx, "gw")
	if err != nil || e.Online || !e.LastSeen.Equal(t0.Add(2*time.Second)) || !e.FirstSeen.Equal(t0) {
		t.Errorf("after SetEdgeOnline: %+v, %v", e, err)
	}
	// at zero means now.
	if _, err := s.SetEdgeOnline(ctx, "gw", true, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if e, _ := s.GetEdge(ctx, "gw"); time.Since(e.LastSeen) > time.Minute {
		t.Errorf("LastSeen = %v, want about now", e.LastSeen)
	}

	_, err = s.SetEdgeOnline(ctx, "nope", true, t0)
	wantErr(t, err, ErrNotFound, `edge "nope"`)
}

func TestMarkAllEdgesOffline(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	n, err := s.MarkAllEdgesOffline(ctx)
	if err != nil || n != 0 {
		t.Errorf("empty store: %d, %v", n, err)
	}
	for _, e := range []Edge{{Name: "a", Online: true}, {Name: "b", Online: true}, {Name: "c"}} {
		if _, _, err := s.UpsertEdge(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	n, err = s.MarkAllEdgesOffline(ctx)
	if err != nil || n != 2 {
		t.Errorf("MarkAllEdgesOffline = %d, %v; want 2", n, err)
	}
	list, _ := s.ListEdges(ctx)
	for _, e := range list {
		if e.Online {
			t.Errorf("edge %s still online", e.Name)
		}
	}
}
