package live

import (
	"bytes"
	"io"
	"sync"
)

// Segment is one live segment's bytes, written once when it arrives and
// only read after. On Linux the bytes live in a sealed memfd, page-cache
// memory outside the Go heap: a player's request gets its own descriptor of
// it and the kernel sends the bytes with sendfile, so serving a segment
// copies nothing in user space. Elsewhere (or where memfd is not allowed)
// the bytes are an immutable heap slice.
type Segment struct {
	// Seq is the segment's media sequence number in its window.
	Seq uint64
	// Size is its length in bytes.
	Size int64
	// Init is the id of the fMP4 init segment it follows, "" for MPEG-TS.
	Init string

	mu     sync.RWMutex // held for reading while a request opens the memory
	closed bool
	mem    memory
}

// memory is where a segment's bytes are: a memfd or a heap slice.
type memory interface {
	// open returns a reader positioned at the start, with its own offset.
	open() (io.ReadCloser, error)
	// readAt reads like io.ReaderAt.
	readAt(p []byte, off int64) (int, error)
	// release frees the memory; no open or readAt follows.
	release()
}

// Open returns the segment's bytes as a reader of its own (an *os.File for
// memfd memory, which the HTTP layer hands to sendfile), or ErrGone once the
// segment has been released. The caller closes it.
func (s *Segment) Open() (io.ReadCloser, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrGone
	}
	return s.mem.open()
}

// ReadAt reads part of the segment (for Range requests), or fails with
// ErrGone once it has been released.
func (s *Segment) ReadAt(p []byte, off int64) (int, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return 0, ErrGone
	}
	return s.mem.readAt(p, off)
}

// release frees the segment's memory once no Open is in progress; readers
// already open keep their own reference until they close.
func (s *Segment) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		s.mem.release()
	}
}

// heapMemory keeps a segment in an immutable slice.
type heapMemory []byte

func (h heapMemory) open() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(h)), nil }

func (h heapMemory) readAt(p []byte, off int64) (int, error) {
	return bytes.NewReader(h).ReadAt(p, off)
}

func (heapMemory) release() {}
