package grant

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// keyRing is a KeyRing in a map.
type keyRing map[string][]byte

func (k keyRing) GrantKey(id string) ([]byte, bool) {
	key, ok := k[id]
	return key, ok
}

const (
	testKID    = "0a1b2c3d"
	otherKID   = "deadbeef"
	testIssuer = "0123456789abcdef"
	testSource = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
	otherID    = "9b2c4d6e-0000-4000-8000-000000000001"
)

var (
	testKey   = bytes.Repeat([]byte{0x5a}, KeySize)
	otherKey  = bytes.Repeat([]byte{0xa5}, KeySize)
	testRing  = keyRing{testKID: testKey, otherKID: otherKey}
	testExp   = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	beforeExp = testExp.Add(-time.Hour)
)

func testClaims(scope Scope) Claims {
	return Claims{KeyID: testKID, Scope: scope, Issuer: testIssuer, Expires: testExp}
}

func mustSign(t testing.TB, c Claims, key []byte) string {
	t.Helper()
	s, err := Sign(c, key)
	if err != nil {
		t.Fatalf("Sign(%+v): %v", c, err)
	}
	return s
}

func TestRoundTrip(t *testing.T) {
	for _, scope := range []Scope{
		SourceScope(testSource), RecordingScope(testSource), SourceScope("a"), RecordingScope(strings.Repeat("-", MaxScopeIDLen)),
	} {
		c := testClaims(scope)
		s := mustSign(t, c, testKey)
		if len(s) > MaxLen || strings.ContainsAny(s, "%+/=?&# ") {
			t.Fatalf("grant %q is too long or needs escaping", s)
		}
		got, err := Verify(s, testRing, scope, beforeExp)
		if err != nil {
			t.Fatalf("Verify(%q): %v", s, err)
		}
		if got != c {
			t.Fatalf("Verify = %+v; want %+v", got, c)
		}
		pc, sig, signed, err := Parse(s)
		if err != nil || pc != c || len(sig) != sha256.Size || signed != s[:strings.LastIndexByte(s, '.')] {
			t.Fatalf("Parse(%q) = %+v, %x, %q, %v", s, pc, sig, signed, err)
		}
	}
}

func TestFormat(t *testing.T) {
	s := mustSign(t, testClaims(SourceScope(testSource)), testKey)
	want := "1.0a1b2c3d.s" + testSource + ".0123456789abcdef.1767225600."
	if !strings.HasPrefix(s, want) || len(s) != len(want)+43 {
		t.Fatalf("grant %q; want %q and 43 characters of signature", s, want)
	}
	// The longest grant there can be still fits MaxLen.
	longest := Claims{KeyID: testKID, Scope: SourceScope(strings.Repeat("z", MaxScopeIDLen)), Issuer: testIssuer, Expires: time.Unix(maxUnix, 0)}
	if n := len(mustSign(t, longest, testKey)); n != 150 || n > MaxLen {
		t.Fatalf("the longest grant is %d bytes", n)
	}
}

func TestSignTruncatesToSecond(t *testing.T) {
	c := testClaims(SourceScope(testSource))
	c.Expires = testExp.Add(999 * time.Millisecond).In(time.FixedZone("X", 3600))
	got, err := Verify(mustSign(t, c, testKey), testRing, c.Scope, beforeExp)
	if err != nil || !got.Expires.Equal(testExp) || got.Expires.Location() != time.UTC {
		t.Fatalf("Verify = %v (%v); want expiry %v in UTC", got.Expires, err, testExp)
	}
}

func TestSignRejects(t *testing.T) {
	with := func(f func(*Claims)) Claims { c := testClaims(SourceScope(testSource)); f(&c); return c }
	for name, c := range map[string]Claims{
		"short kid":        with(func(c *Claims) { c.KeyID = "0a1b2c" }),
		"upper kid":        with(func(c *Claims) { c.KeyID = "0A1B2C3D" }),
		"no scope":         with(func(c *Claims) { c.Scope = Scope{} }),
		"scope kind":       with(func(c *Claims) { c.Scope.Kind = 'x' }),
		"empty scope id":   with(func(c *Claims) { c.Scope.ID = "" }),
		"upper scope id":   with(func(c *Claims) { c.Scope.ID = strings.ToUpper(testSource) }),
		"dot in scope id":  with(func(c *Claims) { c.Scope.ID = "a.b" }),
		"long scope id":    with(func(c *Claims) { c.Scope.ID = strings.Repeat("a", MaxScopeIDLen+1) }),
		"issuer":           with(func(c *Claims) { c.Issuer = "lmxt.0123456789abcdef" }),
		"zero expiry":      with(func(c *Claims) { c.Expires = time.Time{} }),
		"epoch":            with(func(c *Claims) { c.Expires = time.Unix(0, 0) }),
		"year 10000":       with(func(c *Claims) { c.Expires = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }),
		"unicode scope id": with(func(c *Claims) { c.Scope.ID = "caf\u00e9" }),
	} {
		if _, err := Sign(c, testKey); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: Sign = %v; want ErrMalformed", name, err)
		}
	}
	for _, key := range [][]byte{nil, {}, testKey[:KeySize-1]} {
		if _, err := Sign(testClaims(SourceScope(testSource)), key); err == nil {
			t.Errorf("Sign with a %d-byte key succeeded", len(key))
		}
	}
}

