package bytesize

import "testing"

func TestParse(t *testing.T) {
	for in, want := range map[string]Size{
		"256MiB": 256 << 20, "8MB": 8_000_000, "1048576": 1 << 20, "1.5KiB": 1536, "2G": 2 << 30, "0": 0, " 4 KiB ": 4096,
	} {
		got, err := Parse(in)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "abc", "-1MiB", "12XB", "1e30GiB"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) succeeded, want error", bad)
		}
	}
}

func TestString(t *testing.T) {
	for s, want := range map[Size]string{256 << 20: "256MiB", 1536: "1536B", 4 << 30: "4GiB", 0: "0B", 3 << 10: "3KiB"} {
		if got := s.String(); got != want {
			t.Errorf("%d.String() = %q; want %q", int64(s), got, want)
		}
	}
}
