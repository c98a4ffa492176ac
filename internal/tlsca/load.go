package tlsca

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"time"

	"github.com/lmx-video/lmx/internal/tlspin"
)

// LoadFiles loads the operator's certificate and key: certFile holds the
// server's certificate first, then the rest of its chain; keyFile its
// private key (PKCS #8, SEC 1 or PKCS #1 PEM, unencrypted).
//
// When the chain ends in a self-signed certificate, that certificate is a
// private CA: the chain must verify against it, and the bundle's Pin and
// CAFile name it (CAFile is certFile: trusting every certificate in it is
// trusting the CA). Otherwise the certificate is meant to be trusted
// through the system's roots, and Pin and CAFile are "".
func LoadFiles(certFile, keyFile string) (*Bundle, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("reading the certificate file: %w", err)
	}
	certs, err := parseCerts(certPEM)
	if err != nil {
		return nil, fmt.Errorf("certificate file %s: %w", certFile, err)
	}
	key, warnings, err := readKey(keyFile)
	if err != nil {
		return nil, err
	}
	leaf := certs[0]
	if !publicKeyMatches(key, leaf) {
		return nil, fmt.Errorf("key file %s does not match the certificate in %s (%s): give the key the certificate was issued for", keyFile, certFile, leaf.Subject.CommonName)
	}
	now := time.Now()
	for i, c := range certs {
		what := "the certificate"
		if i > 0 {
			what = fmt.Sprintf("certificate %d (%s) of the chain", i+1, c.Subject.CommonName)
		}
		switch {
		case now.After(c.NotAfter):
			return nil, fmt.Errorf("%s in %s expired on %s", what, certFile, c.NotAfter.UTC().Format(time.RFC3339))
		case now.Before(c.NotBefore):
			return nil, fmt.Errorf("%s in %s is not valid until %s", what, certFile, c.NotBefore.UTC().Format(time.RFC3339))
		}
	}
	b := &Bundle{
		Names:    certNames(leaf),
		NotAfter: leaf.NotAfter,
		Warnings: warnings,
		cert: tls.Certificate{
			PrivateKey: key,
			Leaf:       leaf,
		},
	}
	for _, c := range certs {
		b.cert.Certificate = append(b.cert.Certificate, c.Raw)
	}
	if root := certs[len(certs)-1]; selfSigned(root) {
		roots := x509.NewCertPool()
		roots.AddCert(root)
		inter := x509.NewCertPool()
		for _, c := range certs[1:max(1, len(certs)-1)] {
			inter.AddCert(c)
		}
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			return nil, fmt.Errorf("the certificates in %s do not chain the server's certificate (first) to its CA (last): %w", certFile, err)
		}
		b.CAFile, b.Pin, b.roots = certFile, tlspin.Fingerprint(root), roots
	}
	return b, nil
}

// selfSigned reports whether c is signed by its own key.
func selfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawSubject, c.RawIssuer) && c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}