// replaceField is s with its i-th dot-separated field replaced.
func replaceField(s string, i int, v string) string {
	parts := strings.Split(s, ".")
	parts[i] = v
	return strings.Join(parts, ".")
}

// wantErr fails unless err wraps want, and checks that its message quotes
// neither the grant nor its signature.
func wantErr(t *testing.T, err, want error, grant string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error %v; want %v", err, want)
	}
	msg := err.Error()
	if i := strings.LastIndexByte(grant, '.'); i >= 0 && len(grant)-i > 8 && strings.Contains(msg, grant[i+1:]) {
		t.Fatalf("error %q quotes the signature", msg)
	}
	if len(grant) > 20 && strings.Contains(msg, grant) {
		t.Fatalf("error %q quotes the grant", msg)
	}
}

func TestVerifyTampered(t *testing.T) {
	scope := SourceScope(testSource)
	good := mustSign(t, testClaims(scope), testKey)
	sig := good[strings.LastIndexByte(good, '.')+1:]
	flip := func(c byte) string {
		if c == 'A' {
			return "B"
		}
		return "A"
	}
	cases := map[string]string{
		// Each is well formed, so only the signature can tell.
		"scope id":        replaceField(good, 2, "s"+strings.Replace(testSource, "3f", "4f", 1)),
		"scope kind":      replaceField(good, 2, "r"+testSource),
		"longer scope":    replaceField(good, 2, "s"+testSource+"-0"),
		"expiry extended": replaceField(good, 4, strconv.FormatInt(testExp.Unix()+86400, 10)),
		"expiry cut":      replaceField(good, 4, strconv.FormatInt(testExp.Unix()-1, 10)),
		"issuer":          replaceField(good, 3, "fedcba9876543210"),
		"key id":          replaceField(good, 1, otherKID),
		"signature":       replaceField(good, 5, flip(sig[0])+sig[1:]),
		"signature end":   replaceField(good, 5, sig[:41]+flip(sig[41])+sig[42:]),
		"other key":       mustSign(t, testClaims(scope), otherKey),
		"zero signature":  replaceField(good, 5, base64.RawURLEncoding.EncodeToString(make([]byte, 32))),
	}
	for name, s := range cases {
		t.Run(name, func(t *testing.T) {
			if _, _, _, err := Parse(s); err != nil {
				t.Fatalf("the tampered grant does not parse: %v", err)
			}
			c, err := Verify(s, testRing, scope, beforeExp)
			wantErr(t, err, ErrBadSignature, s)
			if c != (Claims{}) {
				t.Fatalf("Verify returned claims %+v with its error", c)
			}
			// Whatever the grant claims, and whenever it is checked, a bad
			// signature is what is reported.
			for _, want := range []Scope{scope, RecordingScope(testSource), SourceScope(otherID)} {
				for _, now := range []time.Time{beforeExp, testExp.Add(48 * time.Hour)} {
					_, err := Verify(s, testRing, want, now)
					wantErr(t, err, ErrBadSignature, s)
				}
			}
		})
	}
}

