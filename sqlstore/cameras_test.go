package sqlstore

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestSourceCameraFieldsRoundTrip(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	src, err := s.CreateSource(ctx, Source{Name: "cam", PullURL: "rtsp://u:p@10.0.0.7/s", OnDemand: true, Idle: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if src.RecordMode != RecordOff {
		t.Errorf("new source record mode = %q, want %q", src.RecordMode, RecordOff)
	}
	mode, chunk, retain := RecordAlways, 10*time.Minute, RetainForever
	if _, err := s.UpdateSource(ctx, src.ID, SourceChange{RecordMode: &mode, RecordChunk: &chunk, Retain: &retain}); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetSource(ctx, "cam")
	if err != nil {
		t.Fatal(err)
	}
	if got.PullURL != "rtsp://u:p@10.0.0.7/s" || !got.OnDemand || got.Idle != 30*time.Second ||
		got.RecordMode != RecordAlways || got.RecordChunk != chunk || got.Retain != RetainForever {
		t.Errorf("source = %+v", got)
	}
	bad := "sometimes"
	if _, err := s.UpdateSource(ctx, src.ID, SourceChange{RecordMode: &bad}); !errors.Is(err, ErrInvalid) {
		t.Errorf("record mode %q: err = %v, want ErrInvalid", bad, err)
	}
	if (SourceChange{}).Empty() != true || (SourceChange{RecordMode: &mode}).Empty() {
		t.Error("SourceChange.Empty is wrong")
	}
}

func TestRecordingPinAndContinuous(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	src, err := s.CreateSource(ctx, Source{Name: "cam"})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := s.CreateRecording(ctx, Recording{SourceID: src.ID, Continuous: true})
	if err != nil {
		t.Fatal(err)
	}
	if !rec.Continuous || rec.Pinned {
		t.Errorf("new recording = %+v", rec)
	}
	if rec, err = s.SetRecordingPinned(ctx, rec.ID, true); err != nil || !rec.Pinned {
		t.Fatalf("pin: %+v, %v", rec, err)
	}
	got, err := s.GetRecording(ctx, rec.ID)
	if err != nil || !got.Pinned || !got.Continuous {
		t.Errorf("after pin: %+v, %v", got, err)
	}
	if _, err := s.SetRecordingPinned(ctx, "nope", true); !errors.Is(err, ErrNotFound) {
		t.Errorf("pin unknown: %v", err)
	}
}

func TestDeleteSourceKeepOut(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	src, err := s.CreateSource(ctx, Source{Name: "cam1", Edge: "gw"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetRemovedSource(ctx, "cam1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("before removal: %v", err)
	}
	if err := s.DeleteSourceKeepOut(ctx, src.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetSource(ctx, "cam1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("source still there: %v", err)
	}
	r, err := s.GetRemovedSource(ctx, "cam1")
	if err != nil || r.Edge != "gw" || r.RemovedBy != "alice" || r.RemovedAt.IsZero() {
		t.Errorf("removed = %+v, %v", r, err)
	}
	if err := s.ForgetRemovedSource(ctx, "cam1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetRemovedSource(ctx, "cam1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("after forget: %v", err)
	}
	// A source with recordings stays, and nothing is remembered.
	src, _ = s.CreateSource(ctx, Source{Name: "cam2"})
	if _, err := s.CreateRecording(ctx, Recording{SourceID: src.ID}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSourceKeepOut(ctx, src.ID, ""); !errors.Is(err, ErrConflict) {
		t.Errorf("delete with recordings: %v", err)
	}
	if _, err := s.GetRemovedSource(ctx, "cam2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("failed delete remembered the name: %v", err)
	}
}

func TestSourceFeeds(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	src, err := s.CreateSource(ctx, Source{Name: "cam", Edge: "gw-1", StandbyFeeds: "gw-2,gw-3", Prefer: "gw-2"})
	if err != nil {
		t.Fatal(err)
	}
	if got := src.Feeds(); fmt.Sprint(got) != "[gw-1 gw-2 gw-3]" {
		t.Errorf("Feeds = %v", got)
	}
	for _, edge := range []string{"gw-1", "gw-2", "gw-3"} {
		by, err := s.SourcesByEdge(ctx, edge)
		if err != nil || len(by) != 1 || by[0].ID != src.ID {
			t.Errorf("SourcesByEdge(%s) = %v, %v; want the source", edge, by, err)
		}
	}
	if by, _ := s.SourcesByEdge(ctx, "gw"); len(by) != 0 {
		t.Errorf("SourcesByEdge(gw) matched a prefix: %v", by)
	}
	// Moving the source to a standby keeps the others.
	moved := "gw-3"
	src, err = s.UpdateSource(ctx, src.ID, SourceChange{Edge: &moved})
	if err != nil || fmt.Sprint(src.Feeds()) != "[gw-3 gw-2]" || src.Prefer != "gw-2" {
		t.Fatalf("after --edge gw-3: feeds %v prefer %q (%v)", src.Feeds(), src.Prefer, err)
	}
	feeds := NewEdgeList([]string{"gw-1"})
	src, err = s.UpdateSource(ctx, src.ID, SourceChange{Feeds: &feeds})
	if err != nil || fmt.Sprint(src.Feeds()) != "[gw-1]" || src.Prefer != "" {
		t.Fatalf("after feeds gw-1: feeds %v prefer %q (%v); the preferred feed left with its edge", src.Feeds(), src.Prefer, err)
	}
	bad := "gw-9"
	if _, err := s.UpdateSource(ctx, src.ID, SourceChange{Prefer: &bad}); !errors.Is(err, ErrInvalid) {
		t.Errorf("prefer a non-feed: err = %v, want ErrInvalid", err)
	}
	twice := NewEdgeList([]string{"gw-1", "gw-1"})
	if _, err := s.UpdateSource(ctx, src.ID, SourceChange{Feeds: &twice}); !errors.Is(err, ErrInvalid) {
		t.Errorf("feeds naming an edge twice: err = %v, want ErrInvalid", err)
	}
}
