package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// driverName is the database/sql name modernc.org/sqlite registers.
const driverName = "sqlite"

// busyTimeoutMillis is how long a connection waits for a lock before SQLITE_BUSY.
const busyTimeoutMillis = 5000

// Store is the control node's SQLite database. It is safe for concurrent use.
type Store struct {
	path   string
	w      *sql.DB // the one writer connection
	r      *sql.DB // read-only pool
	log    *slog.Logger
	now    func() time.Time
	closer sync.Once
	cerr   error
}

// Open opens (creating it and its directory if missing) the database at path,
// applies any migrations not yet applied, and returns the Store. logger may
// be nil, in which case the store logs nothing.
func Open(ctx context.Context, path string, logger *slog.Logger) (*Store, error) {
	if path == "" {
		return nil, fmt.Errorf("%w database path: empty", ErrInvalid)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: database path %q: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
		return nil, fmt.Errorf("sqlstore: create database directory: %w", err)
	}

	s := &Store{path: path, log: logger, now: func() time.Time { return time.Now().UTC().Round(0) }}

	s.w, err = sql.Open(driverName, writerDSN(abs))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open %s: %w", path, err)
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxLifetime(0)
	s.w.SetConnMaxIdleTime(0)
	if err := s.checkWriter(ctx); err != nil {
		_ = s.w.Close()
		return nil, fmt.Errorf("sqlstore: open %s: %w", path, err)
	}
	if err := migrate(ctx, s.w, migrationFiles, s.log); err != nil {
		_ = s.w.Close()
		return nil, fmt.Errorf("sqlstore: migrate %s: %w", path, err)
	}

	// The read-only pool is opened only now: mode=ro cannot create the file,
	// and the writer has already switched it to WAL.
	s.r, err = sql.Open(driverName, readerDSN(abs))
	if err != nil {
		_ = s.w.Close()
		return nil, fmt.Errorf("sqlstore: open %s read-only: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	s.r.SetMaxOpenConns(n)
	s.r.SetMaxIdleConns(n)
	s.r.SetConnMaxIdleTime(5 * time.Minute)
	if err := s.r.PingContext(ctx); err != nil {
		_ = s.r.Close()
		_ = s.w.Close()
		return nil, fmt.Errorf("sqlstore: open %s read-only: %w", path, err)
	}
	return s, nil
}

// writerDSN is the DSN of the writer connection. The pragmas are in the DSN
// so that they hold on every connection database/sql (re)opens.
func writerDSN(abs string) string {
	return fileURI(abs, []string{
		"_pragma=busy_timeout(" + strconv.Itoa(busyTimeoutMillis) + ")",
		"_pragma=journal_mode(WAL)",
		"_pragma=foreign_keys(1)",
		"_pragma=synchronous(NORMAL)",
		// Take the write lock at BEGIN, not at the first write: a deferred
		// transaction that reads first can fail to upgrade with SQLITE_BUSY
		// without ever calling the busy handler.
		"_txlock=immediate",
	})
}

// readerDSN is the DSN of the read-only pool. journal_mode is a property of
// the file (set by the writer), so it is not repeated here.
func readerDSN(abs string) string {
	return fileURI(abs, []string{
		"mode=ro",
		"_pragma=busy_timeout(" + strconv.Itoa(busyTimeoutMillis) + ")",
		"_pragma=query_only(1)",
	})
}

// fileURI builds a SQLite URI filename for abs with the given query
// parameters; the path is escaped so '?', '#' and '%' in it are safe.
func fileURI(abs string, params []string) string {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}
	if !strings.HasPrefix(u.Path, "/") { // Windows: C:/x -> /C:/x
		u.Path = "/" + u.Path
	}
	return u.String() + "?" + strings.Join(params, "&")
}

// checkWriter opens the writer connection and makes sure the pragmas took.
func (s *Store) checkWriter(ctx context.Context) error {
	var mode string
	if err := s.w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal_mode is %q, not WAL (is the file on a network file system?)", mode)
	}
	var fk int
	if err := s.w.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
		return err
	}
	if fk != 1 {
		return errors.New("foreign_keys could not be enabled")
	}
	return nil
}

// Path returns the database path given to Open.
func (s *Store) Path() string { return s.path }

// Close closes the database. Later calls return the first call's result.
func (s *Store) Close() error {
	s.closer.Do(func() {
		// Readers first, so that the writer is the last connection and
		// checkpoints the WAL into the main file as it closes.
		s.cerr = errors.Join(s.r.Close(), s.w.Close())
	})
	return s.cerr
}

// write runs fn in a transaction on the writer connection and commits it when
// fn returns nil. fn must use only tx: the writer has one connection, so
// touching s.w inside fn would wait for itself.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: commit: %w", err)
	}
	return nil
}

// read runs fn in a read-only transaction on the reader pool, so that every
// query fn makes sees the same snapshot of the database.
func (s *Store) read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("sqlstore: begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	return fn(tx)
}

// queryer is what reads need: a *sql.DB, *sql.Tx or *sql.Conn.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// rowScanner is a *sql.Row or *sql.Rows.
type rowScanner interface {
	Scan(dest ...any) error
}

// queryAll runs query on q and scans every row with scan.
func queryAll[T any](ctx context.Context, q queryer, scan func(rowScanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: %w", err)
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: %w", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: %w", err)
	}
	return out, nil
}
