package sqlstore

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestCreateAndGetSource(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	before := time.Now()
	src, err := s.CreateSource(ctx, Source{
		ID: "ignored", Name: "cam-1", Description: "front door", SegmentLen: 4, Streaming: true, Edge: "gw-1",
		CreatedAt: time.Unix(1, 0),
	})
	if err != nil {
		t.Fatal(err)
	}
	id, err := uuid.Parse(src.ID)
	if err != nil || id.Version() != 4 {
		t.Errorf("ID %q is not a UUIDv4 (%v)", src.ID, err)
	}
	if src.CreatedAt.Before(before.Add(-time.Second)) || !src.CreatedAt.Equal(src.UpdatedAt) {
		t.Errorf("times not assigned: %+v", src)
	}
	if src.Name != "cam-1" || src.Description != "front door" || src.SegmentLen != 4 || !src.Streaming || src.Edge != "gw-1" {
		t.Errorf("fields not kept: %+v", src)
	}
	for _, key := range []string{src.ID, "cam-1"} {
		got, err := s.GetSource(ctx, key)
		if err != nil {
			t.Fatalf("GetSource(%q): %v", key, err)
		}
		if got != src {
			t.Errorf("GetSource(%q) = %+v, want %+v", key, got, src)
		}
	}

	_, err = s.GetSource(ctx, "nope")
	wantErr(t, err, ErrNotFound, `source "nope": not found`)

	_, err = s.CreateSource(ctx, Source{Name: "cam-1"})
	wantErr(t, err, ErrConflict, `"cam-1"`, "already exists")
	_, err = s.CreateSource(ctx, Source{})
	wantErr(t, err, ErrInvalid, "name")
	_, err = s.CreateSource(ctx, Source{Name: "x", SegmentLen: -1})
	wantErr(t, err, ErrInvalid, "segment_len")
}

func TestGetSourcePrefersIDOverName(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	a, err := s.CreateSource(ctx, Source{Name: "a"})
	if err != nil {
		t.Fatal(err)
	}
	// A source whose name is another source's id.
	b, err := s.CreateSource(ctx, Source{Name: a.ID})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.GetSource(ctx, a.ID)
	if err != nil || got.ID != a.ID {
		t.Errorf("GetSource(a.ID) = %+v, %v; want source a", got, err)
	}
	if got, err := s.GetSource(ctx, b.ID); err != nil || got.ID != b.ID {
		t.Errorf("GetSource(b.ID) = %+v, %v; want source b", got, err)
	}
}

