// Package tlspin lets an edge trust exactly one CA, the control node's, named
// by the pin its join token carries, instead of the system's roots.
//
// A pin is "sha256/" followed by the unpadded base64url SHA-256 of the CA
// certificate's DER. The control node presents its CA at the end of its
// chain; the client finds it there by its fingerprint and then verifies the
// chain with that CA as the only root, so a certificate that merely matches
// the pin proves nothing unless it signed the leaf.
//
// The package uses the standard library only: it is linked into the edge
// binary.
package tlspin

import (
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// Prefix starts every pin: the only hash pins use.
const Prefix = "sha256/"

// encoding is the pin's base64: URL alphabet, no padding, canonical bits.
var encoding = base64.RawURLEncoding.Strict()

// pinLen is the length of a pin's encoded digest.
var pinLen = encoding.EncodedLen(sha256.Size)

// Fingerprint is cert's pin: "sha256/" and the base64url (unpadded)
// SHA-256 of its DER.
func Fingerprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return Prefix + encoding.EncodeToString(sum[:])
}

// ParsePin checks that s is a pin as Fingerprint writes it, exactly, and
// returns its SHA-256 digest.
func ParsePin(s string) ([]byte, error) {
	enc, ok := strings.CutPrefix(s, Prefix)
	if !ok {
		return nil, fmt.Errorf("pin %q does not start with %q", s, Prefix)
	}
	if len(enc) != pinLen {
		return nil, fmt.Errorf("pin %q: want %d base64url characters after %q, got %d", s, pinLen, Prefix, len(enc))
	}
	sum, err := encoding.DecodeString(enc)
	if err != nil || len(sum) != sha256.Size {
		return nil, fmt.Errorf("pin %q is not unpadded base64url of a SHA-256 digest", s)
	}
	return sum, nil
}

// ClientConfig is a client configuration that trusts exactly the CA whose
// pin is given, for a server reached as serverName (a DNS name or an IP
// address, without a port). The server must present that CA in its chain.
//
// The standard verification, against the system's roots, is switched off
// and replaced by VerifyConnection, which verifies the presented chain with
// the pinned CA as its only root, for serverName, at the current time, for
// server authentication.
func ClientConfig(pin, serverName string) (*tls.Config, error) {
	sum, err := ParsePin(pin)
	if err != nil {
		return nil, err
	}
	if serverName == "" {
		return nil, errors.New("no server name to verify the control node's certificate for")
	}
	if _, _, err := net.SplitHostPort(serverName); err == nil && net.ParseIP(serverName) == nil {
		return nil, fmt.Errorf("server name %q has a port; give the host only", serverName)
	}
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		ServerName: serverName,
		// The system's roots are not consulted: VerifyConnection checks the
		// chain against the pinned CA alone, on every connection, resumed
		// ones included.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			return verify(sum, pin, serverName, cs.PeerCertificates, time.Now())
		},
	}, nil
}

// verify checks that certs, as a server presented them (leaf first), hold
// the CA whose SHA-256 is sum and that the leaf chains to it and is valid
// for serverName at now.
func verify(sum []byte, pin, serverName string, certs []*x509.Certificate, now time.Time) error {
	if len(certs) == 0 {
		return errors.New("the control node sent no certificate")
	}
	root := -1
	for i, c := range certs {
		got := sha256.Sum256(c.Raw)
		if subtle.ConstantTimeCompare(got[:], sum) == 1 {
			root = i
			break
		}
	}
	if root < 0 {
		return fmt.Errorf("the control node did not send its CA certificate, or has another CA than the pinned one (pin %s): it must present its chain with the CA at the end", pin)
	}
	roots := x509.NewCertPool()
	roots.AddCert(certs[root])
	inter := x509.NewCertPool()
	for i, c := range certs[1:] {
		if i+1 != root {
			inter.AddCert(c)
		}
	}
	leaf := certs[0]
	_, err := leaf.Verify(x509.VerifyOptions{
		DNSName:       serverName,
		Roots:         roots,
		Intermediates: inter,
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err == nil {
		return nil
	}
	var (
		hostErr    x509.HostnameError
		unknownErr x509.UnknownAuthorityError
		invalidErr x509.CertificateInvalidError
	)
	switch {
	case errors.As(err, &hostErr):
		return &verifyError{fmt.Sprintf("control node's certificate is for names %v, not %s", names(leaf), serverName), err}
	case errors.As(err, &unknownErr):
		return &verifyError{fmt.Sprintf("control node's certificate is not signed by the pinned CA (pin %s)", pin), err}
	case errors.As(err, &invalidErr) && invalidErr.Reason == x509.Expired:
		return &verifyError{fmt.Sprintf("certificate %q of the control node's chain has expired or is not yet valid: %s", invalidErr.Cert.Subject.CommonName, invalidErr.Detail), err}
	case errors.As(err, &invalidErr) && invalidErr.Reason == x509.CANotAuthorizedForThisName:
		return &verifyError{fmt.Sprintf("the pinned CA (pin %s) may not vouch for the control node's certificate's names: %s", pin, invalidErr.Detail), err}
	case errors.As(err, &invalidErr) && invalidErr.Reason == x509.IncompatibleUsage:
		return &verifyError{"control node's certificate is not for TLS servers", err}
	}
	return &verifyError{fmt.Sprintf("control node's certificate does not verify against the pinned CA (pin %s)", pin), err}
}

// names are the DNS names and IP addresses a certificate is for.
func names(c *x509.Certificate) []string {
	out := append([]string(nil), c.DNSNames...)
	for _, ip := range c.IPAddresses {
		out = append(out, ip.String())
	}
	return out
}

// verifyError says what is wrong with a server's chain in the edge's
// terms, and keeps x509's own error for errors.As.
type verifyError struct {
	msg string
	err error
}

func (e *verifyError) Error() string { return e.msg }
func (e *verifyError) Unwrap() error { return e.err }
