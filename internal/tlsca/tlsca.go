// Package tlsca gives the control node its TLS certificate: one issued by
// a CA of its own, kept in a directory, when the operator gives none, or
// the operator's certificate and key.
//
// The control node's own CA signs only the control node's certificates and
// is name-constrained to the names it serves, so that trusting it (an edge
// pins it, an operator may install it) trusts nothing else. Edges find it
// by its pin (see package tlspin) at the end of the chain the server
// presents.
//
// Key files are written 0600. A key file that anyone may write is refused
// (anyone could have replaced it); one that group or others may read is
// used, with a warning in Bundle.Warnings for the caller to log.
package tlsca

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/lmx-video/lmx/internal/tlspin"
)

// The files Ensure keeps in its directory.
const (
	CACertFile     = "ca.pem"     // the CA's certificate
	CAKeyFile      = "ca.key"     // the CA's key, 0600
	ServerCertFile = "server.pem" // the server's certificate, then the CA's
	ServerKeyFile  = "server.key" // the server's key, 0600
)

const (
	// caYears is the CA's lifetime. The pin edges carry is the CA's, so
	// it lives long: a new CA means every edge joins again.
	caYears = 10
	// serverLifetime is the server certificate's, the most browsers
	// accept.
	serverLifetime = 397 * 24 * time.Hour
	// renewBefore is how long before its end a server certificate is
	// re-issued on start.
	renewBefore = 30 * 24 * time.Hour
	// backdate is how far before now certificates start, for clocks
	// slightly behind.
	backdate = time.Hour
)

// ErrOutsideCA is returned by Ensure when a name is not covered by the
// name constraints of the CA already in the directory.
var ErrOutsideCA = errors.New("names outside the control node CA's name constraints")

// Bundle is the control node's certificate, ready to serve.
type Bundle struct {
	// CAFile holds the private CA's certificate, for tools that trust it
	// (curl --cacert): Ensure's ca.pem, or the operator's certificate file
	// when its chain ends in a self-signed certificate. It is "" when the
	// certificate is meant to be trusted through the system's roots.
	CAFile string
	// Pin is the private CA's pin in tlspin's form, for join tokens; "" when
	// there is no private CA.
	Pin string
	// Names are the DNS names and IP addresses the certificate is for.
	Names []string
	// NotAfter is when the server certificate expires.
	NotAfter time.Time
	// Warnings are problems worth logging that do not stop the control
	// node: a key file others may read.
	Warnings []string

	cert  tls.Certificate
	roots *x509.CertPool // nil: the system's
}

// ServerConfig is a server configuration presenting the certificate with
// its chain, the CA included, so that pinning clients find the CA.
func (b *Bundle) ServerConfig() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{b.cert},
	}
}

// ClientConfig is a client configuration that trusts the bundle's CA (the
// system's roots when it has none), for local tools and tests reaching the
// control node as serverName.
func (b *Bundle) ClientConfig(serverName string) *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		RootCAs:    b.roots,
		ServerName: serverName,
	}
}

// Ensure makes sure dir holds a CA and a server certificate for names, and
// returns them. now is the current time.
//
// The CA is made on the first call (ECDSA P-256, ten years, constrained to
// names) and kept: its pin is in every edge's join token. The server
// certificate (397 days) is issued when there is none, when names are not
// exactly the ones it is for, or when less than 30 days remain; otherwise
// it is reused. A name the CA's constraints do not cover is an error
// wrapping ErrOutsideCA: only a new CA can serve it.
func Ensure(dir string, names []string, now time.Time) (*Bundle, error) {
	names, err := normalizeNames(names)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, errors.New("no names to issue the control node's certificate for")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("certificate directory: %w", err)
	}
	var warnings []string
	ca, caKey, warn, err := loadOrCreateCA(dir, names, now)
	if err != nil {
		return nil, err
	}
	warnings = append(warnings, warn...)
	if outside := uncovered(ca, names); len(outside) > 0 {
		return nil, fmt.Errorf("%w: %s not covered by the CA in %s, made for %s; remove %s to make a new CA; edges joined with the old CA's pin must then join again",
			ErrOutsideCA, strings.Join(outside, ", "), dir, strings.Join(constraintNames(ca), ", "), dir)
	}
	leaf, key, warn, err := loadServer(dir, ca, names, now)
	if err != nil {
		return nil, err
	}
	warnings = append(warnings, warn...)
	if leaf == nil {
		if leaf, key, err = issueServer(dir, ca, caKey, names, now); err != nil {
			return nil, err
		}
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	return &Bundle{
		CAFile:   filepath.Join(dir, CACertFile),
		Pin:      tlspin.Fingerprint(ca),
		Names:    names,
		NotAfter: leaf.NotAfter,
		Warnings: warnings,
		cert: tls.Certificate{
			Certificate: [][]byte{leaf.Raw, ca.Raw},
			PrivateKey:  key,
			Leaf:        leaf,
		},
		roots: roots,
	}, nil
}