func TestListSources(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	got, err := s.ListSources(ctx, "")
	if err != nil || got == nil || len(got) != 0 {
		t.Fatalf("empty store: %v, %v; want an empty non-nil slice", got, err)
	}
	for _, n := range []string{"cam-b", "cam-c", "cam-a"} {
		if _, err := s.CreateSource(ctx, Source{Name: n}); err != nil {
			t.Fatal(err)
		}
	}
	got, err = s.ListSources(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if names(got) != "cam-a,cam-b,cam-c" {
		t.Errorf("ListSources = %s, want ordered by name", names(got))
	}
	got, err = s.ListSources(ctx, "cam-b")
	if err != nil || names(got) != "cam-b" {
		t.Errorf("ListSources(cam-b) = %s, %v", names(got), err)
	}
	got, err = s.ListSources(ctx, "cam") // exact, not a prefix
	if err != nil || len(got) != 0 {
		t.Errorf("ListSources(cam) = %s, %v; want none", names(got), err)
	}
}

func names(srcs []Source) string {
	out := ""
	for i, s := range srcs {
		if i > 0 {
			out += ","
		}
		out += s.Name
	}
	return out
}

func TestSetStreamingAndEdge(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	src, err := s.CreateSource(ctx, Source{Name: "cam"})
	if err != nil {
		t.Fatal(err)
	}
	on, err := s.SetStreaming(ctx, src.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	if !on.Streaming || on.UpdatedAt.Before(src.UpdatedAt) || !on.CreatedAt.Equal(src.CreatedAt) {
		t.Errorf("SetStreaming(true) = %+v", on)
	}
	again, err := s.SetStreaming(ctx, src.ID, true)
	if err != nil || again != on {
		t.Errorf("SetStreaming(true) again = %+v, %v; want unchanged %+v", again, err, on)
	}
	if got, _ := s.GetSource(ctx, src.ID); got != on {
		t.Errorf("stored %+v, returned %+v", got, on)
	}
	off, err := s.SetStreaming(ctx, src.ID, false)
	if err != nil || off.Streaming {
		t.Errorf("SetStreaming(false) = %+v, %v", off, err)
	}

	withEdge, err := s.SetSourceEdge(ctx, src.ID, "gw-1")
	if err != nil || withEdge.Edge != "gw-1" {
		t.Errorf("SetSourceEdge = %+v, %v", withEdge, err)
	}
	if got, _ := s.GetSource(ctx, "cam"); got != withEdge {
		t.Errorf("stored %+v, returned %+v", got, withEdge)
	}

	_, err = s.SetStreaming(ctx, "missing", true)
	wantErr(t, err, ErrNotFound, `source "missing"`)
	_, err = s.SetSourceEdge(ctx, "missing", "gw")
	wantErr(t, err, ErrNotFound, `source "missing"`)
	// Methods taking an id do not accept a name.
	_, err = s.SetStreaming(ctx, "cam", true)
	wantErr(t, err, ErrNotFound, `source "cam"`)
}

func TestSourcesByEdge(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	for _, c := range []struct {
		name, edge string
		streaming  bool
	}{
		{"b", "gw-1", true}, {"a", "gw-1", false}, {"c", "gw-1", true}, {"d", "gw-2", true}, {"e", "", true},
	} {
		if _, err := s.CreateSource(ctx, Source{Name: c.name, Edge: c.edge, Streaming: c.streaming}); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.SourcesByEdge(ctx, "gw-1")
	if err != nil || names(all) != "a,b,c" {
		t.Errorf("SourcesByEdge(gw-1) = %s, %v", names(all), err)
	}
	streaming, err := s.StreamingSourcesByEdge(ctx, "gw-1")
	if err != nil || names(streaming) != "b,c" {
		t.Errorf("StreamingSourcesByEdge(gw-1) = %s, %v", names(streaming), err)
	}
	none, err := s.StreamingSourcesByEdge(ctx, "gw-9")
	if err != nil || none == nil || len(none) != 0 {
		t.Errorf("StreamingSourcesByEdge(gw-9) = %v, %v; want empty", none, err)
	}
}

func TestEnsureSource(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	src, created, err := s.EnsureSource(ctx, "cam", "gw-1", 2)
	if err != nil || !created || src.Name != "cam" || src.Edge != "gw-1" || src.SegmentLen != 2 || src.Streaming {
		t.Fatalf("EnsureSource new = %+v, %v, %v", src, created, err)
	}
	again, created, err := s.EnsureSource(ctx, "cam", "gw-2", 6)
	if err != nil || created || again != src {
		t.Errorf("EnsureSource existing = %+v, %v, %v; want unchanged %+v", again, created, err, src)
	}

	// A source created through the API has no edge until one pushes it.
	api, err := s.CreateSource(ctx, Source{Name: "api", SegmentLen: 4})
	if err != nil {
		t.Fatal(err)
	}
	got, created, err := s.EnsureSource(ctx, "api", "gw-3", 2)
	if err != nil || created || got.ID != api.ID || got.Edge != "gw-3" || got.SegmentLen != 4 {
		t.Errorf("EnsureSource(api) = %+v, %v, %v; want edge filled in", got, created, err)
	}
	if stored, _ := s.GetSource(ctx, api.ID); stored != got {
		t.Errorf("stored %+v, returned %+v", stored, got)
	}

	_, _, err = s.EnsureSource(ctx, "", "gw", 2)
	wantErr(t, err, ErrInvalid)
}

func TestDeleteSource(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	src, err := s.CreateSource(ctx, Source{Name: "cam"})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := s.CreateRecording(ctx, Recording{SourceID: src.ID})
	if err != nil {
		t.Fatal(err)
	}
	err = s.DeleteSource(ctx, src.ID)
	wantErr(t, err, ErrConflict, `source "cam"`, "1 recording")
	if _, err := s.DeleteRecording(ctx, rec.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSource(ctx, src.ID); err != nil {
		t.Fatalf("DeleteSource: %v", err)
	}
	_, err = s.GetSource(ctx, src.ID)
	wantErr(t, err, ErrNotFound)
	err = s.DeleteSource(ctx, src.ID)
	wantErr(t, err, ErrNotFound, src.ID)
	// The name is free again.
	if _, err := s.CreateSource(ctx, Source{Name: "cam"}); err != nil {
		t.Errorf("re-create after delete: %v", err)
	}
}

func TestSourcePublic(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	src, err := s.CreateSource(ctx, Source{Name: "cam", Description: "d", SegmentLen: 2, Streaming: true, Edge: "gw"})
	if err != nil {
		t.Fatal(err)
	}
	if src.Public {
		t.Errorf("a new source is public: %+v", src)
	}
	pub, err := setPublic(ctx, s, src.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	want := src
	want.Public, want.UpdatedAt = true, pub.UpdatedAt
	if pub != want || pub.UpdatedAt.Before(src.UpdatedAt) {
		t.Errorf("UpdateSource(public=true) = %+v, want %+v", pub, want)
	}
	if got, _ := s.GetSource(ctx, "cam"); got != pub {
		t.Errorf("stored %+v, returned %+v", got, pub)
	}
	again, err := setPublic(ctx, s, src.ID, true)
	if err != nil || again != pub {
		t.Errorf("UpdateSource(public=true) again = %+v, %v; want unchanged %+v", again, err, pub)
	}

	// Every other change and every listing keeps Public.
	if got, err := s.SetStreaming(ctx, src.ID, false); err != nil || !got.Public {
		t.Errorf("SetStreaming = %+v, %v; want still public", got, err)
	}
	if got, err := s.SetSourceEdge(ctx, src.ID, "gw-2"); err != nil || !got.Public {
		t.Errorf("SetSourceEdge = %+v, %v; want still public", got, err)
	}
	if got, _, err := s.EnsureSource(ctx, "cam", "gw-3", 6); err != nil || !got.Public {
		t.Errorf("EnsureSource = %+v, %v; want still public", got, err)
	}
	if _, err := s.SetStreaming(ctx, src.ID, true); err != nil {
		t.Fatal(err)
	}
	for name, list := range map[string]func() ([]Source, error){
		"ListSources":            func() ([]Source, error) { return s.ListSources(ctx, "") },
		"SourcesByEdge":          func() ([]Source, error) { return s.SourcesByEdge(ctx, "gw-2") },
		"StreamingSourcesByEdge": func() ([]Source, error) { return s.StreamingSourcesByEdge(ctx, "gw-2") },
	} {
		got, err := list()
		if err != nil || len(got) != 1 || !got[0].Public {
			t.Errorf("%s = %+v, %v; want the public source", name, got, err)
		}
	}

	off, err := setPublic(ctx, s, src.ID, false)
	if err != nil || off.Public {
		t.Errorf("UpdateSource(public=false) = %+v, %v", off, err)
	}
	// CreateSource keeps Public as given.
	if got, err := s.CreateSource(ctx, Source{Name: "open", Public: true}); err != nil || !got.Public {
		t.Errorf("CreateSource(Public) = %+v, %v", got, err)
	} else if stored, _ := s.GetSource(ctx, got.ID); stored != got {
		t.Errorf("stored %+v, returned %+v", stored, got)
	}

	_, err = setPublic(ctx, s, "missing", true)
	wantErr(t, err, ErrNotFound, `source "missing"`)
	_, err = setPublic(ctx, s, "cam", true) // an id, not a name
	wantErr(t, err, ErrNotFound, `source "cam"`)
}

// setPublic is UpdateSource changing Public only, as PATCH /v1/source does.
func setPublic(ctx context.Context, s *Store, id string, public bool) (Source, error) {
	return s.UpdateSource(ctx, id, SourceChange{Public: &public})
}
