package sqlstore

import (
	"database/sql"
	"fmt"
	"time"
)

// Times are stored as INTEGER nanoseconds since the Unix epoch. That keeps
// them exact, sortable in SQL and independent of time zones; the price is the
// range of an int64 (years 1678 to 2262), which check enforces.

// toNanos converts t for storage in a NOT NULL column.
func toNanos(t time.Time) int64 { return t.UnixNano() }

// toNullNanos converts t for storage in a nullable column: the zero time is
// stored as NULL.
func toNullNanos(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixNano(), Valid: true}
}

// fromNanos is the inverse of toNanos; the result is in UTC.
func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

// fromNullNanos is the inverse of toNullNanos.
func fromNullNanos(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return fromNanos(n.Int64)
}

// checkTime returns an ErrInvalid error when t is neither zero nor
// representable as int64 nanoseconds since the epoch.
func checkTime(what string, t time.Time) error {
	if t.IsZero() || time.Unix(0, t.UnixNano()).Equal(t) {
		return nil
	}
	return fmt.Errorf("%w %s: time %s is outside the years 1678-2262", ErrInvalid, what, t.Format(time.RFC3339Nano))
}

// utc normalises t for the caller: UTC, without a monotonic clock reading, so
// that what a method returns equals what a later read returns.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Round(0)
}
