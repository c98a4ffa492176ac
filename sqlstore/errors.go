package sqlstore

import (
	"errors"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Sentinel errors. Returned errors wrap them with a message naming the
// record, e.g. `source "cam-1": not found`.
var (
	// ErrNotFound means the edge, source, recording, token or credential
	// asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means the change clashes with what is stored: a name that is
	// taken, a recording already stopped, a source still referenced by
	// recordings, a token already revoked, a join token already used.
	ErrConflict = errors.New("conflict")
	// ErrInvalid means the caller passed a value the store cannot keep, such as
	// an empty name or a negative duration.
	ErrInvalid = errors.New("invalid")
	// ErrExpired means a join token was presented after it expired. It is
	// none of the above: the request was well formed and the token exists,
	// but its time is up.
	ErrExpired = errors.New("expired")
	// ErrRemoved means a source name was removed by an operator while an
	// edge still pushed it (DeleteSourceKeepOut): it is not registered
	// again by a push until an operator adds it. Errors that wrap it wrap
	// ErrNotFound too, so callers that only know "unknown source" still
	// refuse the push.
	ErrRemoved = errors.New("removed")
)

// sqliteCode returns the extended SQLite result code of err, or 0 when err
// does not come from SQLite.
func sqliteCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()
	}
	return 0
}

// isUniqueViolation reports whether err is a UNIQUE or PRIMARY KEY constraint
// failure.
func isUniqueViolation(err error) bool {
	switch sqliteCode(err) {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return true
	}
	return false
}