// newCAHint is what to do when the CA in dir cannot be used.
func newCAHint(dir string) string {
	return fmt.Sprintf("remove %s to make a new CA; edges joined with the old CA's pin must then join again", dir)
}

// loadOrCreateCA reads the CA from dir, or makes one for names when dir
// has none.
func loadOrCreateCA(dir string, names []string, now time.Time) (*x509.Certificate, crypto.Signer, []string, error) {
	certPath, keyPath := filepath.Join(dir, CACertFile), filepath.Join(dir, CAKeyFile)
	certPEM, err := os.ReadFile(certPath)
	if errors.Is(err, fs.ErrNotExist) {
		// A key without its certificate is what an interrupted first start
		// leaves: nothing was ever served with it.
		ca, key, err := createCA(dir, names, now)
		return ca, key, nil, err
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("reading the control node's CA: %w", err)
	}
	certs, err := parseCerts(certPEM)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %v; %s", certPath, err, newCAHint(dir))
	}
	ca := certs[0]
	if !ca.IsCA {
		return nil, nil, nil, fmt.Errorf("%s is not a CA certificate; %s", certPath, newCAHint(dir))
	}
	key, warnings, err := readKey(keyPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil, fmt.Errorf("the CA in %s has no key (%s is missing): restore it, or %s", dir, keyPath, newCAHint(dir))
	}
	if err != nil {
		return nil, nil, nil, err
	}
	if !publicKeyMatches(key, ca) {
		return nil, nil, nil, fmt.Errorf("%s is not the key of %s: restore the CA's key, or %s", keyPath, certPath, newCAHint(dir))
	}
	if !now.Before(ca.NotAfter) {
		return nil, nil, nil, fmt.Errorf("the control node's CA in %s expired on %s; %s", dir, ca.NotAfter.UTC().Format(time.DateOnly), newCAHint(dir))
	}
	return ca, key, warnings, nil
}

// createCA makes a CA constrained to names and writes it to dir, its key
// first.
func createCA(dir string, names []string, now time.Time) (*x509.Certificate, crypto.Signer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := newSerial()
	if err != nil {
		return nil, nil, err
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = names[0]
	}
	dnsNames, ips := splitNames(names)
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "lmx control node CA (" + host + ")", Organization: []string{"lmx"}},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.AddDate(caYears, 0, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,

		PermittedDNSDomainsCritical: true,
		PermittedDNSDomains:         dnsNames,
	}
	for _, ip := range ips {
		tmpl.PermittedIPRanges = append(tmpl.PermittedIPRanges, hostRange(ip))
	}
	// An empty permitted list constrains nothing: a CA for IP addresses
	// only excludes every DNS name, and one for DNS names only every
	// address.
	if len(dnsNames) == 0 {
		tmpl.ExcludedDNSDomains = []string{""}
	}
	if len(ips) == 0 {
		tmpl.ExcludedIPRanges = []*net.IPNet{
			{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(0, 32)},
			{IP: net.IPv6zero, Mask: net.CIDRMask(0, 128)},
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, fmt.Errorf("making the control node's CA: %w", err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	if err := writeKey(filepath.Join(dir, CAKeyFile), key); err != nil {
		return nil, nil, err
	}
	if err := writeFile(filepath.Join(dir, CACertFile), pemCerts(ca), 0o644); err != nil {
		return nil, nil, err
	}
	return ca, key, nil
}

// loadServer reads the server certificate in dir and returns it if it can
// be served again: signed by ca, for exactly names, valid at now for at
// least renewBefore. It returns a nil certificate when it must be issued
// anew. Only a key file it must not use is an error.
func loadServer(dir string, ca *x509.Certificate, names []string, now time.Time) (*x509.Certificate, crypto.Signer, []string, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, ServerCertFile))
	if err != nil {
		return nil, nil, nil, nil
	}
	certs, err := parseCerts(certPEM)
	if err != nil {
		return nil, nil, nil, nil
	}
	leaf := certs[0]
	if leaf.CheckSignatureFrom(ca) != nil || !slices.Equal(sortedNames(certNames(leaf)), sortedNames(names)) ||
		now.Before(leaf.NotBefore) || leaf.NotAfter.Sub(now) < renewBefore {
		return nil, nil, nil, nil
	}
	key, warnings, err := readKey(filepath.Join(dir, ServerKeyFile))
	if errors.Is(err, errUnsafeKey) {
		return nil, nil, nil, err
	}
	if err != nil || !publicKeyMatches(key, leaf) {
		return nil, nil, nil, nil
	}
	return leaf, key, warnings, nil
}

