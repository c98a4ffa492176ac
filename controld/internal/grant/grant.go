// Package grant signs and checks playback grants: the signed, expiring
// permission to play one live source or one recording that travels as the
// grant query parameter (api.GrantParam) on playback URLs.
//
// A grant reads, with no characters that need escaping in a URL,
//
//	1.<kid>.<scope kind><scope id>.<issuer>.<expiry>.<signature>
//
// that is: the format version; the signing key's id (8 lowercase hex
// digits); the scope, 's' and a source id or 'r' and a recording id; the
// issuer, the ID of the API token that minted it (16 lowercase hex
// digits); the expiry in unix seconds; and the unpadded base64url
// HMAC-SHA256, under the key named by kid, of everything before the last
// dot. For example:
//
//	1.0a1b2c3d.s3f2504e0-4f89-11d3-9a0c-0305e82c3301.0123456789abcdef.1767225600.<43 characters>
package grant

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Format limits.
const (
	// Version is the format version, the grant's first field.
	Version = "1"
	// MaxLen bounds a grant, in bytes; Parse refuses longer input before
	// looking into it. The longest valid grant is 150 bytes.
	MaxLen = 256
	// KeySize is the size of the keys NewKey makes and the least Sign and
	// Verify accept.
	KeySize = 32
	// MaxScopeIDLen bounds a scope's id.
	MaxScopeIDLen = 64

	keyIDLen  = 8
	issuerLen = 16
	sigLen    = 43           // base64url of a SHA-256
	maxUnix   = 253402300799 // 9999-12-31T23:59:59Z
	unixLen   = 12           // digits of maxUnix
)

// Scope kinds.
const (
	// ScopeSource is the kind of a grant to play a source's live stream.
	ScopeSource byte = 's'
	// ScopeRecording is the kind of a grant to play a recording.
	ScopeRecording byte = 'r'
)

// Sentinel errors. The errors returned wrap one of them and say what is
// wrong without quoting the grant.
var (
	// ErrMalformed is wrapped when a string is not a grant, or Claims
	// cannot be signed.
	ErrMalformed = errors.New("malformed grant")
	// ErrUnknownKey is wrapped when the key a grant names is not in the
	// key ring: rotated out, or never this control node's.
	ErrUnknownKey = errors.New("grant signed with an unknown key")
	// ErrBadSignature is wrapped when a grant's signature does not match:
	// it was altered, or forged.
	ErrBadSignature = errors.New("bad grant signature")
	// ErrWrongScope is wrapped when a genuine grant is for another source
	// or recording than the one asked for.
	ErrWrongScope = errors.New("wrong grant scope")
	// ErrExpired is wrapped when a genuine grant has expired.
	ErrExpired = errors.New("grant expired")
)

// Scope is what a grant lets its holder play.
type Scope struct {
	// Kind is ScopeSource or ScopeRecording.
	Kind byte
	// ID is the source's or recording's id (a UUID): 1–64 characters of
	// 0-9, a-z and '-'.
	ID string
}

// SourceScope is the scope of a source's live stream.
func SourceScope(id string) Scope { return Scope{Kind: ScopeSource, ID: id} }

// RecordingScope is the scope of a recording.
func RecordingScope(id string) Scope { return Scope{Kind: ScopeRecording, ID: id} }

// noun names the scope's kind.
func (s Scope) noun() string {
	switch s.Kind {
	case ScopeSource:
		return "source"
	case ScopeRecording:
		return "recording"
	}
	return fmt.Sprintf("unknown scope %q", s.Kind)
}

// String is the scope for people: "source ID" or "recording ID".
func (s Scope) String() string { return s.noun() + " " + s.ID }

// validate checks the scope's kind and id.
func (s Scope) validate() error {
	if s.Kind != ScopeSource && s.Kind != ScopeRecording {
		return errors.New("the scope must start with s (a source) or r (a recording)")
	}
	if !validScopeID(s.ID) {
		return fmt.Errorf("the scope's id must be 1-%d characters of 0-9, a-z and '-'", MaxScopeIDLen)
	}
	return nil
}

