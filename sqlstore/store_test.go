package sqlstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"
)

// newStore opens a fresh store under t.TempDir and closes it at the end.
func newStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "data", "lmx.db"), nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// wantErr fails t unless err wraps target and mentions every part.
func wantErr(t *testing.T, err, target error, parts ...string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("err = %v, want %v", err, target)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("err %q does not mention %q", err, p)
		}
	}
}

// hashOf is the SHA-256 of secret, as the store keeps it.
func hashOf(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

func pragma(t *testing.T, q queryer, name string) string {
	t.Helper()
	var v string
	if err := q.QueryRowContext(t.Context(), "PRAGMA "+name).Scan(&v); err != nil {
		t.Fatalf("PRAGMA %s: %v", name, err)
	}
	return v
}

func TestOpenCreatesDirectoryAndSetsPragmas(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	path := filepath.Join(dir, "lmx.db")
	s, err := Open(t.Context(), path, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	if s.Path() != path {
		t.Errorf("Path() = %q, want %q", s.Path(), path)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file: %v", err)
	}
	for _, c := range []struct {
		name string
		q    queryer
		want map[string]string
	}{
		{"writer", s.w, map[string]string{"journal_mode": "wal", "busy_timeout": "5000", "foreign_keys": "1", "synchronous": "1"}},
		{"reader", s.r, map[string]string{"journal_mode": "wal", "busy_timeout": "5000", "query_only": "1"}},
	} {
		for p, want := range c.want {
			if got := pragma(t, c.q, p); got != want {
				t.Errorf("%s: PRAGMA %s = %q, want %q", c.name, p, got, want)
			}
		}
	}
	if got := s.w.Stats().MaxOpenConnections; got != 1 {
		t.Errorf("writer MaxOpenConnections = %d, want 1", got)
	}
	// The read pool must not be able to write.
	if _, err := s.r.ExecContext(t.Context(), `INSERT INTO edges (name, first_seen, last_seen) VALUES ('x', 0, 0)`); err == nil {
		t.Error("insert through the read-only pool succeeded")
	}
}

func TestOpenPathWithURICharacters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "odd dir?x=1#frag%20", "lmx.db")
	s, err := Open(t.Context(), path, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if _, err := s.CreateSource(t.Context(), Source{Name: "cam"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetSource(t.Context(), "cam"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not at the literal path: %v", err)
	}
}

func TestOpenEmptyPath(t *testing.T) {
	_, err := Open(t.Context(), "", nil)
	wantErr(t, err, ErrInvalid, "path")
}

func TestCloseTwice(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "lmx.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestReopenKeepsDataAndSkipsMigrations(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "lmx.db")
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))

	s, err := Open(ctx, path, logger)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"0001_init.sql", "0002_access.sql"} {
		if !strings.Contains(logs.String(), "applied migration") || !strings.Contains(logs.String(), name) {
			t.Errorf("first open did not log migration %s: %q", name, logs.String())
		}
	}
	src, err := s.CreateSource(ctx, Source{Name: "cam-1", SegmentLen: 2})
	if err != nil {
		t.Fatal(err)
	}
	type applied struct {
		version int
		at      int64
	}
	readApplied := func(s *Store) []applied {
		rows, err := s.r.QueryContext(ctx, `SELECT version, applied_at FROM schema_migrations ORDER BY version`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []applied
		for rows.Next() {
			var a applied
			if err := rows.Scan(&a.version, &a.at); err != nil {
				t.Fatal(err)
			}
			out = append(out, a)
		}
		return out
	}
	before := readApplied(s)
	all, err := loadMigrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	if len(before) != len(all) || before[0].version != 1 || before[len(before)-1].version != all[len(all)-1].version {
		t.Fatalf("schema_migrations = %v, want versions 1 to %d", before, len(all))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	logs.Reset()
	s, err = Open(ctx, path, logger)
	if err != nil {
		t.Fatalf("re-open: %v", err)
	}
	defer s.Close()
	if strings.Contains(logs.String(), "applied migration") {
		t.Errorf("re-open applied a migration again: %q", logs.String())
	}
	if after := readApplied(s); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("schema_migrations changed on re-open: %v -> %v", before, after)
	}
	got, err := s.GetSource(ctx, "cam-1")
	if err != nil {
		t.Fatal(err)
	}
	if got != src {
		t.Errorf("after re-open got %+v, want %+v", got, src)
	}
}

func TestMigrateAppliesNewOnesInOrderAndRollsBackFailures(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	fsys := fstest.MapFS{
		"migrations/0001_init.sql":       {Data: []byte("-- already applied; would fail if re-run\nCREATE TABLE edges (x);")},
		"migrations/0002_access.sql":     {Data: []byte("-- already applied; would fail if re-run\nCREATE TABLE tokens (x);")},
		"migrations/0003_cameras.sql":    {Data: []byte("-- already applied; would fail if re-run\nCREATE TABLE removed_sources (x);")},
		"migrations/0004_feeds.sql":      {Data: []byte("-- already applied; would fail if re-run\nALTER TABLE sources ADD COLUMN prefer TEXT;")},
		"migrations/0005_fmp4.sql":       {Data: []byte("-- already applied; would fail if re-run\nCREATE INDEX segments_by_init ON segments (x);")},
		"migrations/0006_renditions.sql": {Data: []byte("-- already applied; would fail if re-run\nALTER TABLE segments ADD COLUMN rendition TEXT;")},
		"migrations/0008_third.sql":      {Data: []byte("CREATE TABLE third (a INTEGER); INSERT INTO third SELECT count(*) FROM second;")},
		"migrations/0007_second.sql":     {Data: []byte("CREATE TABLE second (a INTEGER);")},
	}
	if err := migrate(ctx, s.w, fsys, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	var n int
	if err := s.w.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil || n != 8 {
		t.Fatalf("schema_migrations rows = %d (%v), want 8", n, err)
	}

	fsys["migrations/0009_bad.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE fifth (a INTEGER); INSERT INTO nosuch VALUES (1);")}
	err := migrate(ctx, s.w, fsys, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "0009_bad.sql") {
		t.Fatalf("migrate with a bad migration: err = %v", err)
	}
	if err := s.w.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE name = 'fifth'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("failed migration left table fifth behind (%d, %v)", n, err)
	}
	if err := s.w.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = 9`).Scan(&n); err != nil || n != 0 {
		t.Errorf("failed migration was recorded (%d, %v)", n, err)
	}
}

func TestMigrateRejectsBadNamesAndNewerSchemas(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	discard := slog.New(slog.DiscardHandler)
	for name, fsys := range map[string]fstest.MapFS{
		"bad name":  {"migrations/1_init.sql": {Data: []byte("SELECT 1")}},
		"zero":      {"migrations/0000_init.sql": {Data: []byte("SELECT 1")}},
		"duplicate": {"migrations/0001_a.sql": {Data: []byte("SELECT 1")}, "migrations/0001_b.sql": {Data: []byte("SELECT 1")}},
	} {
		if err := migrate(ctx, s.w, fsys, discard); err == nil {
			t.Errorf("%s: migrate succeeded", name)
		}
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO schema_migrations VALUES (99, '0099_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	if err := migrate(ctx, s.w, migrationFiles, discard); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("migrate on a newer schema: err = %v", err)
	}
}

func TestTimesRoundTripInUTC(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	src, err := s.CreateSource(ctx, Source{Name: "cam"})
	if err != nil {
		t.Fatal(err)
	}
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	start := time.Date(2031, 7, 1, 12, 34, 56, 123456789, zone)
	rec, err := s.CreateRecording(ctx, Recording{SourceID: src.ID, StartAt: start})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.GetRecording(ctx, rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.StartAt.Equal(start) || got.StartAt.Location() != time.UTC || got.StartAt.Nanosecond() != 123456789 {
		t.Errorf("StartAt = %v (%v), want %v in UTC", got.StartAt, got.StartAt.Location(), start)
	}
	if got != rec {
		t.Errorf("read %+v, CreateRecording returned %+v", got, rec)
	}
	if !got.EndAt.IsZero() {
		t.Errorf("EndAt = %v, want zero", got.EndAt)
	}
	for _, c := range []time.Time{src.CreatedAt, src.UpdatedAt, rec.CreatedAt} {
		if c.Location() != time.UTC {
			t.Errorf("time %v not in UTC", c)
		}
	}
	_, err = s.CreateRecording(ctx, Recording{SourceID: src.ID, StartAt: time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC)})
	wantErr(t, err, ErrInvalid, "1678")
}

// TestConcurrentReadersWhileWriting hammers the store from many goroutines:
// writers serialise on the one writer connection, readers use the read-only
// pool, and nobody may see SQLITE_BUSY (or any other error).
func TestConcurrentReadersWhileWriting(t *testing.T) {
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

	const writers, perWriter, readers = 4, 40, 24
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		errs   []error
		reads  int
		stop   = make(chan struct{})
		record = func(err error) {
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		}
	)
	var writersWG sync.WaitGroup
	for w := range writers {
		writersWG.Add(1)
		go func() {
			defer writersWG.Done()
			for i := range perWriter {
				seq := uint64(w*perWriter + i)
				if err := s.AddSegment(ctx, RecordedSegment{
					SourceID: src.ID, Seq: seq, ObjectKey: fmt.Sprintf("cam/%d.ts", seq),
					Duration: 2, Bytes: 1000, StartAt: time.Now(),
				}, []string{rec.ID}); err != nil {
					record(fmt.Errorf("AddSegment %d: %w", seq, err))
				}
				if _, err := s.CreateSource(ctx, Source{Name: fmt.Sprintf("w%d-%d", w, i)}); err != nil {
					record(fmt.Errorf("CreateSource: %w", err))
				}
				if _, err := s.SetStreaming(ctx, src.ID, i%2 == 0); err != nil {
					record(fmt.Errorf("SetStreaming: %w", err))
				}
				if _, _, err := s.UpsertEdge(ctx, Edge{Name: fmt.Sprintf("edge-%d", w), Online: i%3 == 0}); err != nil {
					record(fmt.Errorf("UpsertEdge: %w", err))
				}
			}
		}()
	}
	for range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := 0
			for {
				select {
				case <-stop:
					mu.Lock()
					reads += n
					mu.Unlock()
					return
				default:
				}
				if _, err := s.ListSources(ctx, ""); err != nil {
					record(fmt.Errorf("ListSources: %w", err))
				}
				if _, err := s.GetSource(ctx, "cam"); err != nil {
					record(fmt.Errorf("GetSource: %w", err))
				}
				if _, err := s.RecordingSegments(ctx, rec.ID); err != nil {
					record(fmt.Errorf("RecordingSegments: %w", err))
				}
				if _, _, _, _, _, err := s.RecordingStats(ctx, rec.ID); err != nil {
					record(fmt.Errorf("RecordingStats: %w", err))
				}
				if _, err := s.ListEdges(ctx); err != nil {
					record(fmt.Errorf("ListEdges: %w", err))
				}
				n += 5
			}
		}()
	}
	writersWG.Wait()
	close(stop)
	wg.Wait()

	for i, err := range errs {
		if i == 10 {
			t.Errorf("... and %d more", len(errs)-10)
			break
		}
		t.Error(err)
	}
	n, _, _, _, _, err := s.RecordingStats(ctx, rec.ID)
	if err != nil || n != writers*perWriter {
		t.Errorf("recording has %d segments (%v), want %d", n, err, writers*perWriter)
	}
	t.Logf("%d reads alongside %d writes", reads, writers*perWriter*4)
}

// TestContextCancelled makes sure a cancelled context is an error, not a hang.
func TestContextCancelled(t *testing.T) {
	s := newStore(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.CreateSource(ctx, Source{Name: "cam"}); !errors.Is(err, context.Canceled) {
		t.Errorf("CreateSource with a cancelled context: err = %v", err)
	}
	if _, err := s.ListSources(ctx, ""); !errors.Is(err, context.Canceled) {
		t.Errorf("ListSources with a cancelled context: err = %v", err)
	}
	// The writer connection is still usable afterwards.
	if _, err := s.CreateSource(t.Context(), Source{Name: "cam"}); err != nil {
		t.Fatal(err)
	}
}

// TestReadersNotBlockedByWriteTransaction holds the write lock open and reads
// meanwhile: in WAL mode with a separate read pool, reads neither wait nor
// fail.
func TestReadersNotBlockedByWriteTransaction(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	src, err := s.CreateSource(ctx, Source{Name: "cam"})
	if err != nil {
		t.Fatal(err)
	}
	tx, err := s.w.BeginTx(ctx, nil) // BEGIN IMMEDIATE: takes the write lock now
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `UPDATE sources SET description = 'uncommitted' WHERE id = ?`, src.ID); err != nil {
		t.Fatal(err)
	}

	rctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := s.GetSource(rctx, src.ID)
			if err != nil {
				t.Errorf("GetSource during a write transaction: %v", err)
				return
			}
			if got.Description != "" {
				t.Errorf("reader saw uncommitted data %q", got.Description)
			}
		}()
	}
	wg.Wait()
}

// TestMigrateAccessUpgradesAnInitDatabase builds a database with 0001 only,
// as a control node before access control left it, and reopens it: 0002 adds
// the access-control tables and sources.public, and keeps what was there.
func TestMigrateAccessUpgradesAnInitDatabase(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "lmx.db")
	initSQL, err := fs.ReadFile(migrationFiles, "migrations/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open(driverName, writerDSN(path))
	if err != nil {
		t.Fatal(err)
	}
	if err := migrate(ctx, db, fstest.MapFS{"migrations/0001_init.sql": {Data: initSQL}}, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatalf("migrate 0001: %v", err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO sources (id, name, description, segment_len, streaming, edge, created_at, updated_at)
		VALUES ('s-1', 'cam', 'old', 4, 1, 'gw', 10, 20)`); err != nil {
		t.Fatal(err)
	}
	tableCount := func(q queryer, name string) int {
		t.Helper()
		var n int
		if err := q.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?`, name).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := tableCount(db, "tokens"); n != 0 {
		t.Fatalf("0001 alone made table tokens")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	var logs bytes.Buffer
	s, err := Open(ctx, path, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatalf("re-open: %v", err)
	}
	defer s.Close()
	if !strings.Contains(logs.String(), "0002_access.sql") || strings.Contains(logs.String(), "0001_init.sql") {
		t.Errorf("re-open should apply 0002 and later only: %q", logs.String())
	}
	for _, name := range []string{"tokens", "edge_credentials", "join_tokens", "grant_keys"} {
		if n := tableCount(s.r, name); n != 1 {
			t.Errorf("table %s missing after the upgrade", name)
		}
	}
	src, err := s.GetSource(ctx, "cam")
	if err != nil {
		t.Fatal(err)
	}
	want := Source{ID: "s-1", Name: "cam", Description: "old", SegmentLen: 4, Streaming: true, Edge: "gw",
		RecordMode: RecordOff, CreatedAt: fromNanos(10), UpdatedAt: fromNanos(20)}
	if src != want {
		t.Errorf("source after the upgrade = %+v, want %+v", src, want)
	}
	pub, err := setPublic(ctx, s, "s-1", true)
	if err != nil || !pub.Public {
		t.Errorf("SetSourcePublic after the upgrade = %+v, %v", pub, err)
	}
	if _, err := s.CreateToken(ctx, Token{ID: "0123456789abcdef", Name: "admin", Role: "admin", Hash: hashOf("x")}); err != nil {
		t.Errorf("CreateToken after the upgrade: %v", err)
	}
}

// TestTablesAreStrict keeps every table STRICT, so a column holds only its
// declared type.
func TestTablesAreStrict(t *testing.T) {
	s := newStore(t)
	rows, err := s.r.QueryContext(t.Context(),
		`SELECT name, strict FROM pragma_table_list WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite_%'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var name string
		var strict bool
		if err := rows.Scan(&name, &strict); err != nil {
			t.Fatal(err)
		}
		n++
		if !strict {
			t.Errorf("table %s is not STRICT", name)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 10 {
		t.Errorf("found %d tables, want at least 10", n)
	}
}

// TestAccessSchemaChecks makes sure the schema itself refuses what the
// methods validate, for rows written by hand.
func TestAccessSchemaChecks(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	h := hashOf("x")
	for _, c := range []struct {
		name string
		sql  string
		args []any
	}{
		{"token role", `INSERT INTO tokens (id, name, role, hash, created_at) VALUES ('a', 'a', 'root', ?, 0)`, []any{h}},
		{"token raw secret", `INSERT INTO tokens (id, name, role, hash, created_at) VALUES ('a', 'a', 'admin', ?, 0)`, []any{[]byte("secret")}},
		{"token hash as text", `INSERT INTO tokens (id, name, role, hash, created_at) VALUES ('a', 'a', 'admin', ?, 0)`, []any{string(h)}},
		{"credential hash without join", `INSERT INTO edge_credentials (edge, id, hash, created_at) VALUES ('e', 'i', ?, 0)`, []any{h}},
		{"join token hash", `INSERT INTO join_tokens (id, edge, hash, created_at, expires_at) VALUES ('j', 'e', ?, 0, 1)`, []any{[]byte{1}}},
		{"empty grant key", `INSERT INTO grant_keys (id, key, created_at) VALUES ('k', ?, 0)`, []any{[]byte{}}},
		{"source public", `INSERT INTO sources (id, name, public, created_at, updated_at) VALUES ('s', 's', 2, 0, 0)`, nil},
	} {
		if _, err := s.w.ExecContext(ctx, c.sql, c.args...); err == nil {
			t.Errorf("%s: insert succeeded", c.name)
		}
	}
}