func TestVerifyRejects(t *testing.T) {
	scope := SourceScope(testSource)
	good := mustSign(t, testClaims(scope), testKey)
	rec := mustSign(t, testClaims(RecordingScope(testSource)), testKey)
	cases := []struct {
		name  string
		grant string
		ring  KeyRing
		want  Scope
		now   time.Time
		err   error
		msg   string
	}{
		{"unknown key", good, keyRing{otherKID: otherKey}, scope, beforeExp, ErrUnknownKey, "key 0a1b2c3d is not one of this control node's"},
		{"no keys", good, keyRing{}, scope, beforeExp, ErrUnknownKey, "0a1b2c3d"},
		{"short key", good, keyRing{testKID: testKey[:16]}, scope, beforeExp, ErrUnknownKey, "too short"},
		{"empty key", good, keyRing{testKID: nil}, scope, beforeExp, ErrUnknownKey, "too short"},
		{"expired now", good, testRing, scope, testExp, ErrExpired, "grant expired: at 2026-01-01T00:00:00Z, 0s ago"},
		{"expired", good, testRing, scope, testExp.Add(90*time.Second + 500*time.Millisecond), ErrExpired, "at 2026-01-01T00:00:00Z, 1m30s ago"},
		{"other source", good, testRing, SourceScope(otherID), beforeExp, ErrWrongScope, "the grant is for another source"},
		{"other recording", rec, testRing, RecordingScope(otherID), beforeExp, ErrWrongScope, "the grant is for another recording"},
		{"recording as source", rec, testRing, scope, beforeExp, ErrWrongScope, "the grant is for a recording, not a source"},
		{"source as recording", good, testRing, RecordingScope(testSource), beforeExp, ErrWrongScope, "the grant is for a source, not a recording"},
		{"wrong scope and expired", good, testRing, SourceScope(otherID), testExp.Add(time.Hour), ErrWrongScope, "another source"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Verify(c.grant, c.ring, c.want, c.now)
			wantErr(t, err, c.err, c.grant)
			if !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("error %q does not say %q", err, c.msg)
			}
			if got != (Claims{}) {
				t.Fatalf("Verify returned claims %+v with its error", got)
			}
		})
	}
	if _, err := Verify(good, testRing, scope, testExp.Add(-time.Second)); err != nil {
		t.Fatalf("a grant one second before it expires: %v", err)
	}
}

func TestParseRejects(t *testing.T) {
	good := mustSign(t, testClaims(SourceScope(testSource)), testKey)
	sig := good[strings.LastIndexByte(good, '.')+1:]
	cases := []struct {
		name, in, msg string
	}{
		{"empty", "", "empty"},
		{"dot", ".", "2 dot-separated fields"},
		{"truncated by one", good[:len(good)-1], "43 base64url"},
		{"signature cut", good[:len(good)-len(sig)-1], "5 dot-separated fields"},
		{"signature empty", good[:len(good)-len(sig)], "43 base64url"},
		{"half", good[:len(good)/2], "dot-separated fields"},
		{"extra field", good + ".x", "7 dot-separated fields"},
		{"leading space", " " + good, "white space"},
		{"trailing newline", good + "\n", "white space"},
		{"tab inside", strings.Replace(good, ".", ".\t", 1), "key id"},
		{"space in scope", replaceField(good, 2, "s "+testSource), "scope"},
		{"percent-escaped", strings.Replace(good, "-", "%2D", 1), "scope"},
		{"version 2", replaceField(good, 0, "2"), "unsupported version"},
		{"version 01", replaceField(good, 0, "01"), "unsupported version"},
		{"upper kid", replaceField(good, 1, "0A1B2C3D"), "key id"},
		{"long kid", replaceField(good, 1, "0a1b2c3d0"), "key id"},
		{"empty scope", replaceField(good, 2, ""), "scope is empty"},
		{"scope kind only", replaceField(good, 2, "s"), "scope's id"},
		{"scope kind x", replaceField(good, 2, "x"+testSource), "s (a source) or r (a recording)"},
		{"scope upper", replaceField(good, 2, "S"+testSource), "s (a source) or r (a recording)"},
		{"scope id upper", replaceField(good, 2, "s"+strings.ToUpper(testSource)), "scope's id"},
		{"scope id underscore", replaceField(good, 2, "s"+strings.ReplaceAll(testSource, "-", "_")), "scope's id"},
		{"scope id too long", replaceField(good, 2, "s"+strings.Repeat("a", MaxScopeIDLen+1)), "scope's id"},
		{"issuer short", replaceField(good, 3, testIssuer[1:]), "issuer"},
		{"issuer upper", replaceField(good, 3, strings.ToUpper(testIssuer)), "issuer"},
		{"issuer secret", replaceField(good, 3, "lmxt-"+testIssuer), "issuer"},
		{"expiry empty", replaceField(good, 4, ""), "expiry"},
		{"expiry zero", replaceField(good, 4, "0"), "expiry"},
		{"expiry leading zero", replaceField(good, 4, "01767225600"), "expiry"},
		{"expiry plus", replaceField(good, 4, "+1767225600"), "expiry"},
		{"expiry minus", replaceField(good, 4, "-1767225600"), "expiry"},
		{"expiry fraction", replaceField(good, 4, "1767225600,5"), "expiry"},
		{"expiry hex", replaceField(good, 4, "0x6955b900"), "expiry"},
		{"expiry year 10000", replaceField(good, 4, "253402300800"), "expiry"},
		{"expiry overflow", replaceField(good, 4, "99999999999999999999"), "expiry"},
		{"signature padded", replaceField(good, 5, sig[:42]+"="), "43 base64url"},
		{"signature std alphabet", replaceField(good, 5, "+"+sig[1:]), "43 base64url"},
		{"signature slash", replaceField(good, 5, sig[:10]+"/"+sig[11:]), "43 base64url"},
		{"signature stray bits", replaceField(good, 5, sig[:42]+"B"), "encoding 32 bytes"},
		{"signature long", good + "AAAA", "43 base64url"},
		{"signature newline", replaceField(good, 5, sig[:20]+"\n"+sig[21:]), "43 base64url"},
		{"unicode digit", replaceField(good, 4, "١٧٦٧٢٢٥٦٠٠"), "expiry"},
		{"unicode scope", replaceField(good, 2, "s"+strings.Replace(testSource, "a", "\u0430", 1)), "scope's id"},
		{"unicode dot", strings.Replace(good, ".", "\u2024", 1), "dot-separated fields"},
		{"nul", strings.Replace(good, ".", ".\x00", 2), "key id"},
		{"too long", good + strings.Repeat("A", MaxLen-len(good)+1), "257 bytes long, at most 256"},
		{"very long", strings.Repeat(good+".", 1<<14), "at most 256"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cl, gotSig, signed, err := Parse(c.in)
			wantErr(t, err, ErrMalformed, c.in)
			if !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("error %q does not say %q", err, c.msg)
			}
			if cl != (Claims{}) || gotSig != nil || signed != "" {
				t.Fatalf("Parse returned %+v, %x, %q with its error", cl, gotSig, signed)
			}
			if _, err := Verify(c.in, testRing, SourceScope(testSource), beforeExp); !errors.Is(err, ErrMalformed) {
				t.Fatalf("Verify = %v; want ErrMalformed", err)
			}
		})
	}
}

