// Package secret defines the formats of lmx's secrets: API tokens, edge
// credentials and the join token an edge is started with. It uses the
// standard library (and the broker's name rules) only, so the small edge
// binary can import it.
//
// A secret reads as
//
//	lmx<kind>.<id>.<key>
//
// for example lmxt.0123456789abcdef.AAAA…(43 characters): the kind is one
// letter (see Kind), the ID is 16 lowercase hex digits (8 random bytes)
// that name the secret in storage and logs, and the key is 32 random bytes
// in unpadded base64url (43 characters). Only the key is secret; Redact
// keeps the rest for logs.
package secret

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// Kind says what a secret is for; it is the letter after "lmx".
type Kind byte

// The kinds of secret.
const (
	// KindToken is an operator's or viewer's API token.
	KindToken Kind = 't'
	// KindEdge is an edge's long-lived credential, its MQTT password and
	// the bearer of its uploads.
	KindEdge Kind = 'e'
	// KindJoin is the single-use secret inside a join token.
	KindJoin Kind = 'j'
)

// Sizes of the parts of a secret.
const (
	// IDLen is the length of a secret's ID: 8 random bytes in lowercase hex.
	IDLen = 16
	// KeyLen is the length of a secret's key: 32 random bytes in unpadded
	// base64url.
	KeyLen = 43
	// Len is the length of a secret's string form.
	Len = len("lmx") + 1 + 1 + IDLen + 1 + KeyLen

	idBytes  = 8
	keyBytes = 32
	prefix   = "lmx"
)

// Sentinel errors. The errors returned wrap one of them and say which part
// of the input is wrong, never the input itself.
var (
	// ErrMalformed is wrapped when a string is not a secret at all.
	ErrMalformed = errors.New("malformed secret")
	// ErrWrongKind is wrapped when a secret is well formed but of another
	// kind than the one asked for.
	ErrWrongKind = errors.New("wrong kind of secret")
	// ErrUnknownKind is wrapped when New is given a Kind that is none of
	// the constants.
	ErrUnknownKind = errors.New("unknown kind of secret")
	// ErrBadJoin is wrapped by every error ParseJoin, Encode and Validate
	// return for a join token that cannot be used.
	ErrBadJoin = errors.New("bad join token")
)

// known reports whether k is one of the kind constants.
func (k Kind) known() bool {
	return k == KindToken || k == KindEdge || k == KindJoin
}

// String names the kind for people: "API token", "edge credential" or
// "join secret".
func (k Kind) String() string {
	switch k {
	case KindToken:
		return "API token"
	case KindEdge:
		return "edge credential"
	case KindJoin:
		return "join secret"
	}
	return fmt.Sprintf("unknown kind %q", byte(k))
}

// withArticle is the kind's name after "a" or "an".
func (k Kind) withArticle() string {
	switch k {
	case KindToken, KindEdge:
		return "an " + k.String()
	}
	return "a " + k.String()
}

// Secret is one secret, in its parts. Its String is the full secret, key
// included; log it with Redact, or through log/slog, which shows it
// redacted.
type Secret struct {
	// Kind says what the secret is for.
	Kind Kind
	// ID names the secret: 16 lowercase hex digits. It is not secret and
	// is what storage and logs refer to.
	ID string
	// Key is the secret part: 32 random bytes in unpadded base64url.
	Key string
}

// New makes a secret of the given kind from crypto/rand.
func New(kind Kind) (Secret, error) {
	if !kind.known() {
		return Secret{}, fmt.Errorf("%w: %v", ErrUnknownKind, kind)
	}
	var b [idBytes + keyBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return Secret{}, fmt.Errorf("secret: reading random bytes: %w", err)
	}
	return Secret{
		Kind: kind,
		ID:   hex.EncodeToString(b[:idBytes]),
		Key:  base64.RawURLEncoding.EncodeToString(b[idBytes:]),
	}, nil
}

// String is the secret's full string form, lmx<kind>.<id>.<key>. It is the
// secret: never log it.
func (s Secret) String() string {
	return prefix + string(rune(s.Kind)) + "." + s.ID + "." + s.Key
}

// LogValue shows the secret redacted in log/slog output.
func (s Secret) LogValue() slog.Value {
	return slog.StringValue(Redact(s.String()))
}

