package sqlstore

import (
	"reflect"
	"testing"
	"time"
)

func TestGrantKeys(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	keys, err := s.GrantKeys(ctx)
	if err != nil || keys == nil || len(keys) != 0 {
		t.Fatalf("empty store: %v, %v; want an empty non-nil slice", keys, err)
	}
	t0 := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC) // in the past: see the default-time add below
	k1 := GrantKey{ID: "k1", Key: []byte("key-one"), CreatedAt: t0}
	k3 := GrantKey{ID: "k3", Key: []byte("key-three"), CreatedAt: t0.Add(2 * time.Hour)}
	k2 := GrantKey{ID: "k2", Key: []byte("key-two"), CreatedAt: t0.Add(time.Hour).In(time.FixedZone("X", 3600))}
	for _, k := range []GrantKey{k1, k3, k2} {
		if err := s.AddGrantKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	keys, err = s.GrantKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	k2.CreatedAt = k2.CreatedAt.UTC()
	if want := []GrantKey{k3, k2, k1}; !reflect.DeepEqual(keys, want) {
		t.Errorf("GrantKeys = %+v, want newest first %+v", keys, want)
	}

	err = s.AddGrantKey(ctx, GrantKey{ID: "k1", Key: []byte("again")})
	wantErr(t, err, ErrConflict, `grant key "k1"`, "id is taken")
	err = s.AddGrantKey(ctx, GrantKey{Key: []byte("x")})
	wantErr(t, err, ErrInvalid, "id is empty")
	err = s.AddGrantKey(ctx, GrantKey{ID: "k4"})
	wantErr(t, err, ErrInvalid, `grant key "k4"`, "key is empty")
	err = s.AddGrantKey(ctx, GrantKey{ID: "k4", Key: []byte("x"), CreatedAt: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)})
	wantErr(t, err, ErrInvalid, "2262")
	if keys, _ := s.GrantKeys(ctx); len(keys) != 3 {
		t.Errorf("refused adds changed the keys: %+v", keys)
	}

	// CreatedAt defaults to now, which is newer than every key above.
	before := time.Now().Add(-time.Second)
	if err := s.AddGrantKey(ctx, GrantKey{ID: "k4", Key: []byte("key-four")}); err != nil {
		t.Fatal(err)
	}
	keys, _ = s.GrantKeys(ctx)
	if keys[0].ID != "k4" || keys[0].CreatedAt.Before(before) || keys[0].CreatedAt.Location() != time.UTC {
		t.Errorf("GrantKeys after a default-time add = %+v", keys)
	}
}

func TestRotateGrantKeys(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, id := range []string{"a", "b"} {
		if err := s.AddGrantKey(ctx, GrantKey{ID: id, Key: []byte(id), CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
	}
	k := GrantKey{ID: "c", Key: []byte("new"), CreatedAt: t0.Add(time.Hour)}
	if err := s.RotateGrantKeys(ctx, k); err != nil {
		t.Fatal(err)
	}
	if keys, err := s.GrantKeys(ctx); err != nil || !reflect.DeepEqual(keys, []GrantKey{k}) {
		t.Errorf("GrantKeys after rotation = %+v, %v; want only %+v", keys, err, k)
	}
	// Rotating to a key with the id of one it replaces is fine.
	same := GrantKey{ID: "c", Key: []byte("newer"), CreatedAt: t0.Add(2 * time.Hour)}
	if err := s.RotateGrantKeys(ctx, same); err != nil {
		t.Fatal(err)
	}
	if keys, _ := s.GrantKeys(ctx); !reflect.DeepEqual(keys, []GrantKey{same}) {
		t.Errorf("GrantKeys = %+v, want only %+v", keys, same)
	}
	// A refused rotation keeps the keys.
	err := s.RotateGrantKeys(ctx, GrantKey{ID: "d"})
	wantErr(t, err, ErrInvalid, "key is empty")
	if keys, _ := s.GrantKeys(ctx); !reflect.DeepEqual(keys, []GrantKey{same}) {
		t.Errorf("a refused rotation changed the keys: %+v", keys)
	}
}
