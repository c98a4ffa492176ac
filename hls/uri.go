package hls

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxSegmentURIBytes is the longest segment file name ValidateSegmentURI
// accepts: NAME_MAX on Linux and most other file systems.
const MaxSegmentURIBytes = 255

// ValidateSegmentURI reports whether uri is a plain relative file name that
// can safely be joined to a directory: not empty, at most
// MaxSegmentURIBytes, valid UTF-8, no control characters, no '/' or '\\'
// (so no path traversal on any OS), no "..", and no ':' (so no scheme).
// It also refuses '?' and '#': a player resolving the URI would treat them
// as query and fragment and ask for a different name than the file's.
// Errors wrap ErrBadSegmentURI.
func ValidateSegmentURI(uri string) error {
	bad := func(why string) error {
		return fmt.Errorf("%w: %s %s", ErrBadSegmentURI, quote(uri), why)
	}
	switch {
	case uri == "":
		return fmt.Errorf("%w: empty", ErrBadSegmentURI)
	case len(uri) > MaxSegmentURIBytes:
		return bad(fmt.Sprintf("is %d bytes, longer than %d", len(uri), MaxSegmentURIBytes))
	case !utf8.ValidString(uri):
		return bad("is not valid UTF-8")
	case uri == ".":
		return bad("names the directory itself")
	case strings.Contains(uri, ".."):
		// Any "..", not just a whole ".." element: with no separators
		// allowed, refusing the substring is simpler and loses only names
		// nobody uses.
		return bad(`contains ".."`)
	}
	for _, c := range []byte(uri) {
		switch {
		case c < 0x20 || c == 0x7f:
			return bad(fmt.Sprintf("contains control character %#02x", c))
		case c == '/' || c == '\\':
			return bad(fmt.Sprintf("contains a path separator %q", c))
		case c == ':':
			return bad("contains ':' (a scheme, or a name players would misread as one)")
		case c == '?' || c == '#':
			return bad(fmt.Sprintf("contains %q, which players read as a query or fragment", c))
		}
	}
	return nil
}
