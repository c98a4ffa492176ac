package edged

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Sentinel errors for reading segment files.
var (
	// ErrOutsideAllowed means a path is not inside any allowed directory.
	ErrOutsideAllowed = errors.New("path is outside the allowed directories")
	// ErrSegmentTooLarge means a segment file is over the size limit.
	ErrSegmentTooLarge = errors.New("segment file is too large")
)

// allowedDirs reads files only inside the operator's allowed directories.
// It opens them through os.Root, so neither "../" nor a symlink that points
// out of the directory can reach a file outside it.
type allowedDirs struct {
	// mu guards the lists: the edge adds its own pull directory while
	// pushes are read.
	mu    sync.RWMutex
	roots []*os.Root
	paths []string
}

func openAllowed(dirs []string) (*allowedDirs, error) {
	a := &allowedDirs{}
	for _, d := range dirs {
		r, err := os.OpenRoot(d)
		if err != nil {
			a.Close()
			return nil, fmt.Errorf("allowed dir %q: %w", d, err)
		}
		a.roots = append(a.roots, r)
		a.paths = append(a.paths, filepath.Clean(d))
	}
	return a, nil
}

// add allows dir too (the edge's own directory for pulled cameras).
func (a *allowedDirs) add(dir string) error {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	a.mu.Lock()
	a.roots = append(a.roots, r)
	a.paths = append(a.paths, filepath.Clean(dir))
	a.mu.Unlock()
	return nil
}

// Close releases the directory handles.
func (a *allowedDirs) Close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, r := range a.roots {
		r.Close()
	}
}

// locate finds the allowed directory that holds the absolute path p, and
// p's path relative to it.
func (a *allowedDirs) locate(p string) (*os.Root, string, error) {
	p = filepath.Clean(p)
	a.mu.RLock()
	defer a.mu.RUnlock()
	for i, d := range a.paths {
		rel, err := filepath.Rel(d, p)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
			continue
		}
		return a.roots[i], rel, nil
	}
	return nil, "", fmt.Errorf("%w: %s", ErrOutsideAllowed, p)
}

// checkDir reports whether dir is an existing directory inside an allowed
// directory, following symlinks only as far as they stay inside.
func (a *allowedDirs) checkDir(dir string) error {
	root, rel, err := a.locate(dir)
	if err != nil {
		return err
	}
	fi, err := root.Stat(rel)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("directory %s does not exist", dir)
		}
		return fmt.Errorf("%w: %s: %v", ErrOutsideAllowed, dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	return nil
}

// readFile reads the file at absolute path p, at most limit bytes.
func (a *allowedDirs) readFile(p string, limit int64) ([]byte, error) {
	root, rel, err := a.locate(p)
	if err != nil {
		return nil, err
	}
	f, err := root.Open(rel)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", p)
	}
	if fi.Size() > limit {
		return nil, fmt.Errorf("%w: %s is %d bytes, limit %d", ErrSegmentTooLarge, p, fi.Size(), limit)
	}
	buf := make([]byte, 0, fi.Size())
	n, err := io.Copy(sliceWriter{&buf}, io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, fmt.Errorf("%w: %s grew past %d bytes", ErrSegmentTooLarge, p, limit)
	}
	return buf, nil
}

type sliceWriter struct{ b *[]byte }

func (w sliceWriter) Write(p []byte) (int, error) {
	*w.b = append(*w.b, p...)
	return len(p), nil
}
