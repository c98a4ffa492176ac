// Package syncbuf is a bytes.Buffer safe for concurrent use: what a test
// hands a daemon or a logger as its output while it reads it back. Standard
// library only.
package syncbuf

import (
	"bytes"
	"sync"
)

// Buffer is written by one side (a logger, a daemon's stdout) and read by
// another (the test), concurrently. The zero value is ready to use.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String is everything written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
