package edged

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestAllowedDirs(t *testing.T) {
	base := t.TempDir()
	allowed := filepath.Join(base, "allowed")
	outside := filepath.Join(base, "outside")
	for _, d := range []string{allowed, outside, filepath.Join(allowed, "sub")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(allowed, "a.ts"), "inside")
	write(filepath.Join(outside, "secret.ts"), "secret")
	if err := os.Symlink(outside, filepath.Join(allowed, "link-out")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "secret.ts"), filepath.Join(allowed, "file-out.ts")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a.ts", filepath.Join(allowed, "file-in.ts")); err != nil {
		t.Fatal(err)
	}
	a, err := openAllowed([]string{allowed})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()

	if err := a.checkDir(allowed); err != nil {
		t.Errorf("allowed dir refused: %v", err)
	}
	if err := a.checkDir(filepath.Join(allowed, "sub")); err != nil {
		t.Errorf("sub dir refused: %v", err)
	}
	for _, d := range []string{outside, "/etc", filepath.Join(allowed, ".."), filepath.Join(allowed, "link-out")} {
		if err := a.checkDir(d); !errors.Is(err, ErrOutsideAllowed) {
			t.Errorf("checkDir(%s) = %v; want ErrOutsideAllowed", d, err)
		}
	}
	if b, err := a.readFile(filepath.Join(allowed, "a.ts"), 100); err != nil || string(b) != "inside" {
		t.Errorf("readFile inside = %q, %v", b, err)
	}
	if b, err := a.readFile(filepath.Join(allowed, "file-in.ts"), 100); err != nil || string(b) != "inside" {
		t.Errorf("relative symlink staying inside = %q, %v", b, err)
	}
	// An absolute symlink is refused even when it points inside: os.Root
	// cannot tell where it lands without leaving the root.
	if err := os.Symlink(filepath.Join(allowed, "a.ts"), filepath.Join(allowed, "abs-in.ts")); err != nil {
		t.Fatal(err)
	}
	if _, err := a.readFile(filepath.Join(allowed, "abs-in.ts"), 100); err == nil {
		t.Error("absolute symlink read; want refusal")
	}
	for _, p := range []string{filepath.Join(allowed, "file-out.ts"), filepath.Join(allowed, "link-out", "secret.ts"), filepath.Join(outside, "secret.ts")} {
		if b, err := a.readFile(p, 100); err == nil {
			t.Errorf("readFile(%s) read %q; want refusal", p, b)
		}
	}
	if _, err := a.readFile(filepath.Join(allowed, "a.ts"), 3); !errors.Is(err, ErrSegmentTooLarge) {
		t.Errorf("size limit: %v", err)
	}
	if _, err := a.readFile(filepath.Join(allowed, "missing.ts"), 100); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}
