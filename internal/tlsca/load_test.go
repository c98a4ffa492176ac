package tlsca_test

import (
	"crypto/ecdsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lmx-video/lmx/internal/tlsca"
	"github.com/lmx-video/lmx/internal/tlspin"
)

func pinnedGet(t *testing.T, b *tlsca.Bundle, name string) error {
	t.Helper()
	cfg, err := tlspin.ClientConfig(b.Pin, name)
	if err != nil {
		t.Fatal(err)
	}
	return get(t, serveHTTPS(t, b.ServerConfig()), cfg)
}

func TestLoadFilesPrivateCA(t *testing.T) {
	// Ensure's own files are an operator's certificate with a private CA.
	dir := t.TempDir()
	own := ensure(t, dir, testNames, time.Now())
	certFile, keyFile := filepath.Join(dir, tlsca.ServerCertFile), filepath.Join(dir, tlsca.ServerKeyFile)
	b, err := tlsca.LoadFiles(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if b.Pin != own.Pin || b.CAFile != certFile || !slices.Equal(b.Names, []string{"control.example", "localhost", "127.0.0.1", "::1"}) ||
		!b.NotAfter.Equal(own.NotAfter) || len(b.Warnings) != 0 {
		t.Errorf("bundle %+v", b)
	}
	if err := pinnedGet(t, b, "127.0.0.1"); err != nil {
		t.Errorf("pinned: %v", err)
	}
	if err := get(t, serveHTTPS(t, b.ServerConfig()), b.ClientConfig("localhost")); err != nil {
		t.Errorf("bundle's client config: %v", err)
	}

	// A root, an intermediate and the leaf.
	root := newCA(t, "root", nil)
	inter := newCA(t, "intermediate", &root)
	leaf := newLeaf(t, inter, "control.example")
	certFile = writeCerts(t, dir, "chain.pem", leaf.cert, inter.cert, root.cert)
	keyFile = writeKey(t, dir, "chain.key", leaf.key)
	b, err = tlsca.LoadFiles(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if b.Pin != tlspin.Fingerprint(root.cert) {
		t.Errorf("pin %q; want the root's", b.Pin)
	}
	if err := pinnedGet(t, b, "control.example"); err != nil {
		t.Errorf("pinned, with an intermediate: %v", err)
	}

	// A self-signed certificate on its own is its own CA.
	self := issue(t, leafTemplate("control.example", "127.0.0.1"), nil)
	b, err = tlsca.LoadFiles(writeCerts(t, dir, "self.pem", self.cert), writeKey(t, dir, "self.key", self.key))
	if err != nil {
		t.Fatal(err)
	}
	if b.Pin != tlspin.Fingerprint(self.cert) {
		t.Errorf("self-signed: pin %q", b.Pin)
	}
	if err := pinnedGet(t, b, "127.0.0.1"); err != nil {
		t.Errorf("pinned, self-signed: %v", err)
	}

	// The key in SEC 1 form, as openssl ecparam -genkey writes it, after
	// its parameters.
	sec1, err := x509.MarshalECPrivateKey(self.key.(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	params := pem.EncodeToMemory(&pem.Block{Type: "EC PARAMETERS", Bytes: []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}})
	keyPEM := string(params) + string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}))
	if _, err := tlsca.LoadFiles(filepath.Join(dir, "self.pem"), writeFile(t, dir, "sec1.key", keyPEM, 0o600)); err != nil {
		t.Errorf("SEC 1 key: %v", err)
	}
}

func TestLoadFilesSystemTrust(t *testing.T) {
	// A chain that stops below its root is trusted through the system's
	// roots: no pin.
	dir := t.TempDir()
	root := newCA(t, "root", nil)
	inter := newCA(t, "intermediate", &root)
	leaf := newLeaf(t, inter, "control.example")
	b, err := tlsca.LoadFiles(writeCerts(t, dir, "chain.pem", leaf.cert, inter.cert), writeKey(t, dir, "chain.key", leaf.key))
	if err != nil {
		t.Fatal(err)
	}
	if b.Pin != "" || b.CAFile != "" || !slices.Equal(b.Names, []string{"control.example"}) {
		t.Errorf("bundle %+v", b)
	}
	if n := len(b.ServerConfig().Certificates[0].Certificate); n != 2 {
		t.Errorf("server presents %d certificates; want the file's 2", n)
	}
	if b.ClientConfig("control.example").RootCAs != nil {
		t.Error("client config without a private CA has roots of its own")
	}
}

