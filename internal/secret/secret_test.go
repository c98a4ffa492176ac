package secret

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// testKey is a fixed, valid key: the bytes 0..31.
var testKey = func() string {
	b := make([]byte, 32)
	for i := range b {
		b[i] = byte(i)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}()

// fixed is a valid secret of kind k with a known ID and key.
func fixed(k Kind) Secret { return Secret{Kind: k, ID: "0123456789abcdef", Key: testKey} }

var kinds = []Kind{KindToken, KindEdge, KindJoin}

func TestNew(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range kinds {
		for range 20 {
			s, err := New(k)
			if err != nil {
				t.Fatalf("New(%v): %v", k, err)
			}
			str := s.String()
			if len(str) != Len {
				t.Fatalf("New(%v) = %d characters, want %d", k, len(str), Len)
			}
			if want := "lmx" + string(rune(k)) + "."; !strings.HasPrefix(str, want) {
				t.Fatalf("New(%v) does not start with %q", k, want)
			}
			if seen[s.ID] || seen[s.Key] {
				t.Fatalf("New(%v) repeated an ID or a key", k)
			}
			seen[s.ID], seen[s.Key] = true, true
			got, err := Parse(str)
			if err != nil || got != s {
				t.Fatalf("Parse(New(%v).String()) = %v, %v; want the same secret", k, Redact(got.String()), err)
			}
			if got, err := ParseKind(str, k); err != nil || got != s {
				t.Fatalf("ParseKind(New(%v).String(), %v) = %v", k, k, err)
			}
		}
	}
}

func TestNewUnknownKind(t *testing.T) {
	for _, k := range []Kind{0, 'x', 'T', 0xff} {
		if _, err := New(k); !errors.Is(err, ErrUnknownKind) {
			t.Errorf("New(%q) = %v; want ErrUnknownKind", byte(k), err)
		}
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{
		KindToken: "API token", KindEdge: "edge credential", KindJoin: "join secret", 'x': `unknown kind 'x'`,
	} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%q).String() = %q; want %q", byte(k), got, want)
		}
	}
}

func TestStringForm(t *testing.T) {
	s := fixed(KindToken)
	if got, want := s.String(), "lmxt.0123456789abcdef."+testKey; got != want {
		t.Fatalf("String() = %q; want %q", got, want)
	}
	if len(testKey) != KeyLen {
		t.Fatalf("test key is %d characters, want %d", len(testKey), KeyLen)
	}
}

func TestParseRejects(t *testing.T) {
	good := fixed(KindEdge).String()
	// nonCanonical ends in a character whose low bits would be dropped.
	nonCanonical := good[:Len-1] + "B"
	cases := []struct {
		name, in, msg string
	}{
		{"empty", "", "empty"},
		{"short", good[:Len-1], "64 characters long, want 65"},
		{"long", good + "A", "66 characters long, want 65"},
		{"trailing newline", good + "\n", "white space"},
		{"leading space", " " + good, "white space"},
		{"crlf", good + "\r\n", "white space"},
		{"wrong prefix", "lmy" + good[3:], `does not start with "lmx"`},
		{"upper prefix", "LMX" + good[3:], `does not start with "lmx"`},
		{"unknown kind", "lmxq" + good[4:], "not a known kind"},
		{"upper kind", "lmxE" + good[4:], "not a known kind"},
		{"first dot", "lmxe-" + good[5:], "separated by dots"},
		{"second dot", good[:21] + "-" + good[22:], "separated by dots"},
		{"upper hex id", "lmxe.0123456789ABCDEF." + testKey, "lowercase hex"},
		{"non-hex id", "lmxe.0123456789abcdeg." + testKey, "lowercase hex"},
		{"dot in id", "lmxe.01234567.9abcdef." + testKey, "lowercase hex"},
		{"padded key", "lmxe.0123456789abcdef." + testKey[:42] + "=", "base64url"},
		{"std base64 key", "lmxe.0123456789abcdef." + strings.Repeat("+", 42) + "A", "base64url"},
		{"newline in key", "lmxe.0123456789abcdef." + testKey[:20] + "\n" + testKey[21:], "base64url"},
		{"non-canonical key", nonCanonical, "base64url"},
		{"unicode", "lmxe.0123456789abcdef." + testKey[:41] + "é", "base64url"},
		{"join token", JoinPrefix + strings.Repeat("A", 100), "join token"},
		{"huge", strings.Repeat("a", 1<<20), "1048576 characters long"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.in)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse = %v; want ErrMalformed", err)
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Errorf("Parse error %q does not say %q", err, c.msg)
			}
			noEcho(t, err, c.in)
			if got := Redact(c.in); got != "(malformed)" {
				t.Errorf("Redact = %q; want (malformed)", got)
			}
		})
	}
}

// noEcho fails if err's message quotes any sizeable part of input or the
// test key.
func noEcho(t *testing.T, err error, input string) {
	t.Helper()
	msg := err.Error()
	for _, part := range []string{testKey[:12], testKey[len(testKey)-12:]} {
		if strings.Contains(msg, part) {
			t.Errorf("error %q quotes the key", msg)
		}
	}
	if len(input) >= 24 && strings.Contains(msg, input[len(input)-24:]) {
		t.Errorf("error %q quotes the input", msg)
	}
}

