package secret

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/lmx-video/lmx/broker"
)

// Join token format.
const (
	// JoinPrefix starts every join token; the digit is the format's version.
	JoinPrefix = "lmxjoin1."
	// MaxJoinLen bounds a join token, in bytes; ParseJoin refuses longer
	// input before decoding any of it.
	MaxJoinLen = 4096
	// PinPrefix starts a CA pin; see PinCA.
	PinPrefix = "sha256/"
	// pinLen is the length of a CA pin.
	pinLen = len(PinPrefix) + KeyLen
)

// Join is what a join token carries: everything an edge started with
// lmx edged --join needs to find the control node, check that it is the
// right one, and authenticate to it, once, to get its own credential.
type Join struct {
	// Edge is the name the edge was added as (broker.ValidateName).
	Edge string
	// MQTT is the control node's broker: mqtt://host[:port] or
	// mqtts://host[:port].
	MQTT string
	// Ingest is the control node's playback and ingest base URL, where the
	// edge joins (broker.JoinPath) and uploads: http or https, a host, an
	// optional path, and no user, query or fragment.
	Ingest string
	// CAPin is "" (trust the system's roots, or no TLS at all) or
	// PinPrefix followed by the unpadded base64url SHA-256 of the DER of
	// the CA certificate the control node's certificates chain to (PinCA).
	// A pin needs both URLs to use TLS.
	CAPin string
	// Secret is the single-use join secret (KindJoin) the edge presents
	// as "Authorization: Bearer SECRET" at broker.JoinPath.
	Secret Secret
}

// joinJSON is a join token's payload. Every field is written; ParseJoin
// accepts "ca" left out.
type joinJSON struct {
	Edge   string `json:"edge"`
	MQTT   string `json:"mqtt"`
	Ingest string `json:"ingest"`
	CA     string `json:"ca"`
	Secret string `json:"secret"`
}

// PinCA is the CAPin of a CA certificate, given in DER.
func PinCA(der []byte) string {
	sum := sha256.Sum256(der)
	return PinPrefix + base64.RawURLEncoding.EncodeToString(sum[:])
}

// badJoin is an ErrBadJoin saying what is wrong.
func badJoin(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrBadJoin}, args...)...)
}

// Encode validates j and writes it as a join token:
// JoinPrefix + base64url-nopad(JSON payload).
func (j Join) Encode() (string, error) {
	if err := j.Validate(); err != nil {
		return "", err
	}
	payload, err := json.Marshal(joinJSON{Edge: j.Edge, MQTT: j.MQTT, Ingest: j.Ingest, CA: j.CAPin, Secret: j.Secret.String()})
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadJoin, err)
	}
	s := JoinPrefix + base64.RawURLEncoding.EncodeToString(payload)
	if len(s) > MaxJoinLen {
		return "", badJoin("it would be %d bytes long, more than %d: shorten the URLs", len(s), MaxJoinLen)
	}
	return s, nil
}

// LogValue shows the join token's fields with its secret redacted in
// log/slog output.
func (j Join) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("edge", j.Edge),
		slog.String("mqtt", j.MQTT),
		slog.String("ingest", j.Ingest),
		slog.String("ca", j.CAPin),
		slog.Any("secret", j.Secret),
	)
}

// Validate checks every field of j (see Join) and that they agree.
func (j Join) Validate() error {
	if err := broker.ValidateName(j.Edge); err != nil {
		return fmt.Errorf("%w: edge name: %w", ErrBadJoin, err)
	}
	mqttTLS, err := checkURL("MQTT broker URL", j.MQTT, "mqtt", "mqtts", false)
	if err != nil {
		return err
	}
	ingestTLS, err := checkURL("ingest URL", j.Ingest, "http", "https", true)
	if err != nil {
		return err
	}
	if j.CAPin != "" {
		if len(j.CAPin) != pinLen || !strings.HasPrefix(j.CAPin, PinPrefix) || !validKey(j.CAPin[len(PinPrefix):]) {
			return badJoin("the CA pin must be %q followed by %d base64url characters (a SHA-256)", PinPrefix, KeyLen)
		}
		// The pin names the control node's CA: its ingest link must be TLS,
		// and so must MQTT when the broker is the node's own (same host); an
		// external broker's link is as its operator set it up.
		switch {
		case !ingestTLS:
			return badJoin("a CA pin needs TLS, but the ingest URL is http://: use https://, or drop the pin")
		case !mqttTLS && sameHost(j.MQTT, j.Ingest):
			return badJoin("a CA pin needs TLS, but the control node's MQTT broker URL is mqtt://: use mqtts://, or drop the pin")
		}
	}
	if j.Secret == (Secret{}) {
		return badJoin("the join secret is missing")
	}
	sec, err := ParseKind(j.Secret.String(), KindJoin)
	if err != nil || sec != j.Secret {
		if err == nil {
			err = ErrMalformed
		}
		return fmt.Errorf("%w: secret: %w", ErrBadJoin, err)
	}
	return nil
}

// checkURL checks one of a join token's URLs and reports whether it uses
// TLS (the second scheme). Only ingest URLs may have a path. URLs are not
// secret, but the message quotes one only once it is known to carry no
// user or password.
func checkURL(what, raw, plain, tls string, path bool) (bool, error) {
	if raw == "" {
		return false, badJoin("the %s is missing", what)
	}
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return false, badJoin("the %s is not a URL: %v", what, err)
	}
	if u.Scheme != plain && u.Scheme != tls {
		return false, badJoin("the %s must start with %s:// or %s://", what, plain, tls)
	}
	switch {
	case u.User != nil:
		return false, badJoin("the %s must not carry a user or password: the edge authenticates with its secret", what)
	case u.Opaque != "" || u.Host == "":
		return false, badJoin("the %s has no host: want %s://host:port", what, plain)
	case strings.ContainsAny(raw, "?#"):
		return false, badJoin("the %s must not have a query or fragment", what)
	case !path && u.Path != "":
		return false, badJoin("the %s must not have a path: want %s://host:port", what, plain)
	}
	if err := checkHost(u); err != nil {
		return false, badJoin("the %s %q: %v", what, raw, err)
	}
	if canon := u.String(); canon != raw {
		return false, badJoin("the %s %q is not written plainly: want %q", what, raw, canon)
	}
	return u.Scheme == tls, nil
}