// Claims are what a grant says.
type Claims struct {
	// KeyID names the signing key: 8 lowercase hex digits.
	KeyID string
	// Scope is what the grant lets its holder play.
	Scope Scope
	// Issuer is the ID (secret.Secret.ID) of the API token that minted the
	// grant: 16 lowercase hex digits.
	Issuer string
	// Expires is when the grant stops working, to the second.
	Expires time.Time
}

// KeyRing is where Verify finds the key a grant names.
type KeyRing interface {
	// GrantKey returns the key with the given id, and whether there is one.
	GrantKey(id string) ([]byte, bool)
}

// malformed is an ErrMalformed saying what is wrong.
func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

// signedPart is the text the signature covers, or why c cannot be signed.
func (c Claims) signedPart() (string, error) {
	if !isLowerHex(c.KeyID, keyIDLen) {
		return "", malformed("the key id must be %d lowercase hex digits", keyIDLen)
	}
	if err := c.Scope.validate(); err != nil {
		return "", fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if !isLowerHex(c.Issuer, issuerLen) {
		return "", malformed("the issuer must be %d lowercase hex digits (an API token's ID)", issuerLen)
	}
	exp := c.Expires.Unix()
	if exp < 1 || exp > maxUnix {
		return "", malformed("the expiry must be after 1970 and before the year 10000")
	}
	return Version + "." + c.KeyID + "." + string(rune(c.Scope.Kind)) + c.Scope.ID + "." + c.Issuer + "." + strconv.FormatInt(exp, 10), nil
}

// mac is the HMAC-SHA256 of signed under key.
func mac(key []byte, signed string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(signed))
	return h.Sum(nil)
}

// Sign writes c as a grant signed with key, which must be the key c.KeyID
// names. Expires is truncated to the second.
func Sign(c Claims, key []byte) (string, error) {
	signed, err := c.signedPart()
	if err != nil {
		return "", err
	}
	if len(key) < KeySize {
		return "", fmt.Errorf("grant: a signing key must be at least %d bytes, not %d", KeySize, len(key))
	}
	return signed + "." + base64.RawURLEncoding.EncodeToString(mac(key, signed)), nil
}

// Parse reads a grant without checking its signature: its claims, its
// signature and the text the signature covers. It is strict: at most
// MaxLen bytes, six dot-separated fields each spelled exactly as Sign
// writes it (no white space, no leading zeros, no padding), so one set of
// claims has one spelling. Use Verify to trust a grant.
func Parse(s string) (c Claims, sig []byte, signed string, err error) {
	var raw [sha256.Size]byte
	if c, signed, err = parse(s, &raw); err != nil {
		return Claims{}, nil, "", err
	}
	return c, raw[:], signed, nil
}

// sigEncoding is how a grant spells its signature.
var sigEncoding = base64.RawURLEncoding.Strict()