// issueServer issues a server certificate for names signed by ca and
// writes it to dir, its key first.
func issueServer(dir string, ca *x509.Certificate, caKey crypto.Signer, names []string, now time.Time) (*x509.Certificate, crypto.Signer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := newSerial()
	if err != nil {
		return nil, nil, err
	}
	notAfter := now.Add(serverLifetime)
	if notAfter.After(ca.NotAfter) {
		notAfter = ca.NotAfter
	}
	dnsNames, ips := splitNames(names)
	// Clients read the names from the SANs alone; some still check a
	// common name against the CA's DNS constraints, so it is a DNS name or
	// none.
	subject := pkix.Name{Organization: []string{"lmx"}}
	if len(dnsNames) > 0 {
		subject.CommonName = dnsNames[0]
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               subject,
		NotBefore:             now.Add(-backdate),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              dnsNames,
		IPAddresses:           ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		return nil, nil, fmt.Errorf("issuing the control node's certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	// The same check a client makes, constraints included.
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		return nil, nil, fmt.Errorf("the certificate issued for %s does not verify against the CA in %s: %w", strings.Join(names, ", "), dir, err)
	}
	if err := writeKey(filepath.Join(dir, ServerKeyFile), key); err != nil {
		return nil, nil, err
	}
	if err := writeFile(filepath.Join(dir, ServerCertFile), pemCerts(leaf, ca), 0o644); err != nil {
		return nil, nil, err
	}
	return leaf, key, nil
}

// newSerial is a random positive 128-bit serial number.
func newSerial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, err
	}
	return n.Add(n, big.NewInt(1)), nil
}

// hostRange is the range holding ip alone.
func hostRange(ip net.IP) *net.IPNet {
	if v4 := ip.To4(); v4 != nil {
		return &net.IPNet{IP: v4, Mask: net.CIDRMask(32, 32)}
	}
	return &net.IPNet{IP: ip.To16(), Mask: net.CIDRMask(128, 128)}
}

// uncovered are the names that ca's name constraints do not permit, by
// the rules of RFC 5280 as crypto/x509 applies them.
func uncovered(ca *x509.Certificate, names []string) []string {
	var out []string
	for _, n := range names {
		var ok bool
		if ip := net.ParseIP(n); ip != nil {
			ok = permitted(ca.PermittedIPRanges, ca.ExcludedIPRanges, func(r *net.IPNet) bool { return r.Contains(ip) })
		} else {
			ok = permitted(ca.PermittedDNSDomains, ca.ExcludedDNSDomains, func(d string) bool { return domainMatches(d, n) })
		}
		if !ok {
			out = append(out, n)
		}
	}
	return out
}

// permitted applies a permitted and an excluded list: an empty permitted
// list permits everything.
func permitted[T any](allow, deny []T, match func(T) bool) bool {
	return (len(allow) == 0 || slices.ContainsFunc(allow, match)) && !slices.ContainsFunc(deny, match)
}

// domainMatches reports whether name is within the DNS constraint c: c
// itself or below it; only below it when c starts with a dot; anything
// when c is empty.
func domainMatches(c, name string) bool {
	c, name = strings.ToLower(c), strings.ToLower(name)
	switch {
	case c == "":
		return true
	case strings.HasPrefix(c, "."):
		return strings.HasSuffix(name, c)
	}
	return name == c || strings.HasSuffix(name, "."+c)
}

// constraintNames are what ca is constrained to, for messages.
func constraintNames(ca *x509.Certificate) []string {
	out := slices.Clone(ca.PermittedDNSDomains)
	for _, r := range ca.PermittedIPRanges {
		if ones, bits := r.Mask.Size(); ones == bits {
			out = append(out, r.IP.String())
		} else {
			out = append(out, r.String())
		}
	}
	if len(out) == 0 {
		return []string{"any name"}
	}
	return out
}

// pemCerts encodes certs as PEM, in order.
func pemCerts(certs ...*x509.Certificate) []byte {
	var b bytes.Buffer
	for _, c := range certs {
		pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return b.Bytes()
}

// writeKey writes key as PKCS #8 PEM, 0600.
func writeKey(path string, key crypto.Signer) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	return writeFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
}
