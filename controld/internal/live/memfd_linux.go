package live

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// memfdMemory keeps a segment in a sealed memfd. Each request opens the
// memfd again through /proc/self/fd, which gives it a file description with
// its own offset: sendfile reads from the file's offset, so requests sharing
// one descriptor would race.
type memfdMemory struct {
	f    *os.File
	path string
}

// newMemfd copies data into a new memfd and seals it against change.
func newMemfd(data []byte) (memory, error) {
	fd, err := unix.MemfdCreate("lmx-live-segment", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "lmx-live-segment")
	if _, err := f.Write(data); err != nil {
		f.Close()
		return nil, fmt.Errorf("writing segment to memfd: %w", err)
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, unix.F_SEAL_SHRINK|unix.F_SEAL_GROW|unix.F_SEAL_WRITE|unix.F_SEAL_SEAL); err != nil {
		f.Close()
		return nil, fmt.Errorf("sealing memfd: %w", err)
	}
	return &memfdMemory{f: f, path: "/proc/self/fd/" + strconv.Itoa(fd)}, nil
}

func (m *memfdMemory) open() (io.ReadCloser, error) {
	fd, err := syscall.Open(m.path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("reopening live segment: %w", err)
	}
	return os.NewFile(uintptr(fd), m.path), nil
}

func (m *memfdMemory) readAt(p []byte, off int64) (int, error) { return m.f.ReadAt(p, off) }

func (m *memfdMemory) release() { m.f.Close() }

// newMemory is memfd memory when the kernel allows it, else the heap.
func newMemory(data []byte, useMemfd bool) (memory, error) {
	if useMemfd {
		return newMemfd(data)
	}
	// The caller's buffer is reused for the next request: keep a copy.
	return heapMemory(bytes.Clone(data)), nil
}

// memfdWorks reports whether memfds can be made and opened again here (a
// sandbox may forbid memfd_create or hide /proc).
func memfdWorks() error {
	m, err := newMemfd([]byte{0x47})
	if err != nil {
		return err
	}
	defer m.release()
	r, err := m.open()
	if err != nil {
		return err
	}
	return r.Close()
}
