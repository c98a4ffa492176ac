// Package sqlstore keeps the control node's state in SQLite: edges, sources,
// recordings and the recorded segments they point at, and the access-control
// state (API tokens, edge credentials and join tokens, grant keys). The
// secrets clients present are never stored, only their SHA-256 hashes.
//
// It uses modernc.org/sqlite (pure Go, no cgo). The database runs in WAL mode;
// every write goes through a single writer connection, and reads go through a
// separate pool of read-only connections, so readers never wait on — or fail
// with SQLITE_BUSY because of — the writer. The schema is created and upgraded
// by numbered SQL migrations embedded in the binary.
//
// Times are stored as integer nanoseconds since the Unix epoch and always come
// back in UTC, exact to the nanosecond. A zero time.Time is stored as NULL and
// comes back as the zero time.
//
// Errors that callers are expected to act on wrap one of [ErrNotFound],
// [ErrConflict], [ErrInvalid] or [ErrExpired]; test for them with errors.Is.
package sqlstore