func TestNewKey(t *testing.T) {
	seen := map[string]bool{}
	for range 20 {
		id, key, err := NewKey()
		if err != nil {
			t.Fatal(err)
		}
		if !isLowerHex(id, 8) || len(key) != KeySize {
			t.Fatalf("NewKey = %q, %d bytes", id, len(key))
		}
		if seen[id] || seen[string(key)] {
			t.Fatal("NewKey repeated an id or a key")
		}
		seen[id], seen[string(key)] = true, true
		c := Claims{KeyID: id, Scope: RecordingScope(testSource), Issuer: testIssuer, Expires: testExp}
		if _, err := Verify(mustSign(t, c, key), keyRing{id: key}, c.Scope, beforeExp); err != nil {
			t.Fatalf("a grant signed with a new key: %v", err)
		}
	}
}

func TestScopeString(t *testing.T) {
	for s, want := range map[Scope]string{
		SourceScope("a-1"): "source a-1", RecordingScope("b"): "recording b", {Kind: 'x', ID: "c"}: "unknown scope 'x' c",
	} {
		if got := s.String(); got != want {
			t.Errorf("%+v.String() = %q; want %q", s, got, want)
		}
	}
}

// sentinels are every error Verify wraps.
var sentinels = []error{ErrMalformed, ErrUnknownKey, ErrBadSignature, ErrWrongScope, ErrExpired}

func FuzzParse(f *testing.F) {
	// More seeds are in testdata/fuzz/FuzzParse.
	f.Add(mustSign(f, testClaims(SourceScope(testSource)), testKey))
	f.Add(mustSign(f, testClaims(RecordingScope("x")), otherKey))
	f.Add("1.0a1b2c3d.sx.0123456789abcdef.1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, s string) {
		c, sig, signed, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error does not wrap ErrMalformed: %v", err)
			}
			if c != (Claims{}) || sig != nil || signed != "" {
				t.Fatalf("Parse returned values with its error")
			}
			if len(s) >= 24 && strings.Contains(err.Error(), s[len(s)-24:]) {
				t.Fatalf("error quotes the grant: %v", err)
			}
			return
		}
		if len(s) > MaxLen || len(sig) != sha256.Size {
			t.Fatalf("Parse accepted %d bytes with a %d-byte signature", len(s), len(sig))
		}
		// One set of claims has one spelling: what Sign writes.
		again, err := c.signedPart()
		if err != nil {
			t.Fatalf("parsed claims cannot be signed: %v", err)
		}
		if again != signed || again+"."+base64.RawURLEncoding.EncodeToString(sig) != s {
			t.Fatalf("Parse accepted a spelling Sign does not write: %q", s)
		}
		if c.Expires.Location() != time.UTC || c.Expires.Nanosecond() != 0 {
			t.Fatalf("expiry %v", c.Expires)
		}
	})
}

