//go:build !linux

package live

import (
	"bytes"
	"errors"
)

// newMemory keeps segments on the heap: memfd is Linux's.
func newMemory(data []byte, _ bool) (memory, error) { // The caller's buffer is reused for the next request: keep a copy.
	return heapMemory(bytes.Clone(data)), nil
}

func memfdWorks() error { return errors.New("memfd is Linux only") }
