package edged

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/lmx-video/lmx/broker"
)

// LiveMix's ingest headers (contract).
const (
	// HeaderSourceName names the source a pushed playlist belongs to.
	HeaderSourceName = "Video-Source-Name"
	// HeaderURIPrefix is prepended to each segment URI to find its file.
	HeaderURIPrefix = "MPEG-TS-URI-Prefix"
)

// ErrBadHeader is returned for a missing or malformed ingest header.
var ErrBadHeader = errors.New("bad ingest header")

// pushTarget is what the two LiveMix headers of one push say.
type pushTarget struct {
	// Source is the source name.
	Source string
	// Dir is the absolute directory the segment files are in.
	Dir string
}

// path is the file path of a segment named name (a plain file name).
func (t pushTarget) path(name string) string { return filepath.Join(t.Dir, name) }

// parsePushHeaders checks Video-Source-Name and MPEG-TS-URI-Prefix.
// As in LiveMix, the prefix names the directory the playlist's segment names
// are relative to: file:///dir (a plain absolute path is accepted too).
func parsePushHeaders(sourceName, prefix string) (pushTarget, error) {
	sourceName = strings.TrimSpace(sourceName)
	prefix = strings.TrimSpace(prefix)
	if sourceName == "" {
		return pushTarget{}, fmt.Errorf("%w: %s is missing", ErrBadHeader, HeaderSourceName)
	}
	if err := broker.ValidateName(sourceName); err != nil {
		return pushTarget{}, fmt.Errorf("%w: %s: %v", ErrBadHeader, HeaderSourceName, err)
	}
	if prefix == "" {
		return pushTarget{}, fmt.Errorf("%w: %s is missing (e.g. file:///path/to/segments/)", ErrBadHeader, HeaderURIPrefix)
	}
	var p string
	switch {
	case strings.HasPrefix(prefix, "file://"):
		u, err := url.Parse(prefix)
		if err != nil {
			return pushTarget{}, fmt.Errorf("%w: %s %q: %v", ErrBadHeader, HeaderURIPrefix, prefix, err)
		}
		if u.Host != "" && u.Host != "localhost" {
			return pushTarget{}, fmt.Errorf("%w: %s %q: file URL must not name a host", ErrBadHeader, HeaderURIPrefix, prefix)
		}
		if u.RawQuery != "" || u.Fragment != "" {
			return pushTarget{}, fmt.Errorf("%w: %s %q: file URL must not have a query or fragment", ErrBadHeader, HeaderURIPrefix, prefix)
		}
		p = u.Path
	case strings.HasPrefix(prefix, "/"):
		p = prefix
	case strings.Contains(prefix, "://"):
		return pushTarget{}, fmt.Errorf("%w: %s %q: only file:// prefixes are supported", ErrBadHeader, HeaderURIPrefix, prefix)
	default:
		return pushTarget{}, fmt.Errorf("%w: %s %q: must be an absolute file:// URL", ErrBadHeader, HeaderURIPrefix, prefix)
	}
	if !filepath.IsAbs(p) || strings.ContainsRune(p, 0) {
		return pushTarget{}, fmt.Errorf("%w: %s %q: must be an absolute path", ErrBadHeader, HeaderURIPrefix, prefix)
	}
	return pushTarget{Source: sourceName, Dir: filepath.Clean(p)}, nil
}