func FuzzVerify(f *testing.F) {
	// More seeds are in testdata/fuzz/FuzzVerify.
	scope := SourceScope(testSource)
	f.Add(mustSign(f, testClaims(scope), testKey), beforeExp.Unix())
	f.Add(mustSign(f, testClaims(scope), testKey), testExp.Unix())
	f.Add(mustSign(f, testClaims(RecordingScope(testSource)), otherKey), beforeExp.Unix())
	f.Fuzz(func(t *testing.T, s string, nowUnix int64) {
		now := time.Unix(nowUnix, 0)
		c, err := Verify(s, testRing, scope, now)
		pc, _, _, perr := Parse(s)
		if err != nil {
			n := 0
			for _, e := range sentinels {
				if errors.Is(err, e) {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("error wraps %d of the sentinels: %v", n, err)
			}
			if c != (Claims{}) {
				t.Fatalf("Verify returned claims with its error")
			}
			if errors.Is(err, ErrMalformed) != (perr != nil) {
				t.Fatalf("Verify says %v where Parse says %v", err, perr)
			}
			// Scope and expiry are only ever judged on a genuine grant.
			if errors.Is(err, ErrWrongScope) || errors.Is(err, ErrExpired) {
				if again, _ := Sign(pc, testRing[pc.KeyID]); again != s {
					t.Fatalf("%v for a grant that is not genuine", err)
				}
			}
			return
		}
		if c.Scope != scope || !now.Before(c.Expires) || c != pc {
			t.Fatalf("Verify accepted %+v at %v", c, now)
		}
		if again, err := Sign(c, testRing[c.KeyID]); err != nil || again != s {
			t.Fatalf("Verify accepted a grant Sign does not write: %q", s)
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	scope := SourceScope(testSource)
	s := mustSign(b, testClaims(scope), testKey)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Verify(s, testRing, scope, beforeExp); err != nil {
			b.Fatal(err)
		}
	}
}

// readSeeds reads the seed files of a fuzz target as their lines of
// values, by file name.
func readSeeds(t *testing.T, target string) map[string][]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "fuzz", target, "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no seeds for %s: %v", target, err)
	}
	seeds := map[string][]string{}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if lines[0] != "go test fuzz v1" {
			t.Fatalf("%s is not a fuzz seed", name)
		}
		seeds[filepath.Base(name)] = lines[1:]
	}
	return seeds
}

// unwrap reads one value line of a seed file, such as string("x").
func unwrap(t *testing.T, line, typ string) string {
	t.Helper()
	v, ok := strings.CutPrefix(line, typ+"(")
	v, ok2 := strings.CutSuffix(v, ")")
	if !ok || !ok2 {
		t.Fatalf("seed line %q is not a %s", line, typ)
	}
	if typ == "string" {
		s, err := strconv.Unquote(v)
		if err != nil {
			t.Fatalf("seed line %q: %v", line, err)
		}
		return s
	}
	return v
}

// The seeds say, by name, what they test: valid-* verify, and the others
// fail the way their name says.
func TestFuzzSeeds(t *testing.T) {
	for name, lines := range readSeeds(t, "FuzzParse") {
		_, _, _, err := Parse(unwrap(t, lines[0], "string"))
		if (err == nil) != strings.HasPrefix(name, "valid-") {
			t.Errorf("FuzzParse seed %s: Parse = %v", name, err)
		}
	}
	want := map[string]error{
		"valid": nil, "expired": ErrExpired, "other-source": ErrWrongScope, "recording": ErrWrongScope,
		"tampered": ErrBadSignature, "unknown-key": ErrUnknownKey, "malformed": ErrMalformed,
	}
	for name, lines := range readSeeds(t, "FuzzVerify") {
		kind, _, _ := strings.Cut(name, "_")
		wantErr, ok := want[kind]
		if !ok || len(lines) != 2 {
			t.Fatalf("FuzzVerify seed %s: name it <%s>_..., with a string and an int64", name, "kind")
		}
		now, err := strconv.ParseInt(unwrap(t, lines[1], "int64"), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Verify(unwrap(t, lines[0], "string"), testRing, SourceScope(testSource), time.Unix(now, 0))
		if (wantErr == nil && err != nil) || !errors.Is(err, wantErr) {
			t.Errorf("FuzzVerify seed %s: Verify = %v; want %v", name, err, wantErr)
		}
	}
}