// checkHost checks a URL's host: an IP address or a DNS name, and a port
// of 1–65535 if there is one.
func checkHost(u *url.URL) error {
	host, port := u.Hostname(), u.Port()
	if strings.HasSuffix(u.Host, ":") {
		return errors.New("the port is empty")
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || port[0] == '0' {
			return errors.New("the port must be 1-65535")
		}
	}
	if strings.HasPrefix(u.Host, "[") {
		if a, err := netip.ParseAddr(host); err != nil || !a.Is6() || a.Zone() != "" {
			return errors.New("the host is not an IPv6 address")
		}
		return nil
	}
	if host == "" || len(host) > 253 {
		return errors.New("the host name must be 1-253 characters")
	}
	for i := range len(host) {
		c := host[i]
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '-' && c != '.' && c != '_' {
			return errors.New("the host must be an IP address or a name of letters, digits, '-', '_' and '.'")
		}
	}
	return nil
}

// ParseJoin reads a join token. It is strict: at most MaxJoinLen bytes,
// JoinPrefix, unpadded base64url (no line breaks), and a payload that is one
// JSON object of string fields, each named exactly as Encode writes it and
// at most once, with no others and nothing after it; then every field is
// checked as Validate does. Errors wrap ErrBadJoin and never quote the
// token or its secret.
func ParseJoin(s string) (Join, error) {
	switch {
	case len(s) > MaxJoinLen:
		return Join{}, badJoin("it is %d bytes long, at most %d", len(s), MaxJoinLen)
	case s == "":
		return Join{}, badJoin("it is empty")
	case strings.TrimSpace(s) != s:
		return Join{}, badJoin("it has white space around it")
	case !strings.HasPrefix(s, JoinPrefix):
		if v, ok := strings.CutPrefix(s, "lmxjoin"); ok && v != "" && v[0] >= '0' && v[0] <= '9' {
			return Join{}, badJoin("unsupported version: this build reads %s tokens", JoinPrefix)
		}
		if sec, err := Parse(s); err == nil {
			return Join{}, badJoin("this is %s, not a join token", sec.Kind.withArticle())
		}
		return Join{}, badJoin("it does not start with %q", JoinPrefix)
	}
	enc := s[len(JoinPrefix):]
	if !isBase64URL(enc) {
		return Join{}, badJoin("the part after %q must be base64url without padding", JoinPrefix)
	}
	payload, err := base64.RawURLEncoding.Strict().DecodeString(enc)
	if err != nil {
		return Join{}, badJoin("the part after %q is not valid base64url", JoinPrefix)
	}
	w, err := decodeJoinJSON(payload)
	if err != nil {
		return Join{}, err
	}
	j := Join{Edge: w.Edge, MQTT: w.MQTT, Ingest: w.Ingest, CAPin: w.CA}
	if w.Secret == "" {
		return Join{}, badJoin("the join secret is missing")
	}
	if j.Secret, err = ParseKind(w.Secret, KindJoin); err != nil {
		return Join{}, fmt.Errorf("%w: secret: %w", ErrBadJoin, err)
	}
	if err := j.Validate(); err != nil {
		return Join{}, err
	}
	return j, nil
}

// decodeJoinJSON reads a join token's payload token by token, so that
// field names match exactly (encoding/json would match them ignoring case),
// each appears once, and every value is a string.
func decodeJoinJSON(payload []byte) (joinJSON, error) {
	var w joinJSON
	fields := map[string]*string{"edge": &w.Edge, "mqtt": &w.MQTT, "ingest": &w.Ingest, "ca": &w.CA, "secret": &w.Secret}
	seen := map[string]bool{}
	dec := json.NewDecoder(bytes.NewReader(payload))
	notJSON := func(err error) error {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return badJoin("the payload is not valid JSON (at byte %d)", se.Offset)
		}
		return badJoin("the payload is not a complete JSON object")
	}
	tok, err := dec.Token()
	if err != nil {
		return w, notJSON(err)
	}
	if tok != json.Delim('{') {
		return w, badJoin("the payload is not a JSON object")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return w, notJSON(err)
		}
		name, _ := tok.(string) // an object's keys are always strings
		dst, ok := fields[name]
		if !ok {
			return w, badJoin("unknown field %.16q in the payload", name)
		}
		if seen[name] {
			return w, badJoin("field %q appears twice in the payload", name)
		}
		seen[name] = true
		tok, err = dec.Token()
		if err != nil {
			return w, notJSON(err)
		}
		v, ok := tok.(string)
		if !ok {
			return w, badJoin("field %q must be a string", name)
		}
		*dst = v
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return w, notJSON(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return w, badJoin("the payload has data after its JSON object")
	}
	for _, name := range []string{"edge", "mqtt", "ingest", "secret"} {
		if !seen[name] {
			return w, badJoin("field %q is missing from the payload", name)
		}
	}
	return w, nil
}

// sameHost reports whether two URLs name the same host.
func sameHost(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && ua.Hostname() == ub.Hostname()
}