// malformed is an ErrMalformed saying what is wrong.
func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

// Parse reads a secret of any kind. It is strict: exactly Len characters,
// "lmx", a known kind letter, a dot, 16 lowercase hex digits, a dot and 43
// base64url characters that decode to 32 bytes (with no stray bits), and
// nothing else, not even surrounding whitespace.
func Parse(s string) (Secret, error) {
	switch {
	case s == "":
		return Secret{}, malformed("it is empty")
	case strings.TrimSpace(s) != s:
		return Secret{}, malformed("it has white space around it")
	case strings.HasPrefix(s, JoinPrefix):
		return Secret{}, malformed("this is a join token (for lmx edged --join), not a bare secret")
	case len(s) != Len:
		return Secret{}, malformed("it is %d characters long, want %d", len(s), Len)
	case s[:len(prefix)] != prefix:
		return Secret{}, malformed("it does not start with %q", prefix)
	}
	kind := Kind(s[len(prefix)])
	if !kind.known() {
		return Secret{}, malformed("the letter after %q is not a known kind (t, e or j)", prefix)
	}
	rest := s[len(prefix)+1:]
	if rest[0] != '.' || rest[1+IDLen] != '.' {
		return Secret{}, malformed("the kind, ID and key must be separated by dots")
	}
	id, key := rest[1:1+IDLen], rest[2+IDLen:]
	if !isLowerHex(id) {
		return Secret{}, malformed("the ID must be %d lowercase hex digits", IDLen)
	}
	if !validKey(key) {
		return Secret{}, malformed("the key must be %d base64url characters encoding %d bytes", KeyLen, keyBytes)
	}
	return Secret{Kind: kind, ID: id, Key: key}, nil
}

// ParseKind reads a secret that must be of kind want. A well-formed secret
// of another kind (or a whole join token) is an ErrWrongKind that says what
// it is instead.
func ParseKind(s string, want Kind) (Secret, error) {
	if strings.HasPrefix(s, JoinPrefix) && want != KindJoin {
		return Secret{}, fmt.Errorf("%w: this is a join token (for lmx edged --join), not %s", ErrWrongKind, want.withArticle())
	}
	sec, err := Parse(s)
	if err != nil {
		return Secret{}, err
	}
	if sec.Kind != want {
		return Secret{}, fmt.Errorf("%w: this is %s, not %s", ErrWrongKind, sec.Kind.withArticle(), want.withArticle())
	}
	return sec, nil
}

// Hash is what is stored in place of a secret: SHA-256 over its full string
// form. A fast hash is right here, and a password hash such as bcrypt is
// not: the key is 256 random bits, so there is no dictionary to slow down
// and no brute force to make dearer, while every API request and upload
// checks a secret and must stay cheap.
func Hash(s Secret) []byte {
	sum := sha256.Sum256([]byte(s.String()))
	return sum[:]
}

// Matches reports, in constant time, whether hash is Hash(s).
func Matches(s Secret, hash []byte) bool {
	return subtle.ConstantTimeCompare(Hash(s), hash) == 1
}

// Redact is a secret fit for logs: its kind and ID, with the key hidden, as
// in lmxt.0123456789abcdef.…; anything that does not parse as a secret is
// "(malformed)".
func Redact(s string) string {
	if _, err := Parse(s); err != nil {
		return "(malformed)"
	}
	return s[:Len-KeyLen] + "…"
}

// isLowerHex reports whether s is IDLen lowercase hex digits.
func isLowerHex(s string) bool {
	if len(s) != IDLen {
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

// isBase64URL reports whether every byte of s is in the base64url alphabet.
// The decoder alone is not enough: it skips CR and LF.
func isBase64URL(s string) bool {
	for i := range len(s) {
		c := s[i]
		if (c < 'A' || c > 'Z') && (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

// validKey reports whether s is exactly the unpadded base64url of 32
// bytes, in its one canonical spelling.
func validKey(s string) bool {
	return len(s) == KeyLen && decodesTo(s, keyBytes)
}

// decodesTo reports whether s is strict unpadded base64url of n bytes.
func decodesTo(s string, n int) bool {
	if !isBase64URL(s) {
		return false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return err == nil && len(b) == n
}