func TestLoadFilesErrors(t *testing.T) {
	dir := t.TempDir()
	ensure(t, dir, testNames, time.Now())
	certFile, keyFile := filepath.Join(dir, tlsca.ServerCertFile), filepath.Join(dir, tlsca.ServerKeyFile)
	caKey := filepath.Join(dir, tlsca.CAKeyFile)

	ca := newCA(t, "ca", nil)
	expired := issue(t, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "old"},
		DNSNames:    []string{"control.example"},
		NotBefore:   time.Now().Add(-48 * time.Hour),
		NotAfter:    time.Now().Add(-time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, &ca)
	early := issue(t, &x509.Certificate{
		Subject:   pkix.Name{CommonName: "early"},
		DNSNames:  []string{"control.example"},
		NotBefore: time.Now().Add(time.Hour),
	}, &ca)
	oldCA := issue(t, &x509.Certificate{
		Subject:   pkix.Name{CommonName: "old CA"},
		IsCA:      true,
		KeyUsage:  x509.KeyUsageCertSign,
		NotBefore: time.Now().Add(-48 * time.Hour),
		NotAfter:  time.Now().Add(-time.Hour),
	}, nil)
	oldLeaf := newLeaf(t, oldCA, "control.example")
	other := newCA(t, "other", nil)
	foreign := newLeaf(t, other, "control.example")
	expiredKey := writeKey(t, dir, "expired.key", expired.key)

	for _, c := range []struct {
		name, cert, key string
		want            []string
	}{
		{"missing certificate", filepath.Join(dir, "nope.pem"), keyFile, []string{"nope.pem"}},
		{"missing key", certFile, filepath.Join(dir, "nope.key"), []string{"nope.key"}},
		{"key of another certificate", certFile, caKey, []string{"does not match the certificate", certFile}},
		{"expired", writeCerts(t, dir, "expired.pem", expired.cert, ca.cert), expiredKey, []string{"expired on"}},
		{"not yet valid", writeCerts(t, dir, "early.pem", early.cert), writeKey(t, dir, "early.key", early.key), []string{"not valid until"}},
		{"expired CA", writeCerts(t, dir, "oldca.pem", oldLeaf.cert, oldCA.cert), writeKey(t, dir, "oldca.key", oldLeaf.key), []string{"certificate 2 (old CA) of the chain", "expired on"}},
		{"chain to another root", writeCerts(t, dir, "mixed.pem", foreign.cert, ca.cert), writeKey(t, dir, "foreign.key", foreign.key), []string{"do not chain"}},
		{"garbage certificate", writeFile(t, dir, "garbage.pem", "\x00\x01not a certificate at all\n", 0o644), keyFile, []string{"no PEM certificate", "garbage.pem"}},
		{"empty certificate", writeFile(t, dir, "empty.pem", "", 0o644), keyFile, []string{"no PEM certificate"}},
		{"bad certificate DER", writeFile(t, dir, "bad.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", 0o644), keyFile, []string{"certificate 1"}},
		{"garbage key", certFile, writeFile(t, dir, "garbage.key", "not a key", 0o600), []string{"no PEM private key", "garbage.key"}},
		{"bad key DER", certFile, writeFile(t, dir, "bad.key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", 0o600), []string{"parsing the private key"}},
		{"encrypted key", certFile, writeFile(t, dir, "enc.key", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n", 0o600), []string{"encrypted"}},
		{"key anyone may write", certFile, writeFile(t, dir, "open.key", string(readFile(t, keyFile)), 0o666), []string{"anyone could have replaced the key"}},
		{"key in the certificate's place", keyFile, keyFile, []string{"no PEM certificate"}},
	} {
		_, err := tlsca.LoadFiles(c.cert, c.key)
		if err == nil {
			t.Errorf("%s: loaded", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q; want it to contain %q", c.name, err, w)
			}
		}
		if strings.HasPrefix(c.name, "missing") && !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: error %v is not fs.ErrNotExist", c.name, err)
		}
	}

	// A key group or others may read is used, with a warning.
	b, err := tlsca.LoadFiles(certFile, writeFile(t, dir, "shared.key", string(readFile(t, keyFile)), 0o640))
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Warnings) != 1 || !strings.Contains(b.Warnings[0], "shared.key") {
		t.Errorf("warnings %q", b.Warnings)
	}
}
