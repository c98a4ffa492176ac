package hls

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// lineState is what both playlist parsers track of the lines read.
type lineState struct {
	m3uLine  int // line of #EXTM3U, 0 until seen
	lastLine int
}

// lineHandler takes a playlist's lines once readLines has checked them.
type lineHandler interface {
	// tag handles a line starting with #EXT, uri a URI line (comments and
	// blanks never reach either).
	tag(n int, s string) error
	uri(n int, s string) error
}

// readLines reads a playlist of at most maxBytes (ErrTooLarge beyond) and
// hands each line, numbered from 1, to h: blanks (and the CR of CRLF)
// carry no meaning and are skipped (RFC 8216 4.1), as are comments; the
// first line must be #EXTM3U; invalid UTF-8 and control characters are a
// *SyntaxError, since they would survive into re-rendered playlists and
// could split a line for another parser. what names the playlist in a
// read error.
func readLines(r io.Reader, maxBytes int64, what string, st *lineState, h lineHandler) error {
	// Read one byte past the limit to tell "exactly maxBytes" from "more".
	body, err := io.ReadAll(io.LimitReader(r, maxBytes+1))
	if err != nil {
		return fmt.Errorf("hls: reading %s: %w", what, err)
	}
	if int64(len(body)) > maxBytes {
		return fmt.Errorf("%w: body exceeds %d bytes", ErrTooLarge, maxBytes)
	}
	for n := 1; len(body) > 0; n++ {
		var raw []byte
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			raw, body = body[:i], body[i+1:]
		} else {
			raw, body = body, nil
		}
		if err := st.line(n, string(raw), h); err != nil {
			return err
		}
		st.lastLine = n
	}
	return nil
}

// line checks line number n and hands it on.
func (st *lineState) line(n int, s string, h lineHandler) error {
	s = strings.Trim(s, " \t\r")
	if s == "" {
		return nil
	}
	if !utf8.ValidString(s) {
		return &SyntaxError{Line: n, Msg: "invalid UTF-8 in " + quote(s)}
	}
	for _, c := range []byte(s) {
		if (c < 0x20 && c != '\t') || c == 0x7f {
			return &SyntaxError{Line: n, Msg: fmt.Sprintf("control character %#02x in %s", c, quote(s))}
		}
	}
	if st.m3uLine == 0 {
		if s != tagM3U {
			return &SyntaxError{Line: n, Msg: "playlist must start with #EXTM3U, found " + quote(s)}
		}
		st.m3uLine = n
		return nil
	}
	switch {
	case strings.HasPrefix(s, "#EXT"):
		return h.tag(n, s)
	case strings.HasPrefix(s, "#"):
		return nil // a comment
	default:
		return h.uri(n, s)
	}
}