// parse is Parse with the signature decoded into sig, so that Verify, on
// every playback request, has it without allocating.
func parse(s string, sig *[sha256.Size]byte) (c Claims, signed string, err error) {
	switch {
	case len(s) > MaxLen:
		return Claims{}, "", malformed("it is %d bytes long, at most %d", len(s), MaxLen)
	case s == "":
		return Claims{}, "", malformed("it is empty")
	case strings.TrimSpace(s) != s:
		return Claims{}, "", malformed("it has white space around it")
	}
	if n := strings.Count(s, ".") + 1; n != 6 {
		return Claims{}, "", malformed("it has %d dot-separated fields, want 6", n)
	}
	// Five dots, so each field but the last ends at the next one.
	var f [6]string
	rest := s
	for i := range 5 {
		j := strings.IndexByte(rest, '.')
		f[i], rest = rest[:j], rest[j+1:]
	}
	f[5] = rest
	if f[0] != Version {
		return Claims{}, "", malformed("unsupported version: this build reads version %s grants", Version)
	}
	c.KeyID = f[1]
	if !isLowerHex(c.KeyID, keyIDLen) {
		return Claims{}, "", malformed("the key id must be %d lowercase hex digits", keyIDLen)
	}
	if f[2] == "" {
		return Claims{}, "", malformed("the scope is empty")
	}
	c.Scope = Scope{Kind: f[2][0], ID: f[2][1:]}
	if err := c.Scope.validate(); err != nil {
		return Claims{}, "", fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	c.Issuer = f[3]
	if !isLowerHex(c.Issuer, issuerLen) {
		return Claims{}, "", malformed("the issuer must be %d lowercase hex digits", issuerLen)
	}
	exp, ok := parseUnix(f[4])
	if !ok {
		return Claims{}, "", malformed("the expiry must be unix seconds in decimal, without sign or leading zeros, before the year 10000")
	}
	c.Expires = time.Unix(exp, 0).UTC()
	if len(f[5]) != sigLen || !isBase64URL(f[5]) {
		return Claims{}, "", malformed("the signature must be %d base64url characters", sigLen)
	}
	// Decoded from a copy on the stack: converting the string would
	// allocate.
	var enc [sigLen]byte
	copy(enc[:], f[5])
	if n, err := sigEncoding.Decode(sig[:], enc[:]); err != nil || n != sha256.Size {
		return Claims{}, "", malformed("the signature must be %d base64url characters encoding %d bytes", sigLen, sha256.Size)
	}
	return c, s[:len(s)-len(f[5])-1], nil
}

// Verify checks that s is a genuine grant to play want at now: well
// formed, signed by a key in keys, for want, and not expired. It checks the
// signature before anything the grant says, so a forged or altered grant
// is always ErrBadSignature, whatever its scope and expiry. The claims are
// returned only with a nil error.
func Verify(s string, keys KeyRing, want Scope, now time.Time) (Claims, error) {
	var sig [sha256.Size]byte
	c, signed, err := parse(s, &sig)
	if err != nil {
		return Claims{}, err
	}
	key, ok := keys.GrantKey(c.KeyID)
	if !ok {
		return Claims{}, fmt.Errorf("%w: key %s is not one of this control node's (rotated out?)", ErrUnknownKey, c.KeyID)
	}
	if len(key) < KeySize {
		return Claims{}, fmt.Errorf("%w: key %s is %d bytes, too short to trust", ErrUnknownKey, c.KeyID, len(key))
	}
	if !hmac.Equal(sig[:], mac(key, signed)) {
		return Claims{}, ErrBadSignature
	}
	if c.Scope != want {
		if c.Scope.Kind != want.Kind {
			return Claims{}, fmt.Errorf("%w: the grant is for a %s, not a %s", ErrWrongScope, c.Scope.noun(), want.noun())
		}
		return Claims{}, fmt.Errorf("%w: the grant is for another %s", ErrWrongScope, want.noun())
	}
	if !now.Before(c.Expires) {
		return Claims{}, fmt.Errorf("%w: at %s, %s ago", ErrExpired, c.Expires.Format(time.RFC3339), now.Sub(c.Expires).Truncate(time.Second))
	}
	return c, nil
}

// NewKey makes a signing key from crypto/rand: its id (8 lowercase hex
// digits) and KeySize bytes of key.
func NewKey() (id string, key []byte, err error) {
	b := make([]byte, keyIDLen/2+KeySize)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("grant: reading random bytes: %w", err)
	}
	return hex.EncodeToString(b[:keyIDLen/2]), b[keyIDLen/2:], nil
}

// parseUnix reads unix seconds from 1 to maxUnix, spelled without sign or
// leading zeros.
func parseUnix(s string) (int64, bool) {
	if s == "" || s[0] == '0' || len(s) > unixLen {
		return 0, false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n <= maxUnix
}

// isLowerHex reports whether s is n lowercase hex digits.
func isLowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// validScopeID reports whether s is 1–MaxScopeIDLen characters of 0-9,
// a-z and '-'.
func validScopeID(s string) bool {
	if s == "" || len(s) > MaxScopeIDLen {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'z') && c != '-' {
			return false
		}
	}
	return true
}

// isBase64URL reports whether every byte of s is in the base64url alphabet.
func isBase64URL(s string) bool {
	for i := range len(s) {
		c := s[i]
		if (c < 'A' || c > 'Z') && (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' && c != '_' {
			return false
		}
	}
	return true
}