func TestParseKind(t *testing.T) {
	cases := []struct {
		have, want Kind
		msg        string
	}{
		{KindEdge, KindToken, "this is an edge credential, not an API token"},
		{KindToken, KindEdge, "this is an API token, not an edge credential"},
		{KindJoin, KindEdge, "this is a join secret, not an edge credential"},
		{KindToken, KindJoin, "this is an API token, not a join secret"},
	}
	for _, c := range cases {
		_, err := ParseKind(fixed(c.have).String(), c.want)
		if !errors.Is(err, ErrWrongKind) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("ParseKind(%v as %v) = %v; want ErrWrongKind saying %q", c.have, c.want, err, c.msg)
		}
		noEcho(t, err, fixed(c.have).String())
	}
	_, err := ParseKind(JoinPrefix+"eyJ9", KindEdge)
	if !errors.Is(err, ErrWrongKind) || !strings.Contains(err.Error(), "join token") {
		t.Errorf("ParseKind(join token, edge) = %v; want ErrWrongKind naming a join token", err)
	}
	if _, err := ParseKind("nonsense", KindToken); !errors.Is(err, ErrMalformed) {
		t.Errorf("ParseKind(nonsense) = %v; want ErrMalformed", err)
	}
}

func TestHash(t *testing.T) {
	s := fixed(KindToken)
	h := Hash(s)
	want := sha256.Sum256([]byte(s.String()))
	if !bytes.Equal(h, want[:]) {
		t.Fatalf("Hash = %x; want SHA-256 of the string form, %x", h, want)
	}
	if !Matches(s, h) {
		t.Fatal("Matches(s, Hash(s)) = false")
	}
	other := s
	other.Kind = KindEdge // same ID and key, another kind: another secret
	otherID := s
	otherID.ID = "fedcba9876543210"
	for name, bad := range map[string][]byte{
		"nil": nil, "empty": {}, "truncated": h[:31], "longer": append(bytes.Clone(h), 0),
		"flipped":    func() []byte { b := bytes.Clone(h); b[0] ^= 1; return b }(),
		"other kind": Hash(other), "other id": Hash(otherID),
	} {
		if Matches(s, bad) {
			t.Errorf("Matches(s, %s) = true", name)
		}
	}
}

func TestRedact(t *testing.T) {
	for _, k := range kinds {
		s := fixed(k)
		want := "lmx" + string(rune(k)) + ".0123456789abcdef.…"
		if got := Redact(s.String()); got != want {
			t.Errorf("Redact(%v) = %q; want %q", k, got, want)
		}
	}
	for _, bad := range []string{"", "lmx", "Bearer " + fixed(KindToken).String(), "lmxt.0123456789abcdef.short"} {
		if got := Redact(bad); got != "(malformed)" {
			t.Errorf("Redact(%q) = %q; want (malformed)", bad, got)
		}
	}
}

func TestLogValue(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	log.Info("joined", "secret", fixed(KindEdge), "zero", Secret{})
	out := buf.String()
	if strings.Contains(out, testKey) {
		t.Fatalf("log shows the key: %s", out)
	}
	if !strings.Contains(out, "lmxe.0123456789abcdef.…") || !strings.Contains(out, "(malformed)") {
		t.Fatalf("log does not show the secrets redacted: %s", out)
	}
}

func FuzzParse(f *testing.F) {
	for _, k := range kinds {
		f.Add(fixed(k).String())
	}
	f.Add("")
	f.Add("lmxt.0123456789abcdef.")
	f.Add(fixed(KindToken).String() + "\n")
	f.Fuzz(func(t *testing.T, in string) {
		// Parse refuses any other length than Len with one comparison
		// (TestParseRejects has the long inputs); letting the fuzzer keep
		// long ones only makes it spend its time minimizing them.
		if len(in) > 2*Len {
			return
		}
		s, err := Parse(in)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error does not wrap ErrMalformed: %v", err)
			}
			if len(in) >= KeyLen && strings.Contains(err.Error(), in[len(in)-KeyLen:]) {
				t.Fatalf("error quotes the input: %v", err)
			}
			if got := Redact(in); got != "(malformed)" {
				t.Fatalf("Redact of an unparsable secret = %q", got)
			}
			return
		}
		if s.String() != in {
			t.Fatalf("Parse accepted a non-canonical spelling: %q reads back as %q", in, s.String())
		}
		if again, err := ParseKind(s.String(), s.Kind); err != nil || again != s {
			t.Fatalf("ParseKind(String()) = %v", err)
		}
		if r := Redact(in); r != in[:Len-KeyLen]+"…" || strings.Contains(r, s.Key) {
			t.Fatalf("Redact = %q", r)
		}
		if !Matches(s, Hash(s)) {
			t.Fatal("Matches(s, Hash(s)) = false")
		}
	})
}

func ExampleRedact() {
	s := Secret{Kind: KindToken, ID: "0123456789abcdef", Key: testKey}
	fmt.Println(Redact(s.String()))
	// Output: lmxt.0123456789abcdef.…
}
