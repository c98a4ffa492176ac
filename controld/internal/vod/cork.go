package vod

import (
	"io"
	"net"
	"os"
)

// corkedFile sends a file body (a live segment's memfd) with the answer's
// headers held back until the body follows them, as nginx's tcp_nopush
// does: the headers and the first bytes of the segment leave in one packet
// instead of a packet of their own. The player then wakes up once per
// segment rather than once for the headers and again for the body, which
// on loopback measured as a third more segments per second for the same
// client (docs/benchmarks.md).
//
// fasthttp calls WriteTo with its body writer; handing that writer the
// *os.File keeps fasthttp's own path to sendfile (it flushes the headers,
// then lets net.TCPConn.ReadFrom send the file).
type corkedFile struct {
	f    *os.File
	conn *net.TCPConn
}

func (c *corkedFile) Read(p []byte) (int, error) { return c.f.Read(p) }

func (c *corkedFile) Close() error { return c.f.Close() }

// WriteTo sends the file with the connection corked, and uncorks it after,
// which sends what is left at once.
func (c *corkedFile) WriteTo(w io.Writer) (int64, error) {
	rf, ok := w.(io.ReaderFrom)
	if !ok {
		return io.Copy(w, c.f)
	}
	if err := setCork(c.conn, true); err != nil {
		return rf.ReadFrom(c.f)
	}
	n, err := rf.ReadFrom(c.f)
	if uerr := setCork(c.conn, false); err == nil {
		err = uerr
	}
	return n, err
}

// withCork wraps a segment's file for a plain TCP connection; anything else
// (TLS, a heap segment) is sent as it is.
func withCork(r readCloser, conn net.Conn) readCloser {
	f, ok := r.(*os.File)
	tc, tcp := conn.(*net.TCPConn)
	if !ok || !tcp || !corkWorks {
		return r
	}
	return &corkedFile{f: f, conn: tc}
}
