package objstore

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
)

func TestDir(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	s, err := Open(ctx, "file://"+root, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "rec/src/1.ts", []byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "rec/src/2.ts", []byte("two")); err != nil {
		t.Fatal(err)
	}
	if b, err := s.Get(ctx, "rec/src/1.ts"); err != nil || string(b) != "one" {
		t.Fatalf("get: %q %v", b, err)
	}
	keys, err := s.List(ctx, "rec/")
	if err != nil || !slices.Equal(keys, []string{"rec/src/1.ts", "rec/src/2.ts"}) {
		t.Fatalf("list: %v %v", keys, err)
	}
	if err := s.Delete(ctx, "rec/src/1.ts"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "rec/src/1.ts"); err != nil {
		t.Fatalf("deleting a missing object: %v", err)
	}
	if _, err := s.Get(ctx, "rec/src/1.ts"); !errors.Is(err, ErrNotExist) {
		t.Fatalf("get deleted: %v", err)
	}
	for _, bad := range []string{"", "/abs", "../x", "a/../../x", "a//b", "a\\b"} {
		if err := s.Put(ctx, bad, nil); !errors.Is(err, ErrBadKey) {
			t.Errorf("Put(%q) = %v; want ErrBadKey", bad, err)
		}
	}
	if _, err := filepath.Abs(root); err != nil {
		t.Fatal(err)
	}
}

func TestOpenErrors(t *testing.T) {
	env := func(string) string { return "" }
	for _, raw := range []string{"ftp://x", "file://host/dir", "s3://", "s3://bucket", "s3://user:pw@bucket?endpoint=h:9000", "s3://bucket?endpoint=h:9000"} {
		if _, err := Open(context.Background(), raw, env); !errors.Is(err, ErrBadURL) {
			t.Errorf("Open(%q) = %v; want ErrBadURL", raw, err)
		}
	}
}
