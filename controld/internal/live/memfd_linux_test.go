package live

import (
	"io"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// TestMemfdSegmentsAreSealedFiles: on Linux a live segment opens as an
// *os.File of its own (what fasthttp hands to sendfile), each with its own
// offset, and its memory cannot be changed once written.
func TestMemfdSegmentsAreSealedFiles(t *testing.T) {
	r := testRegistry(t, 3, 64<<20)
	if !r.useMemfd {
		t.Skip("memfd is not allowed here")
	}
	data := randomBytes(300_000, 3)
	seq, err := r.Append("id", "cam", 2, arrival(1), data)
	if err != nil {
		t.Fatal(err)
	}
	ls, _ := r.Get("id")
	seg, _ := ls.Segment(seq)
	a, _ := seg.Open()
	b, _ := seg.Open()
	defer a.Close()
	defer b.Close()
	fa, ok := a.(*os.File)
	if !ok {
		t.Fatalf("a memfd segment opens as %T, not *os.File: sendfile cannot take it", a)
	}
	// Reading one descriptor does not move the other's offset.
	if _, err := io.CopyN(io.Discard, a, 100_000); err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(b); len(got) != len(data) {
		t.Fatalf("second reader got %d bytes, want %d: offsets are shared", len(got), len(data))
	}
	seals, err := unix.FcntlInt(fa.Fd(), unix.F_GET_SEALS, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := unix.F_SEAL_WRITE | unix.F_SEAL_GROW | unix.F_SEAL_SHRINK | unix.F_SEAL_SEAL
	if seals&want != want {
		t.Fatalf("seals %#x, want %#x", seals, want)
	}
}
