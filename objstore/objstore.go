// Package objstore keeps recorded segments: one object per segment, in a
// local directory (file:///dir) or in MinIO or any S3 service
// (s3://bucket/prefix?endpoint=host:9000&secure=false) through minio-go.
package objstore

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"
)

// Sentinel errors.
var (
	// ErrNotExist is returned for a key with no object.
	ErrNotExist = errors.New("object does not exist")
	// ErrBadKey is returned for a key that is not a clean relative path.
	ErrBadKey = errors.New("bad object key")
	// ErrBadURL is returned for a store URL that cannot be used.
	ErrBadURL = errors.New("bad recordings store URL")
)

// Store holds objects by key.
type Store interface {
	// Put writes data under key, replacing any object there.
	Put(ctx context.Context, key string, data []byte) error
	// Get reads the object under key.
	Get(ctx context.Context, key string) ([]byte, error)
	// Delete removes the object under key; a missing object is not an error.
	Delete(ctx context.Context, key string) error
	// List returns the keys under prefix.
	List(ctx context.Context, prefix string) ([]string, error)
	// String describes the store without credentials.
	String() string
}

// Open opens the store a --recordings URL names. Credentials for s3:// come
// from LMX_S3_ACCESS_KEY and LMX_S3_SECRET_KEY (or AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY) through getenv, never from the URL.
func Open(ctx context.Context, raw string, getenv func(string) string) (Store, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %v", ErrBadURL, raw, err)
	}
	switch u.Scheme {
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("%w %q: file URL must not name a host (file:///abs/dir)", ErrBadURL, raw)
		}
		return NewDir(u.Path)
	case "s3":
		if u.User != nil {
			return nil, fmt.Errorf("%w: put credentials in LMX_S3_ACCESS_KEY/LMX_S3_SECRET_KEY, not in the URL", ErrBadURL)
		}
		return openS3(ctx, u, getenv)
	default:
		return nil, fmt.Errorf("%w %q: want file:///dir or s3://bucket/prefix?endpoint=host:9000", ErrBadURL, raw)
	}
}

// checkKey accepts clean relative slash-separated keys only.
func checkKey(key string) error {
	if key == "" || strings.HasPrefix(key, "/") || path.Clean(key) != key || strings.HasPrefix(key, "../") || key == ".." || strings.ContainsAny(key, "\\\x00") {
		return fmt.Errorf("%w %q", ErrBadKey, key)
	}
	return nil
}
